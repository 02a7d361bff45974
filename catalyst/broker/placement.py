"""The one path an order takes to the broker: map, record, place, prove, or cancel.

Brackets (``broker/bracket_submit.py``), protective re-placement (``broker/protection.py``) and
exits (``broker/exit_sender.py``) all send through :class:`OrderPlacer`; nothing else in
Catalyst calls ib_async's ``placeOrder`` or ``cancelOrder``
(``tests/unit/broker/test_one_order_path.py`` checks it). The steps:

1. :func:`map_legs`: every planned leg through the explicit tables (side, order type; rule 2) and
   to wire values (a Decimal on the HKEX ladder, whole board lots; rule 3). A refusal raises
   before anything is sent;
2. :meth:`OrderPlacer.place`: an order id per leg, each leg's ledger row, then ``placeOrder`` leg
   by leg. ``Recording.BEFORE_SEND`` (an entry) commits the rows, with the intent's, in one
   transaction, and sends nothing if that fails (:class:`OrdersNotRecordedError`);
   ``Recording.BOUNDED`` (an exit: it reduces risk) waits a bounded time for the ledger and sends
   anyway, the rows kept queued and the failure logged critical;
3. :meth:`OrderPlacer.prove`: wait, woken by the broker's messages and never by a sleep, until
   every leg is acknowledged by the ``Ack`` rule, refused, or the proof times out; then compare
   each leg as the broker reports it with its plan (``broker/bracket_proof.py``). The answer is a
   :class:`Proof`: an acknowledgement is never taken on trust (rule 1);
4. :meth:`OrderPlacer.cancel`: every leg that exists at the broker, waiting for its end.

What a failed proof leads to (cancel, flatten what filled, a risk event, an error) is the
caller's decision, taken from the :class:`Proof`: the placer never calls back.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

import structlog
from ib_async import Contract, Order
from ib_async.util import UNSET_DOUBLE

from catalyst.broker.bracket_plan import LegPlan
from catalyst.broker.bracket_proof import (
    LegReport,
    bracket_problems,
    broker_status,
    check_leg,
    is_acknowledged,
)
from catalyst.broker.connection import BrokerConnection
from catalyst.broker.errors import OrdersNotRecordedError, PlacementConnectionLostError
from catalyst.broker.order_mapping import ib_action, ib_order_type, price_to_wire, quantity_to_wire
from catalyst.broker.order_recorder import LedgerRecorder
from catalyst.broker.report_log import BrokerReports, ReportedOrder, ReportedStatus
from catalyst.domain import OrderStatus
from catalyst.domain.order_status import DONE_AT_BROKER

log = structlog.get_logger(__name__)

#: Longest wait, in seconds, for the ledger to commit an exit's rows before the exit is sent anyway.
EXIT_RECORD_WAIT = 2.0
#: IB's answers to a cancel of an order that is already gone (10147, 10148) or was just cancelled (202).
_CANCEL_ENDS = (10147, 10148, 202)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class WireLeg:
    """A leg in the exact values ib_async will send."""

    action: str
    order_type: str
    quantity: Decimal
    limit_price: float | None
    stop_price: float | None


def wire_leg(plan: LegPlan, *, board_lot: int) -> WireLeg:
    """Map one planned leg to wire values; every refusal raises before anything is sent."""
    return WireLeg(
        action=ib_action(plan.side),
        order_type=ib_order_type(plan.order_type),
        quantity=quantity_to_wire(plan.quantity, symbol=plan.symbol, board_lot=board_lot),
        limit_price=(
            price_to_wire(plan.limit_price, symbol=plan.symbol, role=f"{plan.role} limit")
            if plan.limit_price is not None
            else None
        ),
        stop_price=(
            price_to_wire(plan.stop_price, symbol=plan.symbol, role=f"{plan.role} stop")
            if plan.stop_price is not None
            else None
        ),
    )


def ib_order(plan: LegPlan, wire: WireLeg, *, order_id: int, account: str, parent_id: int = 0) -> Order:
    """The IB order for one planned leg, from its wire values: the one place an ``Order`` is built."""
    return Order(
        orderId=order_id,
        action=wire.action,
        totalQuantity=wire.quantity,  # type: ignore[arg-type]
        orderType=wire.order_type,
        lmtPrice=wire.limit_price if wire.limit_price is not None else UNSET_DOUBLE,
        auxPrice=wire.stop_price if wire.stop_price is not None else UNSET_DOUBLE,
        tif=plan.tif,
        account=account,
        orderRef=plan.order_ref,
        transmit=plan.transmit,
        parentId=parent_id if plan.is_child else 0,
        ocaGroup=plan.oca_group,
        ocaType=plan.oca_type,
        outsideRth=False,
    )


@dataclass
class PlacedLeg:
    """A leg on its way: the plan, its wire values, and where the broker knows it."""

    plan: LegPlan
    wire: WireLeg
    client_id: int = 0
    order_id: int = 0
    perm_id: int = 0
    placed_at: datetime | None = None
    acked_at: datetime | None = None
    adopted_from: ReportedOrder | None = None
    duplicates: int = 0


def map_legs(plans: Iterable[LegPlan], *, board_lot: int) -> list[PlacedLeg]:
    """Every planned leg through the mapping tables and to wire values (rules 2 and 3)."""
    return [PlacedLeg(plan=p, wire=wire_leg(p, board_lot=board_lot)) for p in plans]


def fresh(legs: Iterable[PlacedLeg]) -> list[PlacedLeg]:
    """The same plans and wire values, unplaced (a new attempt after a dropped connection)."""
    return [PlacedLeg(plan=leg.plan, wire=leg.wire) for leg in legs]


class Recording(Enum):
    """How a leg's ledger row must be written before ``placeOrder``."""

    #: committed (with the intent's row) in one transaction, or nothing is sent: an entry
    BEFORE_SEND = "before_send"
    #: a bounded wait (``EXIT_RECORD_WAIT``), then sent anyway, the rows kept queued: an exit
    BOUNDED = "bounded"


