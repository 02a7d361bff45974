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
6. on any failure: cancel every leg that exists, flatten whatever the entry filled (the
   submitter decides it and sends the flatten through ``broker/exit_sender.py``), record a
   ``bracket_unproven`` risk event and raise :class:`BracketVerificationError` with the evidence.

Placing, recording, proving and cancelling are the one placement path's (``broker/placement.py``);
this module decides what a bracket is (adopt or place, retry after a drop, proven or undone).

The outcome (``proven`` or ``failed``) is committed before the exit lease is released.
``adopt_only`` (a rerun resuming a crashed run's intent) never places: no leg at the broker is
:class:`NothingToAdoptError`.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import structlog
from ib_async import Contract

from catalyst.broker.bracket_plan import (
    ENTRY,
    STOP_LOSS,
    TAKE_PROFIT,
    bracket_oca_group,
    plan_bracket,
)
from catalyst.broker.bracket_proof import LegReport
from catalyst.broker.contracts_cache import ContractsCache, SehkContract
from catalyst.broker.crash_points import crash_point
from catalyst.broker.errors import (
    AccountNotManagedError,
    BracketVerificationError,
    NothingToAdoptError,
    OrdersNotRecordedError,
    PlacementConnectionLostError,
    ReadOnlySessionError,
    SymbolExitsBusyError,
)
from catalyst.broker.exit_sender import ExitSender
from catalyst.broker.placement import Ack, OrderPlacer, PlacedLeg, Recording, fresh, map_legs
from catalyst.broker.report_log import ReportedOrder
from catalyst.broker.symbol_exits import SymbolExitLeases
from catalyst.domain import BracketIntent, OrderType, Side
from catalyst.ledger.errors import LeaseHeldError

log = structlog.get_logger(__name__)

def _now() -> datetime:
    return datetime.now(UTC)


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


class BracketSubmitter:
    """Sends and proves brackets through one :class:`OrderPlacer`; closes what a failed one filled
    through an :class:`ExitSender`."""

    def __init__(
        self,
        placer: OrderPlacer,
        contracts: ContractsCache,
        exits: ExitSender,
        *,
        hold_timeout: float,
        stop_limit_ticks: int,
        exit_tif: str = "GTC",
        max_attempts: int = 3,
        state_dir: Path | str | None = None,
        exits_wait: float = 35.0,
    ) -> None:
        self.placer = placer
        self.conn = placer.conn
        self.reports = placer.reports
        self.recorder = placer.recorder
        self.contracts = contracts
        self.exits = exits
        self.hold_timeout = hold_timeout
        self.stop_limit_ticks = stop_limit_ticks
        self.exit_tif = exit_tif
        self.max_attempts = max_attempts
        #: the symbols' exit leases, in the settings' state dir; None: no lease (a bare test)
        self.exit_leases = (
            SymbolExitLeases(state_dir, run_id=self.recorder.run_id) if state_dir is not None else None
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
            legs = map_legs(plans, board_lot=described.board_lot)
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
        legs: list[PlacedLeg],
        contract: Contract,
        described: SehkContract,
        adopt_only: bool,
    ) -> VerifiedBracket:
        last_error = ""
        for attempt in range(1, self.max_attempts + 1):
            await self.conn.wait_ready(self.hold_timeout)
            try:
                return await self._attempt(intent, fresh(legs), contract, described, attempt, adopt_only)
            except PlacementConnectionLostError as exc:
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
        legs: list[PlacedLeg],
        contract: Contract,
        described: SehkContract,
        attempt: int,
        adopt_only: bool = False,
    ) -> VerifiedBracket:
        """Adopt or place the legs, prove them from the broker's reports, then proven or undone."""
        epoch = self.conn.epoch
        adopted = await self._adopt_existing(intent, legs, contract, described, attempt)
        if not adopted:
            if adopt_only:
                await self._nothing_to_adopt(intent)
            await self._place(intent, legs, contract)
            crash_point("bracket_placed")
        ack = Ack.ADOPTED if adopted else Ack.WORKING
        proof = await self.placer.prove(legs, ack=ack, con_id=described.con_id, epoch=epoch)
        if proof.outcome == "disconnected":
            raise PlacementConnectionLostError(
                f"connection lost (epoch {epoch}) before the bracket was proven"
            )
        evidence = {"intent_id": intent.intent_id, "symbol": intent.symbol, **proof.evidence()}
        if not proof.proven:
            await self._fail(intent, legs, contract, described, "; ".join(proof.problems), evidence)
        crash_point("bracket_proven")
        return await self._proven(intent, legs, list(proof.reports), adopted, evidence)

    async def _adopt_existing(
        self,
        intent: BracketIntent,
        legs: list[PlacedLeg],
        contract: Contract,
        described: SehkContract,
        attempt: int,
    ) -> bool:
        """Adopt the legs the broker already lists under the intent's orderRefs (True); none
        listed: False; a partial set fails the bracket (a rerun found only part of it)."""
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
        if present:
            for leg in legs:
                self._adopt(intent, leg, found[leg.plan.role])
            log.warning(
                "broker.submit.adopted", intent_id=intent.intent_id, perm_ids=[leg.perm_id for leg in legs]
            )
            return True
        return False

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

    def _adopt(self, intent: BracketIntent, leg: PlacedLeg, reps: list[ReportedOrder]) -> None:
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
            **self.placer.ledger_row(leg, intent_id=intent.intent_id, parent_ref=intent.order_ref("P")),
            "account": rep.account or self.conn.account,
            "run_id": intent.run_id or self.recorder.run_id,  # the run that sent it
            "status": rep.status or "adopted",
        }
        # what the broker does not say here is left as the ledger recorded it
        self.recorder.track_order({k: v for k, v in row.items() if v is not None})

    async def _place(self, intent: BracketIntent, legs: list[PlacedLeg], contract: Contract) -> None:
        """The three legs through the placement path, their rows and the intent's committed first."""
        try:
            await self.placer.place(
                legs,
                contract,
                recording=Recording.BEFORE_SEND,
                what=f"bracket {intent.intent_id} ({intent.symbol})",
                intent_id=intent.intent_id,
                intent_row=self._intent_row(intent, self.conn.account, "submitted", {}),
            )
        except OrdersNotRecordedError as exc:
            await self._not_recorded(intent, exc)

    async def _not_recorded(self, intent: BracketIntent, exc: OrdersNotRecordedError) -> NoReturn:
        """The order rows could not be committed: nothing was sent; the intent is recorded rejected."""
        with contextlib.suppress(Exception):
            await self.recorder.write_intent(
                self._intent_row(
                    intent, self.conn.account, "rejected", {"error": f"orders not recorded: {exc.__cause__}"}
                )
            )
        raise exc

    # -- outcomes ----------------------------------------------------------------------------------

    async def _proven(
        self,
        intent: BracketIntent,
        legs: list[PlacedLeg],
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
        legs: list[PlacedLeg],
        contract: Contract,
        described: SehkContract,
        reason: str,
        evidence: dict[str, Any],
    ) -> NoReturn:
        log.critical("broker.submit.unproven", intent_id=intent.intent_id, reason=reason, evidence=evidence)
        cancelled = await self.placer.cancel(legs)
        filled_entry = self.placer.filled(legs[0])
        exited = sum(self.placer.filled(leg) for leg in legs[1:])
        to_flatten = filled_entry - exited
        flatten_ref: str | None = None
        flatten_error = ""
        if to_flatten > 0:
            try:
                flatten_ref = await self._flatten(intent, contract, described, to_flatten)
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

    async def _flatten(
        self, intent: BracketIntent, contract: Contract, described: SehkContract, quantity: int
    ) -> str:
        """Close what the failed bracket's entry filled; returns the flatten's orderRef."""
        exit_order = await self.exits.send(
            contract,
            described,
            intent.side.opposite,
            quantity,
            f"{intent.intent_id}:FLAT",
            fallback=intent.entry,
            intent_id=intent.intent_id,
            # the bracket's own group: a stop or target that survived the cancel (or that the
            # monitor re-placed into this group) ends with the flatten instead of outliving it
            oca_group=bracket_oca_group(intent.intent_id),
        )
        return exit_order.order_ref

    # -- rows --------------------------------------------------------------------------------------

    def _intent_row(
        self, intent: BracketIntent, account: str, status: str, detail: dict[str, Any]
    ) -> dict[str, Any]:
        return intent.ledger_row(status, run_id=self.recorder.run_id, account=account, detail=detail)


def _json_safe(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)
