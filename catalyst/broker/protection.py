"""Protection for a held position: a take profit and/or a stop, one OCA group, proven or cancelled.

The monitor re-places missing protection through ``BrokerSession.protect``, which resolves the
contract and hands the request here. The steps of :meth:`Protector.place`:

1. check the request: a position, at least one of stop and target, a named group not blank;
2. plan the legs (:func:`plan_protection`): take profit LMT and/or stop STP LMT (its limit a few
   ticks through the stop), GTC, sized like the position, in one OCA group of ocaType 3 (a new
   ``<run>:<symbol>:PROT<n>`` or the group named, e.g. a bracket's surviving ``<intent>:OCA``);
3. map and place them through the one placement path (``broker/placement.py``), their rows given
   a bounded wait for the ledger (protection reduces risk: a slow ledger does not hold it);
4. prove every leg like a bracket leg (side, type, quantity, prices, account, TIF), all of them
   in the group;
5. not proven: cancel what was placed, record a ``protection_unproven`` risk event and raise
   :class:`BracketVerificationError` with the evidence; what follows (the monitor closes the
   position) is the caller's decision.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import NoReturn

from ib_async import Contract

from catalyst.broker.bracket_plan import STOP_LOSS, TAKE_PROFIT, LegPlan, closing_leg, stop_limit_price
from catalyst.broker.contracts_cache import SehkContract
from catalyst.broker.errors import BracketVerificationError, NotWholeLotsError, ProtectionRequestError
from catalyst.broker.placement import Ack, OrderPlacer, PlacedLeg, Proof, Recording, map_legs
from catalyst.domain import OrderType, Side
from catalyst.market import security


@dataclass(frozen=True)
class ProtectionRequest:
    """What to place for a held position (``quantity`` signed like it: long > 0 places SELLs)."""

    symbol: str
    quantity: int
    stop: Decimal | None
    target: Decimal | None
    oca_group: str | None = None

    def check(self) -> None:
        """Raise before anything is planned when the request names nothing sensible to place."""
        if self.quantity == 0:
            raise NotWholeLotsError(f"there is no position in {self.symbol} to protect")
        if self.stop is None and self.target is None:
            raise ProtectionRequestError(f"protect {self.symbol}: neither a stop nor a target to place")
        if self.oca_group is not None and not self.oca_group.strip():
            raise ProtectionRequestError(f"protect {self.symbol}: the OCA group to join is blank")


def plan_protection(
    request: ProtectionRequest, *, base_ref: str, group: str, stop_limit_ticks: int
) -> list[LegPlan]:
    """The take profit (if a target) then the stop (if a stop), each the position's full size."""
    side = Side.SELL if request.quantity > 0 else Side.BUY
    take_profit = closing_leg(
        TAKE_PROFIT,
        f"{base_ref}:TP",
        request.symbol,
        side,
        abs(int(request.quantity)),
        limit_price=request.target,
        tif="GTC",
        oca_group=group,
    )
    plans = [take_profit] if request.target is not None else []
    if request.stop is not None:
        table = security(request.symbol).spread_table
        plans.append(
            dataclasses.replace(
                take_profit,
                role=STOP_LOSS,
                order_ref=f"{base_ref}:SL",
                order_type=OrderType.STOP_LIMIT,
                limit_price=stop_limit_price(request.stop, side, stop_limit_ticks, table=table, on=None),
                stop_price=request.stop,
            )
        )
    return plans


class Protector:
    """Places and proves protection through one :class:`OrderPlacer`."""

    def __init__(self, placer: OrderPlacer, *, stop_limit_ticks: int) -> None:
        self.placer = placer
        self.stop_limit_ticks = stop_limit_ticks
        self._seq = 0

    async def place(
        self, request: ProtectionRequest, contract: Contract, described: SehkContract
    ) -> list[str]:
        """Place, prove, or cancel and raise; returns the orderRefs placed (take profit first)."""
        request.check()
        self._seq += 1
        base_ref = f"{self.placer.recorder.run_id or 'manual'}:{described.symbol}:PROT{self._seq}"
        group = request.oca_group or base_ref
        plans = plan_protection(
            request, base_ref=base_ref, group=group, stop_limit_ticks=self.stop_limit_ticks
        )
        legs = map_legs(plans, board_lot=described.board_lot)
        what = f"protect {described.symbol}"
        await self.placer.place(legs, contract, recording=Recording.BOUNDED, what=what, ledger_role="protect")
        proof = await self.placer.prove(legs, ack=Ack.WORKING, con_id=described.con_id, oca_group=group)
        if not proof.proven:
            await self._unproven(described.symbol, legs, proof)
        await self.placer.recorder.flush_or_keep(what)
        return [plan.order_ref for plan in plans]

    async def _unproven(self, symbol: str, legs: list[PlacedLeg], proof: Proof) -> NoReturn:
        cancelled = await self.placer.cancel(legs)
        evidence = {**proof.evidence(), "cancelled": cancelled}
        problems = "; ".join(proof.problems)
        self.placer.recorder.risk_event(
            "protection_unproven",
            severity="critical",
            symbol=symbol,
            message=f"protective orders for {symbol} not proven: {problems}",
            detail=evidence,
        )
        await self.placer.recorder.flush_or_keep(f"protect {symbol}")
        raise BracketVerificationError(
            f"protection for {symbol} was not proven at the broker ({problems}); the orders placed "
            "were cancelled",
            evidence,
        )
