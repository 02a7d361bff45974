"""Orders that close a position now: a marketable limit on the ladder (HKEX has no market order).

A flatten sells at the bid (buys at the ask) moved ``ticks`` further through the book, snapped
onto the ladder, so it fills like a market order while capping the price (HKEX's enhanced limit
orders reach 9 price queues; 5 ticks stays well inside that and inside the 24-spread quotation
rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

import structlog

from catalyst.broker.bracket_plan import FLATTEN, LegPlan, closing_leg
from catalyst.domain import Side
from catalyst.market import security, snap_to_tick, ticks_from

log = structlog.get_logger(__name__)

DEFAULT_FLATTEN_TICKS = 5


@dataclass(frozen=True)
class ExitOrder:
    """A closing order that was sent (what the broker said comes later, through the reports)."""

    order_ref: str
    symbol: str
    side: Side
    quantity: int
    limit_price: Decimal
    order_id: int
    reference_price: Decimal


def marketable_limit(
    side: Side,
    *,
    symbol: str,
    bid: Decimal | None,
    ask: Decimal | None,
    last: Decimal | None,
    fallback: Decimal,
    ticks: int = DEFAULT_FLATTEN_TICKS,
    on: date | None = None,
) -> tuple[Decimal, Decimal]:
    """(limit price, reference price) for an order that should fill at once.

    A sell starts from the bid, a buy from the ask; without that side of the book, the last trade,
    and without that ``fallback`` (e.g. the intent's entry).
    """
    table = security(symbol).spread_table
    book = bid if side is Side.SELL else ask
    reference = next((p for p in (book, last, fallback) if p is not None and p > 0), fallback)
    direction: Literal["up", "down"] = "down" if side is Side.SELL else "up"
    start = snap_to_tick(reference, direction, on=on, table=table)
    price = ticks_from(start, ticks, direction, table=table, on=on)
    log.info(
        "broker.exit.price",
        symbol=symbol,
        side=side.value,
        reference=str(reference),
        ticks=ticks,
        limit=str(price),
        bid=str(bid),
        ask=str(ask),
        last=str(last),
    )
    return price, reference


def plan_exit(
    order_ref: str, symbol: str, side: Side, quantity: int, price: Decimal, *, oca_group: str = ""
) -> LegPlan:
    """A flatten as one leg: a DAY limit at ``price``, in ``oca_group`` (ocaType 3) when named."""
    return closing_leg(
        FLATTEN, order_ref, symbol, side, quantity, limit_price=price, tif="DAY", oca_group=oca_group
    )
