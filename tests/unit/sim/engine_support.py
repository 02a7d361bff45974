"""Helpers for the exchange-engine tests: a frozen-clock exchange and order requests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from catalyst.market import HK_TZ, quotation_limit
from catalyst.sim.engine.behaviour import SimBehaviour
from catalyst.sim.engine.exchange import Exchange
from catalyst.sim.engine.model import (
    Executed,
    OrderChanged,
    OrderRejected,
    OrderRequest,
    SimEvent,
)

ACCOUNT = "DU0000001"
#: A Tuesday (trading day) at 10:00 Hong Kong time: continuous morning session.
MORNING = datetime(2026, 11, 24, 10, 0, tzinfo=HK_TZ)


def make_exchange(
    start: datetime = MORNING,
    *,
    state: Path | None = None,
    fresh: bool = False,
    behaviour: SimBehaviour | None = None,
    seed: int = 7,
    cash: Decimal = Decimal("1000000"),
) -> Exchange:
    return Exchange(
        start=start, speed=0, seed=seed, state_path=state, fresh=fresh, behaviour=behaviour, initial_cash=cash
    )


def order(
    order_id: int,
    action: str = "BUY",
    quantity: int | str | Decimal = 100,
    order_type: str = "LMT",
    *,
    lmt: Decimal | str | None = None,
    aux: Decimal | str | None = None,
    symbol: str = "700",
    parent_id: int = 0,
    transmit: bool = True,
    tif: str = "",
    account: str = "",
    client_id: int = 1,
    order_ref: str = "ref",
    oca_group: str = "",
    oca_type: int = 0,
) -> OrderRequest:
    return OrderRequest(
        client_id=client_id,
        order_id=order_id,
        con_id=0,
        symbol=symbol,
        exchange="SEHK",
        currency="HKD",
        action=action,
        total_quantity=Decimal(str(quantity)),
        order_type=order_type,
        lmt_price=Decimal(str(lmt)) if lmt is not None else None,
        aux_price=Decimal(str(aux)) if aux is not None else None,
        tif=tif,
        oca_group=oca_group,
        oca_type=oca_type,
        account=account,
        order_ref=order_ref,
        transmit=transmit,
        parent_id=parent_id,
    )


def deep_bid(ex: Exchange, symbol: str = "700") -> Decimal:
    """The lowest buy HKEX accepts now (23 spreads under the bid): it rests, far from a fill."""
    q = ex.quote(symbol)
    return quotation_limit("BUY", best_bid=q.bid, best_ask=q.ask, on=ex.now())


def changes(events: Iterable[SimEvent], order_id: int | None = None) -> list[tuple[int, str, str]]:
    """(orderId, status, whyHeld) of every OrderChanged, in order."""
    return [
        (e.order.order_id, e.order.status, e.order.why_held)
        for e in events
        if isinstance(e, OrderChanged) and (order_id is None or e.order.order_id == order_id)
    ]


def errors(events: Iterable[SimEvent]) -> list[tuple[int, int]]:
    """(orderId, code) of every OrderRejected."""
    return [(e.order_id, e.code) for e in events if isinstance(e, OrderRejected)]


def fills(events: Iterable[SimEvent], order_id: int | None = None) -> list[Executed]:
    return [
        e for e in events if isinstance(e, Executed) and (order_id is None or e.order.order_id == order_id)
    ]


def status_of(ex: Exchange, order_id: int, client_id: int = 1) -> str:
    for o in ex.all_orders():
        if o.order_id == order_id and o.client_id == client_id:
            return o.status
    raise AssertionError(f"no order {order_id}")


def place_bracket(
    ex: Exchange, *, entry: Decimal, target: Decimal, stop: Decimal, qty: int = 100
) -> list[SimEvent]:
    """ib.bracketOrder's three legs, in its order: parent and target untransmitted, the stop transmits."""
    events = ex.place_order(order(1, "BUY", qty, lmt=entry, transmit=False))
    events += ex.place_order(order(2, "SELL", qty, lmt=target, parent_id=1, transmit=False))
    events += ex.place_order(order(3, "SELL", qty, "STP", aux=stop, parent_id=1, transmit=True))
    return events
