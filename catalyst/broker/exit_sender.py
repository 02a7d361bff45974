"""Send an order that closes a position now, and see that the broker took it.

A flatten (``BrokerSession.flatten``, or the bracket submitter closing what a failed bracket's
entry filled) is a marketable limit (``broker/exit_orders.py``) sent through the one placement
path (``broker/placement.py``). The steps of :meth:`ExitSender.send`:

0. (:meth:`ExitSender.flatten`, a whole position) cancel this client's working orders in the
   symbol, and join the OCA group of the exits other clients still work on its closing side;
1. price it from a fresh quote, else the caller's reference (a bracket's entry), else refuse;
2. plan it as one leg, in ``oca_group`` (ocaType 3) when one is named, and map it (rules 2, 3);
3. place it, its row given a bounded wait for the ledger (an exit is not held behind a writer);
4. wait for the broker's acknowledgement. Refused while joined to a group (IB may not join
   another client's group): once more on its own; the refused order never worked, so this cannot
   close the position twice;
5. not acknowledged: a ``flatten_unconfirmed`` risk event. An exit is never cancelled here.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Protocol

import structlog
from ib_async import Contract

from catalyst.broker.contracts_cache import SehkContract
from catalyst.broker.errors import OrderNotFoundError
from catalyst.broker.exit_orders import ExitOrder, marketable_limit, plan_exit
from catalyst.broker.placement import Ack, OrderPlacer, Recording, map_legs
from catalyst.broker.queries import Quote
from catalyst.broker.report_log import ReportedOrder
from catalyst.domain import Side
from catalyst.domain.order_status import DONE_AT_BROKER

log = structlog.get_logger(__name__)

#: The flatten part of an orderRef (``<intent>:FLAT`` or ``<run>:<symbol>:FLAT:<n>``).
_FLAT_REF = re.compile(r":FLAT(:\d+)?$")


class Quotes(Protocol):
    async def quote(self, symbol: str) -> Quote: ...


class ExitSender:
    """Closing orders (marketable limits) through one :class:`OrderPlacer`."""

    def __init__(self, placer: OrderPlacer, quotes: Quotes, *, ticks: int) -> None:
        self.placer = placer
        self.quotes = quotes
        self.ticks = ticks
        self._seq = 0

    async def flatten(self, contract: Contract, described: SehkContract, position: int) -> ExitOrder:
        """Close a whole position (``position`` signed: long > 0 sells).

        This client's working orders in the symbol are cancelled first, so a stop cannot fire into
        the flatten (other clients' orders only their owner can cancel one by one); the flatten then
        joins the OCA group of the exits other clients still work on its side, if any."""
        await self.placer.cancel_reported(self._own_working(described.symbol))
        side = Side.SELL if position > 0 else Side.BUY
        ref = f"{self.placer.recorder.run_id or 'manual'}:{described.symbol}:FLAT:{self._bump()}"
        group = self._foreign_exit_group(described.symbol, side)
        return await self.send(contract, described, side, abs(position), ref, fallback=None, oca_group=group)

    def _own_working(self, symbol: str) -> list[ReportedOrder]:
        """This client's Catalyst orders in ``symbol`` the broker still works."""
        client_id = self.placer.conn.client_id
        return [
            rep
            for rep in list(self.placer.reports.orders_by_perm.values())
            if rep.symbol == symbol
            and rep.client_id == client_id
            and rep.order_ref
            and rep.status not in DONE_AT_BROKER
            and not self.placer.done_status(rep.perm_id)
        ]

    def _foreign_exit_group(self, symbol: str, side: Side) -> str:
        """The OCA group of the exits other clients still have working on ``symbol``'s closing side
        (a bracket's stop and target whose cycle has exited), the one covering most shares; "" if
        none. A flatten that joins it (ocaType 3) reduces those legs by what it fills, so they end
        when the position does instead of working on a flat book (a naked exit); and a leg that
        fills first reduces the flatten, so the position is never closed twice."""
        cover: dict[str, Decimal] = {}
        for rep in list(self.placer.reports.orders_by_perm.values()):
            if (
                rep.symbol != symbol
                or rep.client_id == self.placer.conn.client_id
                or not rep.oca_group
                or rep.action != side.value
                or rep.status in DONE_AT_BROKER
                or self.placer.done_status(rep.perm_id)
            ):
                continue
            cover[rep.oca_group] = cover.get(rep.oca_group, Decimal(0)) + rep.quantity
        if not cover:
            return ""
        group = max(sorted(cover), key=lambda g: cover[g])
        log.warning("broker.flatten.joins_oca", symbol=symbol, oca_group=group, groups=sorted(cover))
        return group

    async def send(
        self,
        contract: Contract,
        described: SehkContract,
        side: Side,
        quantity: int,
        order_ref: str,
        *,
        fallback: Decimal | None,
        intent_id: str | None = None,
        oca_group: str = "",
    ) -> ExitOrder:
        """Place one closing order of ``quantity`` shares; returns it once the broker took it or
        the wait ended (then a ``flatten_unconfirmed`` risk event names it)."""
        price, reference = await self._price(described.symbol, side, fallback)
        plan = plan_exit(order_ref, described.symbol, side, quantity, price, oca_group=oca_group)
        legs = map_legs([plan], board_lot=described.board_lot)
        log.critical(
            "broker.flatten.place",
            symbol=described.symbol,
            side=side.value,
            quantity=quantity,
            limit=str(price),
            reference=str(reference),
            order_ref=order_ref,
        )
        what = f"flatten {described.symbol}"
        await self.placer.place(legs, contract, recording=Recording.BOUNDED, what=what, intent_id=intent_id)
        outcome = await self.placer.acknowledged(legs, ack=Ack.REACHED)
        if outcome not in ("acked", "timeout") and oca_group:
            log.critical(
                "broker.flatten.refused_in_group",
                order_ref=order_ref,
                oca_group=oca_group,
                symbol=described.symbol,
                outcome=outcome,
            )
            alone = _FLAT_REF.sub(f":FLAT:{self._bump()}", order_ref)
            return await self.send(
                contract, described, side, quantity, alone, fallback=fallback, intent_id=intent_id
            )
        if outcome != "acked":
            self.placer.recorder.risk_event(
                "flatten_unconfirmed",
                severity="critical",
                symbol=described.symbol,
                message=f"flatten {order_ref} ({side.value} {quantity}) was not acknowledged by the broker",
                detail={"order_ref": order_ref, "order_id": legs[0].order_id, "outcome": outcome},
            )
        await self.placer.recorder.flush_or_keep(what)
        return ExitOrder(order_ref, described.symbol, side, quantity, price, legs[0].order_id, reference)

    def _bump(self) -> int:
        self._seq += 1
        return self._seq

    async def _price(self, symbol: str, side: Side, fallback: Decimal | None) -> tuple[Decimal, Decimal]:
        """(limit, reference): marketable from a fresh quote, else from ``fallback``."""
        try:
            quote: Quote | None = await self.quotes.quote(symbol)
        except Exception as exc:
            log.warning("broker.exit.no_quote", symbol=symbol, error=str(exc))
            quote = None
        reference = fallback
        if reference is None and quote is not None:
            reference = quote.last or quote.close
        if reference is None:
            raise OrderNotFoundError(f"no price to flatten {symbol} at: no quote and no reference")
        return marketable_limit(
            side,
            symbol=symbol,
            bid=quote.bid if quote else None,
            ask=quote.ask if quote else None,
            last=quote.last if quote else None,
            fallback=reference,
            ticks=self.ticks,
        )
