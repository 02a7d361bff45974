"""Mirror of every order, status and fill into the ledger (rule 9), written in batches.

Orders are on record before they leave: the intent row (:meth:`LedgerRecorder.write_intent`) and
every leg's order row with its orderRef, order id and client id (:meth:`LedgerRecorder.record_orders`,
status ``pending_submit``) are committed before ``placeOrder``, so a process killed right after
sending leaves the ledger knowing what it sent, and a rerun finds it. Everything else (order status
changes, order events, fills, risk events) is queued
by the event handlers and written in one short ledger transaction per batch, off the event loop,
so recording never delays the broker conversation and a burst of brackets does not open hundreds
of DuckDB connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog

from catalyst.broker.order_mapping import side_from_exec_side
from catalyst.broker.report_log import (
    Report,
    ReportedCommission,
    ReportedError,
    ReportedExecution,
    ReportedOrder,
    ReportedStatus,
)
from catalyst.domain import OrderStatus, UnknownOrderStatusError
from catalyst.domain.order_status import ACKNOWLEDGED, may_record
from catalyst.ledger import Ledger, new_id
from catalyst.market import fill_fees

log = structlog.get_logger(__name__)

RiskHook = Callable[[dict[str, Any]], None]

#: How long a fill waits for its commission report before it is written with estimated fees.
COMMISSION_GRACE = timedelta(seconds=5)


def _now() -> datetime:
    return datetime.now(UTC)


def _json(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)


def _raw(report: Report) -> str:
    return _json({k: getattr(report, k) for k in report.__dataclass_fields__})


class LedgerRecorder:
    """Queues ledger rows from broker reports and our own actions; :meth:`flush` writes them."""

    def __init__(
        self,
        ledger: Ledger | None,
        *,
        run_id: str,
        account: str,
        client_id: int,
        on_risk_event: RiskHook | None = None,
    ) -> None:
        self.ledger = ledger
        self.run_id = run_id
        self.account = account
        self.client_id = client_id
        self.on_risk_event = on_risk_event
        self.orders: dict[str, dict[str, Any]] = {}  # order_ref -> current orders row
        self._ref_by_perm: dict[int, str] = {}
        self._ref_by_id: dict[tuple[int, int], str] = {}
        self._dirty_orders: set[str] = set()
        self._events: list[dict[str, Any]] = []
        self._fills: dict[str, dict[str, Any]] = {}
        self._fills_waiting: dict[str, tuple[ReportedExecution, datetime]] = {}
        self._commissions: dict[str, ReportedCommission] = {}
        self._written_fills: set[str] = set()
        self._risk: list[dict[str, Any]] = []
        self._commit_queue: list[tuple[list[dict[str, Any]], list[dict[str, Any]], asyncio.Future[None]]] = []
        self._commit_task: asyncio.Task[None] | None = None
        self._intent_rows: dict[str, dict[str, Any]] = {}
        self._last_echo: dict[tuple[str, str], tuple[str, Any]] = {}
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- background flushing -----------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._flush_loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        await self.flush(final=True)

    async def _flush_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(0.2)  # batching window: gather a burst of events into one write
            try:
                await self.flush()
            except Exception:
                log.exception("broker.ledger.flush_failed")

    def _touch(self) -> None:
        self._wake.set()

    # -- our own actions ---------------------------------------------------------------------------

    async def write_intent(self, row: Mapping[str, Any]) -> None:
        """Write (upsert) an intent row and return once it is committed (a refusal, an outcome)."""
        log.info("broker.ledger.intent", **{k: str(v) for k, v in row.items()})
        await self._commit([dict(row)], [])

    def queue_intent(self, row: Mapping[str, Any]) -> None:
        """Queue an intent status change for the next batch (not needed before anything is sent)."""
        log.info("broker.ledger.intent", **{k: str(v) for k, v in row.items()})
        self._intent_rows[str(row["intent_id"])] = dict(row)
        self._touch()

    async def record_orders(
        self, rows: Sequence[Mapping[str, Any]], *, intent: Mapping[str, Any] | None = None
    ) -> None:
        """Track ``rows`` (and upsert ``intent``) and return once all are committed to the ledger,
        in one transaction: called before sending. A failure raises whatever the ledger raised, and
        the caller must then send nothing. Without a ledger they are tracked only."""
        merged = [self._merge_order(row) for row in rows]
        log.info("broker.ledger.orders_before_send", order_refs=[r["order_ref"] for r in merged])
        if intent is not None:
            log.info("broker.ledger.intent", **{k: str(v) for k, v in intent.items()})
        await self._commit([dict(intent)] if intent is not None else [], merged)

    async def _commit(self, intents: list[dict[str, Any]], orders: list[dict[str, Any]]) -> None:
        """Group commit: concurrent callers share one ledger transaction (all or none); while one
        batch is being written, the next callers queue and are written together right after it."""
        if self.ledger is None:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._commit_queue.append((intents, orders, waiter))
        if self._commit_task is None or self._commit_task.done():
            self._commit_task = asyncio.ensure_future(self._commit_batches())
        await waiter

    async def _commit_batches(self) -> None:
        while self._commit_queue:
            batch, self._commit_queue = self._commit_queue, []
            intents = {str(r["intent_id"]): r for rows, _o, _w in batch for r in rows}
            orders = {str(r["order_ref"]): r for _i, rows, _w in batch for r in rows}
            try:
                # not behind the batch flush: a bracket waits for its own rows only (the flush
                # writes the newest state of every row it touches, so a later one heals any order)
                await asyncio.to_thread(self._write_committed, list(intents.values()), list(orders.values()))
            except Exception as exc:
                for _i, _o, w in batch:
                    if not w.done():
                        w.set_exception(exc)
                continue
            for _i, _o, w in batch:
                if not w.done():
                    w.set_result(None)

    def _write_committed(self, intents: list[dict[str, Any]], orders: list[dict[str, Any]]) -> None:
        assert self.ledger is not None
        # upserts: a status change (submitted -> proven | failed, a rerun's submitted over the
        # crashed run's row) replaces the row's status
        with self.ledger.transaction():
            for row in intents:
                self.ledger.upsert("intents", row)
            for row in orders:
                self.ledger.upsert("orders", row)

    def _merge_order(self, row: Mapping[str, Any]) -> dict[str, Any]:
        ref = str(row["order_ref"])
        merged = {**self.orders.get(ref, {}), **row, "updated_at": _now()}
        self.orders[ref] = merged
        if merged.get("perm_id"):
            self._ref_by_perm[int(merged["perm_id"])] = ref
        if merged.get("order_id") and merged.get("client_id") is not None:
            self._ref_by_id[(int(merged["client_id"]), int(merged["order_id"]))] = ref
        return dict(merged)

    def track_order(self, row: Mapping[str, Any]) -> None:
        """Start (or replace) the orders row of ``row['order_ref']`` and queue it."""
        ref = str(self._merge_order(row)["order_ref"])
        self._dirty_orders.add(ref)
        self._touch()

    def update_order(self, ref: str, **changes: Any) -> None:
        if ref not in self.orders:
            return
        self.track_order({"order_ref": ref, **changes})

    def order_event(self, ref: str | None, *, source: str, status: str, **fields: Any) -> None:
        """Queue an order event. Broker echoes (openOrder/orderStatus) are kept only for orders this
        session tracks and only when status or filled quantity changed: a sync every 60 s re-reads
        every open order, and the structured log already holds each message in full."""
        if source in ("openOrder", "completedOrder", "orderStatus"):
            if ref is None or ref not in self.orders:
                return
            state = (status, fields.get("filled"))
            if self._last_echo.get((ref, source)) == state:
                return
            self._last_echo[(ref, source)] = state
        self._events.append(
            {
                "event_id": new_id(),
                "ts": _now(),
                "run_id": self.run_id,
                "order_ref": ref,
                "status": status,
                "source": source,
                **fields,
            }
        )
        self._touch()

    def risk_event(
        self,
        kind: str,
        *,
        severity: str,
        message: str,
        symbol: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Queue a risk event, log it (CRITICAL for critical) and call the on_risk_event hook."""
        event = {
            "event_id": new_id(),
            "ts": _now(),
            "run_id": self.run_id,
            "account": self.account,
            "kind": kind,
            "severity": severity,
            "symbol": symbol,
            "message": message,
            "detail": _json(dict(detail or {})),
        }
        level = {"critical": "critical", "warning": "warning"}.get(severity, "info")
        getattr(log, level)("broker.risk_event", kind=kind, symbol=symbol, message=message, detail=detail)
        self._risk.append(event)
        self._touch()
        if self.on_risk_event is not None:
            try:
                self.on_risk_event(dict(event, detail=dict(detail or {})))
            except Exception:
                log.exception("broker.risk_event.hook_failed", kind=kind)
        return event

    # -- broker reports ----------------------------------------------------------------------------

    def ref_for(self, *, perm_id: int = 0, client_id: int = 0, order_id: int = 0) -> str | None:
        if perm_id and perm_id in self._ref_by_perm:
            return self._ref_by_perm[perm_id]
        return self._ref_by_id.get((client_id, order_id))

    def on_report(self, report: Report) -> None:
        """Sink for :class:`BrokerReports`: every broker message becomes ledger rows."""
        if isinstance(report, ReportedOrder):
            ref = report.order_ref or self.ref_for(
                perm_id=report.perm_id, client_id=report.client_id, order_id=report.order_id
            )
            if ref and ref in self.orders:
                if report.perm_id:
                    self._ref_by_perm[report.perm_id] = ref
                self._apply_status(ref, report.status, report.received_at, perm_id=report.perm_id)
            if ref:
                self.order_event(
                    ref,
                    source=report.source,
                    status=report.status,
                    perm_id=report.perm_id or None,
                    order_id=report.order_id or None,
                    raw=_raw(report),
                )
        elif isinstance(report, ReportedStatus):
            ref = self.ref_for(perm_id=report.perm_id, client_id=report.client_id, order_id=report.order_id)
            if ref and ref in self.orders:
                if report.perm_id:
                    self._ref_by_perm[report.perm_id] = ref
                self._apply_status(
                    ref,
                    report.status,
                    report.received_at,
                    perm_id=report.perm_id,
                    filled=int(report.filled),
                    avg=report.avg_fill_price,
                )
            self.order_event(
                ref,
                source="orderStatus",
                status=report.status,
                perm_id=report.perm_id or None,
                order_id=report.order_id or None,
                filled=int(report.filled),
                remaining=int(report.remaining),
                avg_fill_price=float(report.avg_fill_price) if report.avg_fill_price else None,
                raw=_raw(report),
            )
        elif isinstance(report, ReportedExecution):
            if report.exec_id not in self._written_fills and report.exec_id not in self._fills:
                self._fills_waiting[report.exec_id] = (report, _now())
                self._ready_fill(report.exec_id)
            ref = report.order_ref or self.ref_for(perm_id=report.perm_id)
            if ref and ref in self.orders:
                row = self.orders[ref]
                if not row.get("first_fill_at"):
                    self.update_order(ref, first_fill_at=report.received_at)
        elif isinstance(report, ReportedCommission):
            self._commissions[report.exec_id] = report
            self._ready_fill(report.exec_id)
        elif isinstance(report, ReportedError) and report.req_id > 0:
            ref = self.ref_for(client_id=self.client_id, order_id=report.req_id)
            if ref:
                self.order_event(
                    ref,
                    source="error",
                    status="error",
                    order_id=report.req_id,
                    error_code=report.code,
                    error_message=report.message,
                    raw=_raw(report),
                )
                if report.is_order_failure and report.code not in (202, 10147, 10148):
                    row = self.orders.get(ref, {})
                    changes: dict[str, Any] = {"error_code": report.code, "error_message": report.message}
                    if row.get("status") in ("Cancelled", "Inactive", "sent"):
                        changes["status"] = "rejected"
                    self.update_order(ref, **changes)
        self._touch()

    def _apply_status(
        self,
        ref: str,
        status: str,
        at: datetime,
        *,
        perm_id: int = 0,
        filled: int | None = None,
        avg: Decimal | None = None,
    ) -> None:
        row = self.orders[ref]
        if status == "Inactive" or (status == "Cancelled" and row.get("error_code")):
            status = "rejected"  # a rejection is never recorded as a plain cancel (issue 4.5)
        changes: dict[str, Any] = {}
        try:
            allowed = may_record(row.get("status"), status)
        except UnknownOrderStatusError as exc:  # a word IB has not used before: logged, not recorded
            log.error("broker.ledger.status_unknown", order_ref=ref, status=status, error=str(exc))
            allowed = False
        if allowed:
            changes["status"] = status
        elif status in OrderStatus.__members__.values():  # e.g. a late Submitted after Filled
            log.warning("broker.ledger.status_move_refused", order_ref=ref, old=row.get("status"), new=status)
        if perm_id:
            changes["perm_id"] = perm_id
        if status in ACKNOWLEDGED and perm_id and not row.get("acknowledged_at"):
            changes["acknowledged_at"] = at
        if filled is not None:
            changes["filled"] = filled
        if avg:
            changes["avg_fill_price"] = avg
        self.update_order(ref, **changes)

    def _ready_fill(self, exec_id: str, *, force: bool = False) -> None:
        waiting = self._fills_waiting.get(exec_id)
        if waiting is None:
            return
        execution, seen = waiting
        commission = self._commissions.get(exec_id)
        if commission is None and not force and _now() - seen < COMMISSION_GRACE:
            return
        self._fills_waiting.pop(exec_id)
        self._fills[exec_id] = self.fill_row(execution, commission)

    def fill_row(self, e: ReportedExecution, commission: ReportedCommission | None) -> dict[str, Any]:
        side = side_from_exec_side(e.side)
        reported = commission.commission if commission is not None else None
        estimated: Decimal | None = None
        try:
            estimated = fill_fees(e.symbol, int(e.shares), e.price, on=e.time.date()).total
        except Exception as exc:  # an unknown symbol must not lose the fill
            log.warning("broker.fill.fee_estimate_failed", exec_id=e.exec_id, error=str(exc))
        ref = e.order_ref or self.ref_for(perm_id=e.perm_id) or None
        return {
            "exec_id": e.exec_id,
            "ts": e.time,
            "run_id": self.run_id,
            "account": e.account,
            "order_ref": ref,
            "perm_id": e.perm_id,
            "order_id": e.order_id,
            "symbol": e.symbol,
            "side": side.value,
            "quantity": int(e.shares),
            "price": e.price,
            "commission": reported,
            "fees": reported if reported is not None else estimated,
            "currency": commission.currency if commission is not None else "HKD",
            "realized_pnl": float(commission.realized_pnl)
            if commission and commission.realized_pnl
            else None,
            "source": "stream" if e.req_id == -1 else "sync",
            "raw": _json(
                {
                    "execution": {k: getattr(e, k) for k in e.__dataclass_fields__},
                    "commission_reported": commission is not None,
                    "fees_estimated": str(estimated) if estimated is not None else None,
                }
            ),
        }

    # -- writing -----------------------------------------------------------------------------------

    async def flush(self, *, final: bool = False) -> None:
        async with self._lock:
            for exec_id in list(self._fills_waiting):
                self._ready_fill(exec_id, force=final)
            orders = [dict(self.orders[r]) for r in sorted(self._dirty_orders)]
            events, fills, risk = self._events, list(self._fills.values()), self._risk
            intents = list(self._intent_rows.values())
            self._dirty_orders, self._events, self._fills, self._risk = set(), [], {}, []
            self._intent_rows = {}
            if not (orders or events or fills or risk or intents):
                return
            if self.ledger is not None:
                try:
                    await asyncio.to_thread(self._write, orders, events, fills, risk, intents)
                except BaseException:
                    self._requeue(orders, events, fills, risk, intents)  # nothing recorded is lost
                    raise
            self._written_fills.update(f["exec_id"] for f in fills)
            log.debug(
                "broker.ledger.flushed",
                orders=len(orders),
                events=len(events),
                fills=len(fills),
                risk_events=len(risk),
            )

    def _requeue(
        self,
        orders: list[dict[str, Any]],
        events: list[dict[str, Any]],
        fills: list[dict[str, Any]],
        risk: list[dict[str, Any]],
        intents: list[dict[str, Any]],
    ) -> None:
        """A write that failed (ledger busy or broken): its rows go back in front of what was queued
        since, so the next flush writes them; order rows are kept as their newest state."""
        self._dirty_orders |= {str(r["order_ref"]) for r in orders}
        self._events = events + self._events
        self._fills = {**{str(f["exec_id"]): f for f in fills}, **self._fills}
        self._risk = risk + self._risk
        self._intent_rows = {**{str(r["intent_id"]): r for r in intents}, **self._intent_rows}

    async def flush_or_keep(self, what: str) -> bool:
        """Flush; a ledger that cannot be written keeps the rows queued (the next flush retries) and
        is logged critical instead of raising: for paths that already sent an order and must go on
        (an exit), where raising would hide that the order left. True when written."""
        try:
            await self.flush()
        except Exception as exc:
            log.critical("broker.ledger.flush_deferred", what=what, error=f"{type(exc).__name__}: {exc}")
            return False
        return True

    def _write(
        self,
        orders: list[dict[str, Any]],
        events: list[dict[str, Any]],
        fills: list[dict[str, Any]],
        risk: list[dict[str, Any]],
        intents: list[dict[str, Any]],
    ) -> None:
        assert self.ledger is not None
        with self.ledger.transaction():  # one connection, one lock, all or nothing
            for row in intents:
                self.ledger.upsert("intents", row)
            for row in orders:
                self.ledger.upsert("orders", row)
            if events:
                self.ledger.append("order_events", events)
            if fills:
                self.ledger.append("fills", fills)
            if risk:
                self.ledger.append("risk_events", risk)