class Ack(Enum):
    """When the broker has acknowledged a leg."""

    #: working or filled with a permId (PreSubmitted, Submitted, Filled); any other end fails
    WORKING = "working"
    #: as WORKING, and a leg already done counts (an adopted bracket: filled, or cancelled by OCA)
    ADOPTED = "adopted"
    #: a closing order: a permId or any end but Inactive (reduced to nothing by its OCA group counts)
    REACHED = "reached"


@dataclass(frozen=True)
class Proof:
    """What the broker's own reports say of placed legs, compared with their plans."""

    #: ``acked``; ``disconnected``; ``timeout``; or why a leg failed, as the broker said it
    outcome: str
    reports: tuple[LegReport, ...]
    problems: tuple[str, ...]

    @property
    def proven(self) -> bool:
        return not self.problems

    def evidence(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "problems": list(self.problems),
            "legs": [
                {
                    "role": r.role,
                    "order_ref": r.order_ref,
                    "intended": r.intended,
                    "reported": r.reported,
                    "problems": list(r.problems),
                }
                for r in self.reports
            ],
        }


class OrderPlacer:
    """Places, proves and cancels planned legs over one :class:`BrokerConnection`."""

    def __init__(
        self,
        connection: BrokerConnection,
        reports: BrokerReports,
        recorder: LedgerRecorder,
        *,
        proof_timeout: float,
    ) -> None:
        self.conn = connection
        self.reports = reports
        self.recorder = recorder
        self.proof_timeout = proof_timeout

    # -- placing -----------------------------------------------------------------------------------

    async def place(
        self,
        legs: Sequence[PlacedLeg],
        contract: Contract,
        *,
        recording: Recording,
        what: str,
        intent_id: str | None = None,
        intent_row: Mapping[str, Any] | None = None,
        ledger_role: str | None = None,
    ) -> None:
        """Order ids, ledger rows, then ``placeOrder`` for each leg in the order given.

        A child leg is linked to the first leg (its parent). Raises :class:`OrdersNotRecordedError`
        (``BEFORE_SEND`` only: nothing was sent) or :class:`PlacementConnectionLostError` (the
        connection dropped before or while the legs were sent).
        """
        epoch = self.conn.epoch
        self._assign_ids(legs)
        parent_ref = legs[0].plan.order_ref
        rows = [
            self.ledger_row(leg, intent_id=intent_id, parent_ref=parent_ref, role=ledger_role) for leg in legs
        ]
        await self._record(rows, recording, what=what, intent_row=intent_row)
        placed_at = _now()
        for leg in legs:
            leg.placed_at = placed_at
        if recording is Recording.BEFORE_SEND and (self.conn.epoch != epoch or not self.conn.connected):
            raise PlacementConnectionLostError(f"the connection dropped while {what} was being recorded")
        for leg in legs:
            self._send(leg, contract, parent_id=legs[0].order_id, what=what)

    def _assign_ids(self, legs: Sequence[PlacedLeg]) -> None:
        try:
            for leg in legs:
                leg.order_id = self.conn.ib.client.getReqId()
                leg.client_id = self.conn.client_id
        except ConnectionError as exc:
            raise PlacementConnectionLostError(str(exc)) from exc

    def ledger_row(
        self, leg: PlacedLeg, *, intent_id: str | None, parent_ref: str | None, role: str | None = None
    ) -> dict[str, Any]:
        """The leg's orders row (``role`` None: the plan's role)."""
        plan = leg.plan
        return {
            "order_ref": plan.order_ref,
            "intent_id": intent_id,
            "run_id": self.recorder.run_id,
            "role": role or plan.role,
            "account": self.conn.account,
            "symbol": plan.symbol,
            "side": plan.side.value,
            "order_type": plan.order_type.value,
            "quantity": plan.quantity,
            "limit_price": plan.limit_price,
            "stop_price": plan.stop_price,
            "tif": plan.tif,
            "parent_ref": parent_ref if plan.is_child else None,
            "oca_group": plan.oca_group or None,
            "client_id": leg.client_id or None,
            "order_id": leg.order_id or None,
            "perm_id": leg.perm_id or None,
        }

    async def _record(
        self,
        rows: list[dict[str, Any]],
        recording: Recording,
        *,
        what: str,
        intent_row: Mapping[str, Any] | None,
    ) -> None:
        if recording is Recording.BEFORE_SEND:
            pending = [{**row, "status": "pending_submit"} for row in rows]
            try:  # the intent and every leg, committed together before anything is sent
                await self.recorder.record_orders(pending, intent=intent_row)
            except Exception as exc:
                log.critical("broker.place.orders_not_recorded", what=what, error=str(exc))
                raise OrdersNotRecordedError(
                    f"{what} was not sent: the ledger could not record its orders before sending "
                    f"({type(exc).__name__}: {exc}). Check that the ledger is writable"
                ) from exc
        else:
            sent = [{**row, "status": "sent", "placed_at": _now()} for row in rows]
            await self._record_bounded(sent, what)

    async def _record_bounded(self, rows: list[dict[str, Any]], what: str) -> None:
        """Commit an exit's rows before it is sent, waiting at most ``EXIT_RECORD_WAIT``.

        Unlike an entry, an exit reduces risk: a ledger that cannot be written does not stop it.
        The rows stay tracked (the next flush retries them), the failure is logged critical, and
        reconciliation adopts the order from its Catalyst orderRef if the rows never land; a
        commit still under way when the wait ends completes on its own."""
        try:
            await asyncio.wait_for(asyncio.shield(self.recorder.record_orders(rows)), EXIT_RECORD_WAIT)
        except Exception as exc:
            log.critical(
                "broker.ledger.exit_unrecorded",
                what=what,
                order_refs=[r["order_ref"] for r in rows],
                error=f"{type(exc).__name__}: {exc}",
            )
            for row in rows:
                self.recorder.track_order(row)  # queued: the next flush that can write takes them

    def _send(self, leg: PlacedLeg, contract: Contract, *, parent_id: int, what: str) -> None:
        order = ib_order(
            leg.plan, leg.wire, order_id=leg.order_id, account=self.conn.account, parent_id=parent_id
        )
        log.warning(
            "broker.place",
            what=what,
            role=leg.plan.role,
            order_ref=leg.plan.order_ref,
            order_id=leg.order_id,
            parent_id=order.parentId,
            action=order.action,
            quantity=str(order.totalQuantity),
            order_type=order.orderType,
            limit=leg.wire.limit_price,
            stop=leg.wire.stop_price,
            tif=order.tif,
            account=order.account,
            oca_group=order.ocaGroup,
            oca_type=order.ocaType,
            transmit=order.transmit,
            con_id=contract.conId,
        )
        try:
            self.conn.ib.placeOrder(contract, order)
        except ConnectionError as exc:
            raise PlacementConnectionLostError(str(exc)) from exc
        # handed to the client library; the broker's answer moves it on (queued, not awaited)
        self.recorder.update_order(leg.plan.order_ref, status="sent", placed_at=leg.placed_at)

    # -- proving -----------------------------------------------------------------------------------

    async def acknowledged(self, legs: Sequence[PlacedLeg], *, ack: Ack, epoch: int | None = None) -> str:
        """Wait, woken by broker messages, for every leg's acknowledgement (the ``ack`` rule).

        ``acked``; ``disconnected`` (``epoch`` given and the connection changed); ``timeout``;
        or the first failure the broker reported."""
        outcome = await self.reports.wait_for(lambda: self._probe(legs, ack, epoch), self.proof_timeout)
        return outcome or "timeout"

    async def prove(
        self,
        legs: Sequence[PlacedLeg],
        *,
        ack: Ack,
        con_id: int,
        epoch: int | None = None,
        oca_group: str | None = None,
    ) -> Proof:
        """Acknowledged, then every leg as the broker reports it equal to its plan: child legs
        linked to the first leg, children in one OCA group (``oca_group``: every leg in that one)."""
        outcome = await self.acknowledged(legs, ack=ack, epoch=epoch)
        reports = self.leg_reports(legs, con_id=con_id, allow_done=ack is not Ack.WORKING)
        problems = bracket_problems(reports)
        if oca_group is not None:
            groups = {r.reported["oca_group"] for r in reports if r.reported}
            if groups != {oca_group}:
                problems.append(f"orders not in OCA group {oca_group}: {sorted(groups)}")
        if outcome == "timeout":
            problems.insert(0, f"no complete acknowledgement within {self.proof_timeout:.1f}s")
        elif outcome != "acked":
            problems.insert(0, outcome)
        duplicates = [leg.plan.role for leg in legs if leg.duplicates]
        if duplicates:
            problems.append(f"several broker orders share the orderRef of {', '.join(duplicates)}")
        return Proof(outcome, tuple(reports), tuple(problems))

    def view(self, leg: PlacedLeg) -> tuple[ReportedOrder | None, ReportedStatus | None]:
        """The broker's newest openOrder/completedOrder and orderStatus of a leg (learning its permId)."""
        order = self.reports.latest_order(client_id=leg.client_id, order_id=leg.order_id, perm_id=leg.perm_id)
        if order is not None and order.perm_id and not leg.perm_id:
            leg.perm_id = order.perm_id
        status = self.reports.latest_status(
            client_id=leg.client_id, order_id=leg.order_id, perm_id=leg.perm_id
        )
        if status is not None and status.perm_id and not leg.perm_id:
            leg.perm_id = status.perm_id
        if order is None and leg.adopted_from is not None:
            order = leg.adopted_from
        return order, status

    def _probe(self, legs: Sequence[PlacedLeg], ack: Ack, epoch: int | None) -> str | None:
        if epoch is not None and (self.conn.epoch != epoch or not self.conn.connected):
            return "disconnected"
        acked = 0
        for leg in legs:
            failure = self._refusal(leg)
            order, status = self.view(leg)
            state = failure or _ack_state(leg, order, status, ack)
            if state is None:
                continue
            if state != "acked":
                return state
            if leg.acked_at is None:
                leg.acked_at = _now()
            acked += 1
        return "acked" if acked == len(legs) else None

    def _refusal(self, leg: PlacedLeg) -> str | None:
        if leg.placed_at is None:
            return None
        since = leg.placed_at - timedelta(seconds=1)
        failures = [e for e in self.reports.errors_for_order(leg.order_id, since=since) if e.is_order_failure]
        if not failures:
            return None
        return f"{leg.plan.role} refused by the broker: error {failures[0].code} {failures[0].message}"

    def leg_reports(self, legs: Sequence[PlacedLeg], *, con_id: int, allow_done: bool) -> list[LegReport]:
        """Each leg compared with its plan (``broker/bracket_proof.check_leg``)."""
        views = [self.view(leg) for leg in legs]
        parent = views[0][0]
        if parent is not None and not parent.order_id and legs[0].order_id:
            # an adopted entry that completed (filled) is reported without its order id, which its
            # children name as their parent: take the id its fills (or the ledger) gave
            parent = dataclasses.replace(parent, order_id=legs[0].order_id, client_id=legs[0].client_id)
        return [
            check_leg(
                leg.plan,
                order,
                status,
                account=self.conn.account,
                con_id=con_id,
                parent=parent if leg.plan.is_child else None,
                allow_done=allow_done,
            )
            for leg, (order, status) in zip(legs, views, strict=True)
        ]

    def filled(self, leg: PlacedLeg) -> int:
        """Shares of the leg filled, by its status or its executions, whichever says more."""
        _order, status = self.view(leg)
        by_status = int(status.filled) if status is not None else 0
        by_exec = sum(
            int(e.shares)
            for e in self.reports.executions_for(perm_id=leg.perm_id, order_ref=leg.plan.order_ref)
        )
        return max(by_status, by_exec)

    # -- cancelling --------------------------------------------------------------------------------

    async def cancel(self, legs: Sequence[PlacedLeg]) -> list[str]:
        """Cancel every leg this client placed that the broker still works, then wait, woken by
        broker messages, until each is done (a proof timeout at most). Returns the orderRefs sent
        a cancel."""
        targets = [leg for leg in legs if self._cancellable(leg)]
        cancelled = [leg.plan.order_ref for leg in targets if self._request_cancel(leg)]
        if targets:
            done = await self.reports.wait_for(lambda: self._all_done(targets), self.proof_timeout)
            if done is None:
                log.critical("broker.cancel.unconfirmed", order_refs=[leg.plan.order_ref for leg in targets])
        return cancelled

    def _cancellable(self, leg: PlacedLeg) -> bool:
        if not leg.order_id or broker_status(*self.view(leg)) in DONE_AT_BROKER:
            return False
        if leg.client_id and leg.client_id != self.conn.client_id:
            log.critical(
                "broker.cancel.foreign_client", order_ref=leg.plan.order_ref, client_id=leg.client_id
            )
            return False
        return True

    def _request_cancel(self, leg: PlacedLeg) -> bool:
        try:
            self._cancel_request(leg.plan.order_ref, leg.order_id, leg.perm_id)
        except ConnectionError as exc:
            log.critical("broker.cancel.not_connected", order_ref=leg.plan.order_ref, error=str(exc))
            return False
        return True

    def _cancel_request(self, order_ref: str, order_id: int, perm_id: int) -> None:
        log.warning("broker.cancel.request", order_ref=order_ref, order_id=order_id, perm_id=perm_id)
        self.conn.ib.cancelOrder(Order(orderId=order_id, clientId=self.conn.client_id, permId=perm_id))
        self.recorder.order_event(
            order_ref, source="cancel", status="cancel_requested", perm_id=perm_id or None, order_id=order_id
        )

    def _all_done(self, legs: Sequence[PlacedLeg]) -> bool | None:
        for leg in legs:
            order, status = self.view(leg)
            if order is None and status is None:
                continue  # never reached the broker (held or dropped): nothing to wait for
            if broker_status(order, status) not in DONE_AT_BROKER and not any(
                e.code in _CANCEL_ENDS for e in self.reports.errors_for_order(leg.order_id)
            ):
                return None
        return True

    async def cancel_reported(self, orders: Sequence[ReportedOrder]) -> bool:
        """Cancel working orders of this client that the broker reported, all at once, then wait,
        woken by broker messages, until each is done: one wait for all (a flatten after a stop
        breach must not wait for one confirmation after another). True when all are done."""
        for rep in orders:
            self._cancel_request(rep.order_ref, rep.order_id, rep.perm_id)
        if not orders:
            return True
        done = await self.reports.wait_for(
            lambda: True if all(self.done_status(rep.perm_id) for rep in orders) else None, self.proof_timeout
        )
        return done is not None

    def done_status(self, perm_id: int) -> str | None:
        """The end the broker reported for an order (its orderStatus first); None while it works."""
        latest = self.reports.latest_order(perm_id=perm_id)
        status = self.reports.latest_status(perm_id=perm_id)
        for said in (status.status if status else None, latest.status if latest else None):
            if said in DONE_AT_BROKER:
                return said
        return None


def _ack_state(
    leg: PlacedLeg, order: ReportedOrder | None, status: ReportedStatus | None, ack: Ack
) -> str | None:
    """``acked``, a failure, or None (not yet) for one leg under the ``ack`` rule."""
    state = broker_status(order, status)
    if ack is Ack.REACHED:
        said = (status.status if status else None, order.status if order else None)
        if OrderStatus.INACTIVE in said:
            return f"{leg.plan.role} is Inactive at the broker"  # IB's end of a refusal: it never worked
        if (order is not None and order.perm_id) or (status is not None and status.status in DONE_AT_BROKER):
            return "acked"  # working, filled, or reduced to nothing by its OCA group
        return None
    if state in DONE_AT_BROKER and state != OrderStatus.FILLED and ack is Ack.WORKING:
        return f"{leg.plan.role} is {state} at the broker"
    finished = ack is Ack.ADOPTED and state in DONE_AT_BROKER
    if order is not None and (is_acknowledged(order, status) or finished):
        return "acked"
    return None
