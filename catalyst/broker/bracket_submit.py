"""Submit a bracket, prove it at the broker (rule 1), or undo it.

Order of work for :meth:`BracketSubmitter.submit`:

1. map and check every leg (side and type tables, ladder, whole lots): a refusal here raises
   before anything is sent, and is recorded as a rejected intent;
2. take the symbol's exit lease (``exits:<account>:<symbol>``, waiting a bounded time while the
   monitor repairs that symbol; still held: refused, nothing sent) and hold it until the proof
   and any failure path (cancel, flatten) have finished, so the monitor leaves the symbol alone
   while its bracket is being proven and the two never act on its exits at once (this
   submitter's own brackets in one symbol share the hold: ``symbol_exits``);
3. look for legs with the intent's orderRefs in what the broker reported (open orders of all
   clients, completed orders and executions, refreshed at every (re)connect): all three found are
   adopted, none found are placed (entry, take profit, stop loss with transmit False/False/True);
   a partial set is a failure. Before ``placeOrder`` the intent row (``submitted``) and every
   leg's order row (orderRef, order id, client id, status ``pending_submit``) are committed to the
   ledger in one transaction; if that write fails nothing is sent (:class:`OrdersNotRecordedError`);
4. wait, woken by each broker message and never by a sleep, until the broker reports every leg
   with a permId and a status of PreSubmitted/Submitted/Filled, or an error/cancel arrives, or the
   proof times out; a dropped connection waits for the reconnect and retries from step 3, so a
   bracket cut in the middle is never sent twice;
5. compare each leg as the broker reports it with the plan;
6. on any failure: cancel every leg that exists, flatten whatever the entry filled, record a
   ``bracket_unproven`` risk event and raise :class:`BracketVerificationError` with the evidence.

The outcome (``proven`` or ``failed``) is committed before the exit lease is released.
``adopt_only`` (a rerun resuming a crashed run's intent) never places: no leg at the broker is
:class:`NothingToAdoptError`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import structlog
from ib_async import Contract, Order
from ib_async.util import UNSET_DOUBLE

from catalyst.broker.bracket_plan import ENTRY, STOP_LOSS, TAKE_PROFIT, LegPlan, plan_bracket
from catalyst.broker.bracket_proof import (
    LegReport,
    bracket_problems,
    broker_status,
    check_leg,
    is_acknowledged,
)
from catalyst.broker.connection import BrokerConnection
from catalyst.broker.contracts_cache import ContractsCache, SehkContract
from catalyst.broker.crash_points import crash_point
from catalyst.broker.errors import (
    AccountNotManagedError,
    BracketVerificationError,
    NothingToAdoptError,
    OrdersNotRecordedError,
    ReadOnlySessionError,
    SymbolExitsBusyError,
)
from catalyst.broker.order_mapping import ib_action, ib_order_type, price_to_wire, quantity_to_wire
from catalyst.broker.order_recorder import LedgerRecorder
from catalyst.broker.report_log import BrokerReports, ReportedOrder, ReportedStatus
from catalyst.broker.symbol_exits import SymbolExitLeases
from catalyst.domain import BracketIntent, OrderType, Side
from catalyst.domain.order_status import DONE_AT_BROKER
from catalyst.ledger.errors import LeaseHeldError

log = structlog.get_logger(__name__)

#: Flatten hook: (intent, contract, described, side, quantity) -> the flatten's orderRef or None.
Flattener = Callable[[BracketIntent, Contract, SehkContract, Side, int], Awaitable[str | None]]


class _ConnectionDropped(Exception):
    """The connection went away while a bracket was being placed or proven."""


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


@dataclass(frozen=True)
class VerifiedLeg:
    role: str
    order_ref: str
    order_id: int
    perm_id: int
    client_id: int
    side: Side
    order_type: OrderType
    quantity: int
    limit_price: Decimal | None
    stop_price: Decimal | None
    status: str
    placed_at: datetime | None
    acknowledged_at: datetime | None


@dataclass(frozen=True)
class VerifiedBracket:
    """A bracket the broker reported leg by leg exactly as intended."""

    intent_id: str
    symbol: str
    account: str
    entry: VerifiedLeg
    take_profit: VerifiedLeg
    stop_loss: VerifiedLeg
    adopted: bool
    proven_at: datetime
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def legs(self) -> tuple[VerifiedLeg, VerifiedLeg, VerifiedLeg]:
        return (self.entry, self.take_profit, self.stop_loss)


@dataclass
class _Leg:
    """A leg during one attempt: the plan, and where the broker knows it."""

    plan: LegPlan
    wire: WireLeg
    client_id: int = 0
    order_id: int = 0
    perm_id: int = 0
    placed_at: datetime | None = None
    acked_at: datetime | None = None
    adopted_from: ReportedOrder | None = None
    duplicates: int = 0


class BracketSubmitter:
    """Places and proves brackets over one :class:`BrokerConnection`."""

    def __init__(
        self,
        connection: BrokerConnection,
        reports: BrokerReports,
        contracts: ContractsCache,
        recorder: LedgerRecorder,
        *,
        flattener: Flattener,
        proof_timeout: float,
        hold_timeout: float,
        stop_limit_ticks: int,
        exit_tif: str = "GTC",
        max_attempts: int = 3,
        state_dir: Path | str | None = None,
        exits_wait: float = 35.0,
    ) -> None:
        self.conn = connection
        self.reports = reports
        self.contracts = contracts
        self.recorder = recorder
        self.flattener = flattener
        self.proof_timeout = proof_timeout
        self.hold_timeout = hold_timeout
        self.stop_limit_ticks = stop_limit_ticks
        self.exit_tif = exit_tif
        self.max_attempts = max_attempts
        #: the symbols' exit leases, in the settings' state dir; None: no lease (a bare test)
        self.exit_leases = (
            SymbolExitLeases(state_dir, run_id=recorder.run_id) if state_dir is not None else None
        )
        #: how long to wait for the monitor to finish with a symbol before refusing its bracket
        self.exits_wait = exits_wait

    # -- public ------------------------------------------------------------------------------------

    async def submit(self, intent: BracketIntent, *, adopt_only: bool = False) -> VerifiedBracket:
        if self.conn.readonly:
            raise ReadOnlySessionError(
                f"this broker session is read-only; bracket {intent.intent_id} was not sent. Open a "
                "session with broker.readonly = false to trade"
            )
        log.info(
            "broker.submit.request",
            intent_id=intent.intent_id,
            symbol=intent.symbol,
            side=str(intent.side),
            quantity=intent.quantity,
            entry=str(intent.entry),
            stop=str(intent.stop),
            target=str(intent.target),
            account=intent.account,
            adopt_only=adopt_only,
        )
        await self.conn.wait_ready(self.hold_timeout)
        account = self.conn.account
        try:
            if intent.account and intent.account != account:
                raise AccountNotManagedError(
                    f"intent {intent.intent_id} is for account {intent.account}, this session trades "
                    f"{account}; nothing was sent"
                )
            plans = plan_bracket(intent, stop_limit_ticks=self.stop_limit_ticks, exit_tif=self.exit_tif)
            contract, described = await self.contracts.resolve(intent.symbol)
            legs = [_Leg(plan=p, wire=wire_leg(p, board_lot=described.board_lot)) for p in plans]
            await self._take_exits_lease(intent, account)
        except Exception as exc:
            # a resumed intent keeps its status: a later rerun may still adopt its legs
            await self._refused(intent, account, exc, record_intent=not adopt_only)
            raise
        try:
            return await self._submit_holding_lease(intent, account, legs, contract, described, adopt_only)
        finally:
            if self.exit_leases is not None:
                self.exit_leases.give_back(account, intent.symbol)

    async def _take_exits_lease(self, intent: BracketIntent, account: str) -> None:
        """The symbol's exit lease, waiting up to ``exits_wait`` for the monitor to finish with it."""
        if self.exit_leases is None:
            return
        try:
            await self.exit_leases.take(
                account, intent.symbol, purpose=f"bracket {intent.intent_id}", wait=self.exits_wait
            )
        except LeaseHeldError as exc:
            raise SymbolExitsBusyError(
                f"bracket {intent.intent_id} ({intent.symbol}) was not sent: another process is acting "
                f"on {intent.symbol}'s exit orders ({exc}). Run the cycle again once it has finished"
            ) from exc

    async def _refused(
        self, intent: BracketIntent, account: str, exc: Exception, *, record_intent: bool = True
    ) -> None:
        """Record a bracket refused before anything was sent (a rejected intent and a risk event)."""
        try:
            if record_intent:
                await self.recorder.write_intent(
                    self._intent_row(intent, account, "rejected", {"error": str(exc)})
                )
        except Exception as ledger_exc:  # the refusal itself must reach the caller
            log.critical(
                "broker.submit.refusal_not_recorded", intent_id=intent.intent_id, error=str(ledger_exc)
            )
        self.recorder.risk_event(
            "order_refused",
            severity="warning",
            symbol=intent.symbol,
            message=f"bracket {intent.intent_id} refused before sending: {exc}",
            detail={"intent_id": intent.intent_id, "error": type(exc).__name__},
        )
        with contextlib.suppress(Exception):
            await self.recorder.flush()

    async def _submit_holding_lease(
        self,
        intent: BracketIntent,
        account: str,
        legs: list[_Leg],
        contract: Contract,
        described: SehkContract,
        adopt_only: bool,
    ) -> VerifiedBracket:
        last_error = ""
        for attempt in range(1, self.max_attempts + 1):
            await self.conn.wait_ready(self.hold_timeout)
            fresh = [_Leg(plan=leg.plan, wire=leg.wire) for leg in legs]
            try:
                return await self._attempt(intent, fresh, contract, described, attempt, adopt_only)
            except _ConnectionDropped as exc:
                last_error = str(exc)
                log.warning("broker.submit.connection_dropped", intent_id=intent.intent_id, attempt=attempt)
        await self._fail(
            intent,
            legs,
            contract,
            described,
            f"the connection dropped {self.max_attempts} times while bracket {intent.intent_id} was "
            f"being proven ({last_error})",
            {},
        )

    # -- one attempt -------------------------------------------------------------------------------

    async def _attempt(
        self,
        intent: BracketIntent,
        legs: list[_Leg],
        contract: Contract,
        described: SehkContract,
        attempt: int,
        adopt_only: bool = False,
    ) -> VerifiedBracket:
        epoch = self.conn.epoch
        found = {leg.plan.role: self.reports.orders_with_ref(leg.plan.order_ref) for leg in legs}
        filled_refs = {
            e.order_ref
            for e in self.reports.executions.values()
            if e.order_ref in {leg.plan.order_ref for leg in legs}
        }
        present = [leg for leg in legs if found[leg.plan.role] or leg.plan.order_ref in filled_refs]
        log.info(
            "broker.submit.idempotency_check",
            intent_id=intent.intent_id,
            attempt=attempt,
            found={role: [r.perm_id for r in reps] for role, reps in found.items()},
            executions=sorted(filled_refs),
        )
        adopted = bool(present)
        if present and len(present) < len(legs):
            for leg in present:
                self._adopt(intent, leg, found[leg.plan.role])
            missing = [leg.plan.role for leg in legs if leg not in present]
            await self._fail(
                intent,
                legs,
                contract,
                described,
                f"bracket {intent.intent_id} is incomplete at the broker: {', '.join(missing)} missing "
                "(a rerun found only part of it)",
                {},
            )
        if adopted:
            for leg in legs:
                self._adopt(intent, leg, found[leg.plan.role])
            log.warning(
                "broker.submit.adopted", intent_id=intent.intent_id, perm_ids=[leg.perm_id for leg in legs]
            )
        elif adopt_only:
            await self._nothing_to_adopt(intent)
        else:
            await self._place(intent, legs, contract)
            crash_point("bracket_placed")
        outcome = await self.reports.wait_for(lambda: self._probe(legs, epoch, adopted), self.proof_timeout)
        if outcome == "disconnected":
            raise _ConnectionDropped(f"connection lost (epoch {epoch}) before the bracket was proven")
        reports = self._leg_reports(legs, described, adopted)
        problems = bracket_problems(reports)
        evidence = self._evidence(intent, reports, outcome or "timeout")
        if outcome is None:
            problems.insert(0, f"no complete acknowledgement within {self.proof_timeout:.1f}s")
        elif outcome != "acked":
            problems.insert(0, outcome)
        duplicates = [leg.plan.role for leg in legs if leg.duplicates]
        if duplicates:
            problems.append(f"several broker orders share the orderRef of {', '.join(duplicates)}")
        if problems:
            evidence["problems"] = problems
            await self._fail(intent, legs, contract, described, "; ".join(problems), evidence)
        crash_point("bracket_proven")
        return await self._proven(intent, legs, reports, adopted, evidence)

    async def _nothing_to_adopt(self, intent: BracketIntent) -> NoReturn:
        """A resumed intent whose legs the broker does not list: nothing is placed in its name."""
        message = (
            f"bracket {intent.intent_id} ({intent.symbol}) was to be adopted from a crashed run, but the "
            "broker lists none of its legs; nothing was sent"
        )
        await self.recorder.write_intent(
            self._intent_row(intent, self.conn.account, "abandoned", {"error": message})
        )
        raise NothingToAdoptError(message)

    def _adopt(self, intent: BracketIntent, leg: _Leg, reps: list[ReportedOrder]) -> None:
        if not reps:
            return
        rep = max(reps, key=lambda r: r.received_at)
        leg.adopted_from = rep
        leg.duplicates = len(reps) - 1
        leg.perm_id = rep.perm_id
        leg.order_id = rep.order_id
        leg.client_id = rep.client_id
        if not leg.order_id:  # a completed order carries no order id; its fills name it
            fills = self.reports.executions_for(perm_id=rep.perm_id, order_ref=leg.plan.order_ref)
            if fills:
                leg.order_id, leg.client_id = fills[0].order_id, fills[0].client_id
        row = {
            **self._order_row(leg, rep.account or self.conn.account),
            "run_id": intent.run_id or self.recorder.run_id,  # the run that sent it
            "status": rep.status or "adopted",
        }
        # what the broker does not say here is left as the ledger recorded it
        self.recorder.track_order({k: v for k, v in row.items() if v is not None})

    async def _place(self, intent: BracketIntent, legs: list[_Leg], contract: Contract) -> None:
        ib = self.conn.ib
        account = self.conn.account
        epoch = self.conn.epoch
        try:
            for leg in legs:
                leg.order_id = ib.client.getReqId()
                leg.client_id = self.conn.client_id
        except ConnectionError as exc:
            raise _ConnectionDropped(str(exc)) from exc
        parent_id = legs[0].order_id
        rows = [{**self._order_row(leg, account), "status": "pending_submit"} for leg in legs]
        try:  # the intent and every leg, committed together before anything is sent
            await self.recorder.record_orders(rows, intent=self._intent_row(intent, account, "submitted", {}))
        except Exception as exc:
            await self._not_recorded(intent, exc)
        placed_at = _now()
        for leg in legs:
            leg.placed_at = placed_at
        if self.conn.epoch != epoch or not self.conn.connected:
            raise _ConnectionDropped("the connection dropped while the orders were being recorded")
        for leg in legs:
            order = ib_order(leg.plan, leg.wire, order_id=leg.order_id, account=account, parent_id=parent_id)
            log.info(
                "broker.submit.place",
                intent_id=intent.intent_id,
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
                account=account,
                oca_group=order.ocaGroup,
                oca_type=order.ocaType,
                transmit=order.transmit,
                con_id=contract.conId,
            )
            try:
                ib.placeOrder(contract, order)
            except ConnectionError as exc:
                raise _ConnectionDropped(str(exc)) from exc
            # handed to the client library; the broker's answer moves it on (queued, not awaited)
            self.recorder.update_order(leg.plan.order_ref, status="sent", placed_at=placed_at)

    async def _not_recorded(self, intent: BracketIntent, exc: Exception) -> NoReturn:
        """The order rows could not be committed: nothing is sent, and the caller is told why."""
        log.critical("broker.submit.orders_not_recorded", intent_id=intent.intent_id, error=str(exc))
        with contextlib.suppress(Exception):
            await self.recorder.write_intent(
                self._intent_row(
                    intent, self.conn.account, "rejected", {"error": f"orders not recorded: {exc}"}
                )
            )
        raise OrdersNotRecordedError(
            f"bracket {intent.intent_id} ({intent.symbol}) was not sent: the ledger could not record its "
            f"orders before sending ({type(exc).__name__}: {exc}). Check that the ledger is writable"
        ) from exc

    def _leg_view(self, leg: _Leg) -> tuple[ReportedOrder | None, ReportedStatus | None]:
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

    def _probe(self, legs: list[_Leg], epoch: int, adopted: bool) -> str | None:
        if self.conn.epoch != epoch or not self.conn.connected:
            return "disconnected"
        acked = 0
        for leg in legs:
            order, status = self._leg_view(leg)
            if leg.placed_at is not None:
                since = leg.placed_at - timedelta(seconds=1)
                failures = [
                    e for e in self.reports.errors_for_order(leg.order_id, since=since) if e.is_order_failure
                ]
                if failures:
                    first = failures[0]
                    return f"{leg.plan.role} refused by the broker: error {first.code} {first.message}"
            state = broker_status(order, status)
            if state in DONE_AT_BROKER and state != "Filled" and not adopted:
                return f"{leg.plan.role} is {state} at the broker"
            finished = adopted and state in DONE_AT_BROKER
            if order is not None and (is_acknowledged(order, status) or finished):
                if leg.acked_at is None:
                    leg.acked_at = _now()
                acked += 1
        return "acked" if acked == len(legs) else None

    def _leg_reports(self, legs: list[_Leg], described: SehkContract, adopted: bool) -> list[LegReport]:
        views = [self._leg_view(leg) for leg in legs]
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
                con_id=described.con_id,
                parent=parent if leg.plan.is_child else None,
                allow_done=adopted,
            )
            for leg, (order, status) in zip(legs, views, strict=True)
        ]

    def _evidence(self, intent: BracketIntent, reports: list[LegReport], outcome: str) -> dict[str, Any]:
        return {
            "intent_id": intent.intent_id,
            "symbol": intent.symbol,
            "outcome": outcome,
            "legs": [
                {
                    "role": r.role,
                    "order_ref": r.order_ref,
                    "intended": r.intended,
                    "reported": r.reported,
                    "problems": list(r.problems),
                }
                for r in reports
            ],
        }

    # -- outcomes ----------------------------------------------------------------------------------

    async def _proven(
        self,
        intent: BracketIntent,
        legs: list[_Leg],
        reports: list[LegReport],
        adopted: bool,
        evidence: dict[str, Any],
    ) -> VerifiedBracket:
        proven_at = _now()
        verified: list[VerifiedLeg] = []
        for leg, report in zip(legs, reports, strict=True):
            status = report.status or "unknown"
            self.recorder.update_order(leg.plan.order_ref, perm_id=report.perm_id or None, status=status)
            self.recorder.order_event(
                leg.plan.order_ref,
                source="verify",
                status=status,
                perm_id=report.perm_id or None,
                order_id=leg.order_id or None,
                raw=_json_safe(evidence),
            )
            verified.append(
                VerifiedLeg(
                    role=leg.plan.role,
                    order_ref=leg.plan.order_ref,
                    order_id=leg.order_id,
                    perm_id=report.perm_id,
                    client_id=leg.client_id,
                    side=leg.plan.side,
                    order_type=leg.plan.order_type,
                    quantity=leg.plan.quantity,
                    limit_price=leg.plan.limit_price,
                    stop_price=leg.plan.stop_price,
                    status=status,
                    placed_at=leg.placed_at,
                    acknowledged_at=leg.acked_at,
                )
            )
        await self._record_outcome(
            self._intent_row(
                intent,
                self.conn.account,
                "proven",
                {"perm_ids": [v.perm_id for v in verified], "adopted": adopted},
            )
        )
        log.info(
            "broker.submit.proven",
            intent_id=intent.intent_id,
            adopted=adopted,
            legs=[
                {"role": v.role, "order_id": v.order_id, "perm_id": v.perm_id, "status": v.status}
                for v in verified
            ],
        )
        by_role = {v.role: v for v in verified}
        return VerifiedBracket(
            intent_id=intent.intent_id,
            symbol=intent.symbol,
            account=self.conn.account,
            entry=by_role[ENTRY],
            take_profit=by_role[TAKE_PROFIT],
            stop_loss=by_role[STOP_LOSS],
            adopted=adopted,
            proven_at=proven_at,
            evidence=evidence,
        )

    async def _fail(
        self,
        intent: BracketIntent,
        legs: list[_Leg],
        contract: Contract,
        described: SehkContract,
        reason: str,
        evidence: dict[str, Any],
    ) -> NoReturn:
        log.critical("broker.submit.unproven", intent_id=intent.intent_id, reason=reason, evidence=evidence)
        cancelled = await self._cancel_all(legs)
        entry = legs[0]
        filled_entry = self._filled(entry)
        exited = sum(self._filled(leg) for leg in legs[1:])
        to_flatten = filled_entry - exited
        flatten_ref: str | None = None
        flatten_error = ""
        if to_flatten > 0:
            try:
                flatten_ref = await self.flattener(
                    intent, contract, described, intent.side.opposite, to_flatten
                )
            except Exception as exc:  # the risk event below must still be recorded
                flatten_error = f"{type(exc).__name__}: {exc}"
                log.critical("broker.submit.flatten_failed", intent_id=intent.intent_id, error=flatten_error)
        evidence = {
            **evidence,
            "reason": reason,
            "cancelled": cancelled,
            "entry_filled": filled_entry,
            "exits_filled": exited,
            "flattened": to_flatten if flatten_ref else 0,
            "flatten_ref": flatten_ref,
            "flatten_error": flatten_error,
        }
        self.recorder.risk_event(
            "bracket_unproven",
            severity="critical",
            symbol=intent.symbol,
            message=f"bracket {intent.intent_id} not proven at the broker: {reason}",
            detail=evidence,
        )
        for leg in legs:
            if leg.plan.order_ref in self.recorder.orders:
                self.recorder.order_event(
                    leg.plan.order_ref,
                    source="verify",
                    status="unproven",
                    perm_id=leg.perm_id or None,
                    order_id=leg.order_id or None,
                    error_message=reason[:500],
                    raw=_json_safe(evidence),
                )
        await self._record_outcome(self._intent_row(intent, self.conn.account, "failed", evidence))
        with contextlib.suppress(Exception):  # the error below must reach the caller
            await self.recorder.flush()
        raise BracketVerificationError(
            f"bracket {intent.intent_id} ({intent.symbol} {intent.side} {intent.quantity}) was not proven "
            f"at the broker: {reason}. Every leg that existed was cancelled"
            + (
                f" and {to_flatten} filled shares were sent to be flattened ({flatten_ref})"
                if flatten_ref
                else ""
            )
            + (f"; FLATTEN FAILED: {flatten_error}" if flatten_error else ""),
            evidence,
        )

    async def _record_outcome(self, row: dict[str, Any]) -> None:
        """Commit the intent's outcome before the exit lease is released (a rerun reads it)."""
        try:
            await self.recorder.write_intent(row)
        except Exception as exc:  # the broker's truth stands; reconciliation settles the row later
            log.critical(
                "broker.submit.outcome_not_recorded",
                intent_id=row.get("intent_id"),
                status=row.get("status"),
                error=str(exc),
            )

    def _filled(self, leg: _Leg) -> int:
        _order, status = self._leg_view(leg)
        by_status = int(status.filled) if status is not None else 0
        by_exec = sum(
            int(e.shares)
            for e in self.reports.executions_for(perm_id=leg.perm_id, order_ref=leg.plan.order_ref)
        )
        return max(by_status, by_exec)

    async def _cancel_all(self, legs: list[_Leg]) -> list[str]:
        ib = self.conn.ib
        cancelled: list[str] = []
        targets: list[_Leg] = []
        for leg in legs:
            order, status = self._leg_view(leg)
            state = broker_status(order, status)
            if not leg.order_id or state in DONE_AT_BROKER:
                continue
            if leg.client_id and leg.client_id != self.conn.client_id:
                log.critical(
                    "broker.cancel.foreign_client", order_ref=leg.plan.order_ref, client_id=leg.client_id
                )
                continue
            targets.append(leg)
        for leg in targets:
            log.warning("broker.cancel.request", order_ref=leg.plan.order_ref, order_id=leg.order_id)
            try:
                ib.cancelOrder(Order(orderId=leg.order_id, clientId=self.conn.client_id, permId=leg.perm_id))
                cancelled.append(leg.plan.order_ref)
                self.recorder.order_event(
                    leg.plan.order_ref,
                    source="cancel",
                    status="cancel_requested",
                    perm_id=leg.perm_id or None,
                    order_id=leg.order_id,
                )
            except ConnectionError as exc:
                log.critical("broker.cancel.not_connected", order_ref=leg.plan.order_ref, error=str(exc))
        if targets:

            def all_done() -> bool | None:
                for leg in targets:
                    order, status = self._leg_view(leg)
                    if order is None and status is None:
                        continue  # never reached the broker (held or dropped): nothing to wait for
                    if broker_status(order, status) not in DONE_AT_BROKER and not any(
                        e.code in (10147, 10148, 202) for e in self.reports.errors_for_order(leg.order_id)
                    ):
                        return None
                return True

            done = await self.reports.wait_for(all_done, self.proof_timeout)
            if done is None:
                log.critical("broker.cancel.unconfirmed", order_refs=[leg.plan.order_ref for leg in targets])
        return cancelled

    # -- rows --------------------------------------------------------------------------------------

    def _order_row(self, leg: _Leg, account: str) -> dict[str, Any]:
        intent_id = leg.plan.order_ref.rpartition(":")[0]
        return {
            "order_ref": leg.plan.order_ref,
            "intent_id": intent_id,
            "run_id": self.recorder.run_id,
            "role": leg.plan.role,
            "account": account,
            "symbol": leg.plan.symbol,
            "side": leg.plan.side.value,
            "order_type": leg.plan.order_type.value,
            "quantity": leg.plan.quantity,
            "limit_price": leg.plan.limit_price,
            "stop_price": leg.plan.stop_price,
            "tif": leg.plan.tif,
            "parent_ref": None if not leg.plan.is_child else f"{intent_id}:P",
            "oca_group": leg.plan.oca_group or None,
            "client_id": leg.client_id or None,
            "order_id": leg.order_id or None,
            "perm_id": leg.perm_id or None,
        }

    def _intent_row(
        self, intent: BracketIntent, account: str, status: str, detail: dict[str, Any]
    ) -> dict[str, Any]:
        return intent.ledger_row(status, run_id=self.recorder.run_id, account=account, detail=detail)


def _json_safe(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)
