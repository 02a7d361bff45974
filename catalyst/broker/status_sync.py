"""Order-status sync (rule 7): bring every non-terminal ledger order up to date from the broker.

Three requests answer it: reqAllOpenOrders (what still works, any client), reqCompletedOrders
(what finished, with the broker's final status) and reqExecutions with commission reports (the
fills: IB does not promise a status callback for every change, so fills never come from status
callbacks alone). Per order the rules are:

* still open at the broker: take its newest status, filled quantity and average price;
* completed: ``Filled`` stays Filled; ``Inactive``, or ``Cancelled`` with an order error attached,
  becomes ``rejected`` with that error; a DAY order cancelled while the market is closed, which we
  never asked to cancel, becomes ``expired``; anything else ``Cancelled``;
* unknown to the broker but fully filled by executions: ``Filled``;
* unknown to the broker otherwise (and not just placed): ``unknown`` plus a critical risk event.

Fills are appended to the ``fills`` table (idempotent on the execution id), fees summed from the
commission reports (estimated with catalyst.market when a report is missing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import structlog

from catalyst.broker.order_recorder import LedgerRecorder
from catalyst.broker.queries import BrokerQueries
from catalyst.broker.report_log import BrokerReports, ReportedExecution, ReportedOrder
from catalyst.domain.order_status import FINAL, may_record, texts
from catalyst.ledger import Ledger
from catalyst.market import Phase, phase

log = structlog.get_logger(__name__)

#: Ledger statuses after which an order is never synced again.
TERMINAL_LEDGER_STATUSES = texts(FINAL)

SYNC_COLUMNS = [
    "order_ref",
    "symbol",
    "role",
    "old_status",
    "new_status",
    "filled",
    "avg_fill_price",
    "fees",
    "note",
]

#: Orders placed this recently may not be reported yet; they are not declared unknown.
GRACE = timedelta(seconds=30)


@dataclass(frozen=True)
class SyncedOrder:
    status: str
    filled: int
    avg_fill_price: Decimal | None
    fees: Decimal
    perm_id: int | None
    first_fill_at: datetime | None
    error_code: int | None
    error_message: str | None
    note: str


def _value(row: pd.Series, name: str) -> Any:
    v = row.get(name)
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NaT:
        return None
    return v


class StatusSync:
    def __init__(
        self,
        ledger: Ledger | None,
        reports: BrokerReports,
        queries: BrokerQueries,
        recorder: LedgerRecorder,
        *,
        account_getter: Any,
        client_id: int,
    ) -> None:
        self.ledger = ledger
        self.reports = reports
        self.queries = queries
        self.recorder = recorder
        self._account = account_getter
        self.client_id = client_id

    async def run(self, *, server_now: datetime | None = None) -> pd.DataFrame:
        if self.ledger is None:
            return pd.DataFrame(columns=SYNC_COLUMNS)
        await self.recorder.flush()  # the ledger must hold everything this session already knows
        account = self._account()
        pending = self._pending_orders(self.ledger, account)
        requested = self._cancel_requested(self.ledger)
        open_perms, executions = await self._refresh_broker_view()
        now = server_now or datetime.now(UTC)
        for e in executions:  # every fill the broker has today is in the ledger, whoever placed it
            if e.account == account:
                self.recorder.on_report(e)
        changes: list[dict[str, Any]] = []
        for _, row in pending.iterrows():
            change = self._apply(row, open_perms, now, requested)
            if change is not None:
                changes.append(change)
        await self.recorder.flush()
        log.info("broker.sync.done", pending=len(pending), changed=len(changes), account=account)
        return pd.DataFrame(changes, columns=SYNC_COLUMNS)

    @staticmethod
    def _pending_orders(ledger: Ledger, account: str) -> pd.DataFrame:
        """The account's ledger orders that are not final, plus DAY orders the stream saw cancelled
        lately: the sync decides whether that was an expiry."""
        placeholders = ", ".join("?" for _ in TERMINAL_LEDGER_STATUSES)
        return ledger.query(
            "SELECT * FROM orders WHERE (account = ? OR account IS NULL) "
            f"AND (status NOT IN ({placeholders}) "
            "OR (status = 'Cancelled' AND tif = 'DAY' AND error_code IS NULL "
            "AND updated_at >= now() - INTERVAL 1 DAY))",
            [account, *TERMINAL_LEDGER_STATUSES],
        )

    @staticmethod
    def _cancel_requested(ledger: Ledger) -> set[str]:
        """The order refs Catalyst asked to cancel in the last two days."""
        return set(
            ledger.query(
                "SELECT DISTINCT order_ref FROM order_events WHERE source = 'cancel' "
                "AND ts >= now() - INTERVAL 2 DAY"
            ).get("order_ref", pd.Series(dtype=object))
        )

    async def _refresh_broker_view(self) -> tuple[set[int], list[ReportedExecution]]:
        """Open orders (their perm ids), completed orders and executions, asked of the broker anew."""
        open_perms = await self.queries.refresh_open_orders()
        await self.queries.refresh_completed_orders()
        executions = await self.queries.refresh_executions()
        return open_perms, executions

    def _apply(
        self, row: pd.Series, open_perms: set[int], now: datetime, requested: set[str]
    ) -> dict[str, Any] | None:
        """Sync one ledger order and record what changed; the change row, or None if nothing did."""
        ref = str(row["order_ref"])
        old = str(row["status"])
        result = self._sync_one(row, open_perms, now, cancel_requested=ref in requested)
        if result is None:
            return None
        if not may_record(old, result.status):
            log.warning("broker.sync.status_move_refused", order_ref=ref, old=old, new=result.status)
            return None
        self._update_order(ref, row, result)
        change = self._record_change(ref, row, old, result)
        self._raise_alarm(ref, row, old, result)
        return change

    def _update_order(self, ref: str, row: pd.Series, result: SyncedOrder) -> None:
        if ref not in self.recorder.orders:
            self.recorder.track_order({k: _value(row, k) for k in row.index if k != "updated_at"})
        self.recorder.update_order(
            ref,
            status=result.status,
            filled=result.filled,
            avg_fill_price=result.avg_fill_price,
            fees=result.fees,
            perm_id=result.perm_id,
            first_fill_at=result.first_fill_at,
            error_code=result.error_code,
            error_message=result.error_message,
        )

    def _record_change(
        self, ref: str, row: pd.Series, old: str, result: SyncedOrder
    ) -> dict[str, Any] | None:
        """An order event and a change row when the status or the filled quantity moved."""
        if result.status == old and result.filled == (_value(row, "filled") or 0):
            return None
        self.recorder.order_event(
            ref,
            source="sync",
            status=result.status,
            perm_id=result.perm_id,
            filled=result.filled,
            remaining=int(row["quantity"]) - result.filled,
            avg_fill_price=float(result.avg_fill_price) if result.avg_fill_price else None,
            error_code=result.error_code,
            error_message=result.error_message,
        )
        return {
            "order_ref": ref,
            "symbol": row["symbol"],
            "role": row["role"],
            "old_status": old,
            "new_status": result.status,
            "filled": result.filled,
            "avg_fill_price": result.avg_fill_price,
            "fees": result.fees,
            "note": result.note,
        }

    def _raise_alarm(self, ref: str, row: pd.Series, old: str, result: SyncedOrder) -> None:
        """A risk event for an order the broker no longer knows (critical) or rejected (warning)."""
        if result.status == "unknown":
            self.recorder.risk_event(
                "order_unknown",
                severity="critical",
                symbol=str(row["symbol"]),
                message=f"order {ref} ({row['role']}) is in the ledger as {old} but the broker no longer "
                "knows it: check the position and its protection",
                detail={"order_ref": ref, "perm_id": result.perm_id, "old_status": old},
            )
        elif result.status == "rejected":
            self.recorder.risk_event(
                "order_rejected",
                severity="warning",
                symbol=str(row["symbol"]),
                message=f"order {ref} was rejected by the broker: {result.error_message}",
                detail={"order_ref": ref, "error_code": result.error_code},
            )

    def _sync_one(
        self, row: pd.Series, open_perms: set[int], now: datetime, *, cancel_requested: bool = False
    ) -> SyncedOrder | None:
        ledger_perm_id = int(_value(row, "perm_id") or 0)
        open_rep, completed = self._broker_reports(str(row["order_ref"]), ledger_perm_id, open_perms)
        chosen = open_rep or completed
        perm_id = chosen.perm_id if chosen is not None and chosen.perm_id else ledger_perm_id
        facts = self._facts(row, perm_id)
        if open_rep is not None:
            return self._as_open(facts, open_rep, perm_id)
        if completed is not None:
            return _as_completed(facts, completed, row, now, cancel_requested=cancel_requested)
        if facts.filled >= int(row["quantity"]) > 0:
            return replace(
                facts, status="Filled", note="filled per executions; no longer listed by the broker"
            )
        placed = _value(row, "placed_at") or _value(row, "updated_at")
        if isinstance(placed, datetime) and datetime.now(UTC) - placed < GRACE:
            return None
        return replace(
            facts, status="unknown", note="the broker reports no open or completed order with this reference"
        )

    def _broker_reports(
        self, ref: str, perm_id: int, open_perms: set[int]
    ) -> tuple[ReportedOrder | None, ReportedOrder | None]:
        """The broker's open report of the order (by perm id first, then by reference), else its
        completed report."""
        candidates = self.reports.orders_with_ref(ref)
        if perm_id:
            rep_by_perm = self.reports.latest_order(perm_id=perm_id)
            if rep_by_perm is not None:
                candidates = [rep_by_perm, *[c for c in candidates if c.perm_id != perm_id]]
        open_rep = next((c for c in candidates if c.perm_id in open_perms), None)
        if open_rep is not None:
            return open_rep, None
        completed_by_perm = self.reports.completed_by_perm
        completed = next(
            (completed_by_perm[c.perm_id] for c in candidates if c.perm_id in completed_by_perm), None
        )
        return None, completed

    def _facts(self, row: pd.Series, perm_id: int) -> SyncedOrder:
        """What the executions and the order's errors say, before the status is decided (left empty)."""
        execs = self.reports.executions_for(perm_id=perm_id, order_ref=str(row["order_ref"]))
        filled = sum(int(e.shares) for e in execs)
        notional = sum((e.shares * e.price for e in execs), Decimal(0))
        fees = Decimal(0)
        for e in execs:
            fill = self.recorder.fill_row(e, self.reports.commissions.get(e.exec_id))
            fees += Decimal(str(fill["fees"])) if fill["fees"] is not None else Decimal(0)
        error_code, error_message = self._order_error(row)
        return SyncedOrder(
            status="",
            filled=filled,
            avg_fill_price=(notional / filled).quantize(Decimal("0.000001")) if filled else None,
            fees=fees,
            perm_id=perm_id or None,
            first_fill_at=execs[0].time if execs else None,
            error_code=int(error_code) if error_code else None,
            error_message=str(error_message) if error_message else None,
            note="",
        )

    def _order_error(self, row: pd.Series) -> tuple[Any, Any]:
        """The ledger's error, or the newest order failure this client's session saw for the order."""
        order_id = int(_value(row, "order_id") or 0)
        if order_id and int(_value(row, "client_id") or 0) == self.client_id:
            errs = [
                e
                for e in self.reports.errors_for_order(order_id)
                if e.is_order_failure and e.code not in (202, 10147, 10148)
            ]
            if errs:
                return errs[-1].code, errs[-1].message
        return _value(row, "error_code"), _value(row, "error_message")

    def _as_open(self, facts: SyncedOrder, open_rep: ReportedOrder, perm_id: int) -> SyncedOrder:
        """Still working at the broker: its newest status, filled quantity and average price."""
        status_rep = self.reports.latest_status(perm_id=perm_id)
        if status_rep is None or status_rep.received_at < open_rep.received_at:
            return replace(facts, status=open_rep.status, note="open at the broker")
        return replace(
            facts,
            status=status_rep.status,
            filled=max(facts.filled, int(status_rep.filled)),
            avg_fill_price=facts.avg_fill_price or status_rep.avg_fill_price,
            note="open at the broker",
        )


def _as_completed(
    facts: SyncedOrder, completed: ReportedOrder, row: pd.Series, now: datetime, *, cancel_requested: bool
) -> SyncedOrder:
    """Completed at the broker: Filled stays Filled; Inactive, or Cancelled with an order error, is
    rejected; a DAY order cancelled while the market is closed, not at our request, expired."""
    status = completed.status or "Cancelled"
    filled = (
        facts.filled
        if completed.filled_quantity is None
        else max(facts.filled, int(completed.filled_quantity))
    )
    done = replace(
        facts, status=status, filled=filled, note=f"completed: {completed.completed_status or status}"
    )
    if status == "Inactive" or (status == "Cancelled" and facts.error_code):
        message = facts.error_message or completed.completed_status or "rejected by the broker"
        return replace(done, status="rejected", error_message=str(message))
    if (
        status == "Cancelled"
        and str(_value(row, "tif") or "DAY") == "DAY"
        and not cancel_requested
        and phase(now) in (Phase.CLOSED, Phase.PRE_OPEN)
    ):
        return replace(done, status="expired", note="DAY order expired at the close")
    return done
