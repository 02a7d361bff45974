"""What the broker said, message by message, independent of ib_async's own bookkeeping.

ib_async keeps a local ``Trade`` per order and edits it on its own: it invents statuses
(``PendingSubmit``, ``ValidationError``), marks an order ``Cancelled`` after any order error even
when IB still holds it, and never updates a known order's ``parentId`` or ``action`` from the
broker (tws-protocol.md §5.3, §5.4). Rule 1 needs the broker's word, so this module taps the
decoded messages on their way into ib_async's wrapper (the decoder looks the wrapper methods up at
call time) and keeps an immutable record of each: openOrder, completedOrder, orderStatus,
execDetails, commissionReport and error. Every record is logged in full (rule 9) and handed to an
optional sink (the ledger recorder). Waiters are woken on every new record, so proofs are driven by
broker events instead of sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import structlog

from catalyst.broker.order_mapping import decimal_from_wire

log = structlog.get_logger(__name__)

T = TypeVar("T")

#: Error codes that are warnings: the order (if any) is still alive (tws-protocol.md §5.4).
WARNING_CODES = frozenset({105, 165, 321, 329, 399, 404, 434, 492, 10167})
#: Connectivity notices: handled by the connection, never an order failure.
CONNECTIVITY_CODES = frozenset({1100, 1101, 1102, 2103, 2104, 2105, 2106, 2157, 2158})


def _now() -> datetime:
    return datetime.now(UTC)


def _int_or_zero(value: Any) -> int:
    try:
        out = int(value)
    except (TypeError, ValueError):
        return 0
    return 0 if out >= 2147483647 else out


def _qty(value: Any) -> Decimal:
    dec = decimal_from_wire(float(value)) if value not in (None, "") else None
    return dec if dec is not None else Decimal(0)


@dataclass(frozen=True)
class ReportedOrder:
    """One openOrder or completedOrder message as the broker built it."""

    received_at: datetime
    source: str  # "openOrder" | "completedOrder"
    order_id: int
    client_id: int
    perm_id: int
    parent_id: int
    parent_perm_id: int
    con_id: int
    symbol: str
    exchange: str
    action: str
    quantity: Decimal
    order_type: str
    limit_price: Decimal | None
    stop_price: Decimal | None
    tif: str
    oca_group: str
    oca_type: int
    account: str
    order_ref: str
    status: str
    filled_quantity: Decimal | None = None
    completed_time: str = ""
    completed_status: str = ""
    warning_text: str = ""


@dataclass(frozen=True)
class ReportedStatus:
    """One orderStatus message."""

    received_at: datetime
    order_id: int
    client_id: int
    perm_id: int
    parent_id: int
    status: str
    filled: Decimal
    remaining: Decimal
    avg_fill_price: Decimal | None
    last_fill_price: Decimal | None
    why_held: str


@dataclass(frozen=True)
class ReportedExecution:
    """One execDetails message (a fill), live (``req_id`` -1) or answering reqExecutions."""

    received_at: datetime
    req_id: int
    exec_id: str
    time: datetime
    account: str
    con_id: int
    symbol: str
    side: str  # BOT / SLD as the broker sent it
    shares: Decimal
    price: Decimal
    perm_id: int
    client_id: int
    order_id: int
    cum_qty: Decimal
    avg_price: Decimal
    order_ref: str


@dataclass(frozen=True)
class ReportedCommission:
    """One commissionReport message, joined to its fill by ``exec_id``."""

    received_at: datetime
    exec_id: str
    commission: Decimal | None
    currency: str
    realized_pnl: Decimal | None


@dataclass(frozen=True)
class ReportedError:
    """One error message (IB uses the same message for warnings and notices)."""

    received_at: datetime
    req_id: int
    code: int
    message: str
    advanced: str = ""

    @property
    def is_order_failure(self) -> bool:
        return (
            self.req_id > 0
            and self.code not in WARNING_CODES
            and self.code not in CONNECTIVITY_CODES
            and not 2100 <= self.code < 2200
        )


@dataclass(frozen=True)
class ReportedPosition:
    """One position message (reqPositions answers and pushes) whose quantity differs from the last."""

    received_at: datetime
    account: str
    con_id: int
    symbol: str
    quantity: int  # signed
    previous: int | None  # the quantity last reported for (account, con_id); None: first report


Report = ReportedOrder | ReportedStatus | ReportedExecution | ReportedCommission | ReportedError
ReportSink = Callable[[Report], None]
#: Called on every change of a position's quantity (kept apart from ``Report``: the ledger recorder
#: writes rows for orders and fills, positions are the reconciler's business).
PositionSink = Callable[[ReportedPosition], None]


def _as_log_fields(report: Report | ReportedPosition) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(report):
        value = getattr(report, f.name)
        out[f.name] = str(value) if isinstance(value, Decimal | datetime) else value
    return out


def _commission_report(report: Any) -> ReportedCommission:
    """A ``commissionReport`` message as the report it records."""
    return ReportedCommission(
        received_at=_now(),
        exec_id=report.execId,
        commission=decimal_from_wire(report.commission),
        currency=report.currency,
        realized_pnl=decimal_from_wire(report.realizedPNL),
    )


def _error_report(req_id: int, code: int, message: str, advanced: str) -> ReportedError:
    """An ``error`` message as the report it records."""
    return ReportedError(
        received_at=_now(), req_id=int(req_id), code=int(code), message=message, advanced=advanced or ""
    )


class BrokerReports:
    """The broker's own reports for one ib_async connection, with event-driven waiting."""

    def __init__(self) -> None:
        self.orders: dict[tuple[int, int], ReportedOrder] = {}
        self.orders_by_perm: dict[int, ReportedOrder] = {}
        self.completed_by_perm: dict[int, ReportedOrder] = {}
        self.statuses: dict[tuple[int, int], ReportedStatus] = {}
        self.statuses_by_perm: dict[int, ReportedStatus] = {}
        self.executions: dict[str, ReportedExecution] = {}
        self.commissions: dict[str, ReportedCommission] = {}
        self.errors: list[ReportedError] = []
        self._errors_by_req: dict[int, list[ReportedError]] = {}
        self._sinks: list[ReportSink] = []
        self.positions: dict[tuple[str, int], ReportedPosition] = {}
        self._position_sinks: list[PositionSink] = []
        self._changed = asyncio.Event()
        self.version = 0

    # -- wiring ------------------------------------------------------------------------------------

    def add_sink(self, sink: ReportSink) -> None:
        self._sinks.append(sink)

    def add_position_sink(self, sink: PositionSink) -> None:
        """Be called on every change of a position's quantity the broker reports (any client's fill,
        a manual trade, a transfer): the position monitor checks protection on these."""
        self._position_sinks.append(sink)

    def install(self, ib: Any) -> None:
        """Tap ``ib``'s wrapper: record each decoded message, then let ib_async handle it."""
        self._tap_orders(ib.wrapper)
        self._tap_status(ib.wrapper)
        self._tap_reports(ib.wrapper)

    def _tap_orders(self, wrapper: Any) -> None:
        """Record ``openOrder`` (not a what-if), ``completedOrder`` and ``execDetails``."""
        original_open = wrapper.openOrder
        original_completed = wrapper.completedOrder
        original_exec = wrapper.execDetails

        def open_order(order_id: int, contract: Any, order: Any, state: Any) -> None:
            if not getattr(order, "whatIf", False):
                self._guard(lambda: self.record_order("openOrder", contract, order, state))
            original_open(order_id, contract, order, state)

        def completed_order(contract: Any, order: Any, state: Any) -> None:
            self._guard(lambda: self.record_order("completedOrder", contract, order, state))
            original_completed(contract, order, state)

        def exec_details(req_id: int, contract: Any, execution: Any) -> None:
            self._guard(lambda: self.record_execution(req_id, contract, execution))
            original_exec(req_id, contract, execution)

        wrapper.openOrder = open_order
        wrapper.completedOrder = completed_order
        wrapper.execDetails = exec_details

    def _tap_status(self, wrapper: Any) -> None:
        """Record ``orderStatus``."""
        original_status = wrapper.orderStatus

        def order_status(
            order_id: int,
            status: str,
            filled: float,
            remaining: float,
            avg_fill_price: float,
            perm_id: int,
            parent_id: int,
            last_fill_price: float,
            client_id: int,
            why_held: str,
            mkt_cap_price: float = 0.0,
        ) -> None:
            self._guard(
                lambda: self.add(
                    ReportedStatus(
                        received_at=_now(),
                        order_id=_int_or_zero(order_id),
                        client_id=_int_or_zero(client_id),
                        perm_id=_int_or_zero(perm_id),
                        parent_id=_int_or_zero(parent_id),
                        status=status,
                        filled=_qty(filled),
                        remaining=_qty(remaining),
                        avg_fill_price=decimal_from_wire(avg_fill_price) or None,
                        last_fill_price=decimal_from_wire(last_fill_price) or None,
                        why_held=why_held,
                    )
                )
            )
            original_status(
                order_id,
                status,
                filled,
                remaining,
                avg_fill_price,
                perm_id,
                parent_id,
                last_fill_price,
                client_id,
                why_held,
                mkt_cap_price,
            )

        wrapper.orderStatus = order_status

    def _tap_reports(self, wrapper: Any) -> None:
        """Record ``commissionReport``, ``error`` and ``position``."""
        original_commission = wrapper.commissionReport
        original_error = wrapper.error
        original_position = wrapper.position

        def commission_report(report: Any) -> None:
            self._guard(lambda: self.add(_commission_report(report)))
            original_commission(report)

        def error(req_id: int, code: int, message: str, advanced: str = "") -> None:
            self._guard(lambda: self.add(_error_report(req_id, code, message, advanced)))
            original_error(req_id, code, message, advanced)

        def position(account: str, contract: Any, pos_size: float, avg_cost: float) -> None:
            self._guard(lambda: self.record_position(account, contract, pos_size))
            original_position(account, contract, pos_size, avg_cost)

        wrapper.commissionReport = commission_report
        wrapper.error = error
        wrapper.position = position

    def _guard(self, action: Callable[[], None]) -> None:
        try:
            action()
        except Exception:  # a recording bug must never stop ib_async from handling the message
            log.exception("broker.reports.record_failed")

    # -- recording ---------------------------------------------------------------------------------

    def record_order(self, source: str, contract: Any, order: Any, state: Any) -> None:
        filled = getattr(order, "filledQuantity", None)
        self.add(
            ReportedOrder(
                received_at=_now(),
                source=source,
                order_id=_int_or_zero(order.orderId),
                client_id=_int_or_zero(order.clientId),
                perm_id=_int_or_zero(order.permId),
                parent_id=_int_or_zero(order.parentId),
                parent_perm_id=_int_or_zero(getattr(order, "parentPermId", 0)),
                con_id=_int_or_zero(contract.conId),
                symbol=str(contract.symbol),
                exchange=str(contract.exchange),
                action=str(order.action),
                quantity=_qty(order.totalQuantity),
                order_type=str(order.orderType),
                limit_price=decimal_from_wire(order.lmtPrice),
                stop_price=decimal_from_wire(order.auxPrice),
                tif=str(order.tif),
                oca_group=str(order.ocaGroup),
                oca_type=_int_or_zero(order.ocaType),
                account=str(order.account),
                order_ref=str(order.orderRef),
                status=str(state.status),
                filled_quantity=decimal_from_wire(filled) if source == "completedOrder" else None,
                completed_time=str(getattr(state, "completedTime", "")),
                completed_status=str(getattr(state, "completedStatus", "")),
                warning_text=str(getattr(state, "warningText", "")),
            )
        )

    def record_execution(self, req_id: int, contract: Any, execution: Any) -> None:
        self.add(
            ReportedExecution(
                received_at=_now(),
                req_id=int(req_id),
                exec_id=str(execution.execId),
                time=execution.time if isinstance(execution.time, datetime) else _now(),
                account=str(execution.acctNumber),
                con_id=_int_or_zero(contract.conId),
                symbol=str(contract.symbol),
                side=str(execution.side),
                shares=_qty(execution.shares),
                price=decimal_from_wire(execution.price) or Decimal(0),
                perm_id=_int_or_zero(execution.permId),
                client_id=_int_or_zero(execution.clientId),
                order_id=_int_or_zero(execution.orderId),
                cum_qty=_qty(execution.cumQty),
                avg_price=decimal_from_wire(execution.avgPrice) or Decimal(0),
                order_ref=str(execution.orderRef),
            )
        )

    def record_position(self, account: str, contract: Any, pos_size: Any) -> None:
        """Keep the newest quantity per (account, conId); a change wakes waiters and the sinks."""
        key = (str(account), _int_or_zero(contract.conId))
        quantity = int(_qty(pos_size))
        before = self.positions.get(key)
        if before is not None and before.quantity == quantity:
            return  # an answer to reqPositions repeating what is known
        report = ReportedPosition(
            received_at=_now(),
            account=key[0],
            con_id=key[1],
            symbol=str(contract.symbol),
            quantity=quantity,
            previous=before.quantity if before is not None else None,
        )
        self.positions[key] = report
        log.info("broker.recv.position", **_as_log_fields(report))
        for sink in self._position_sinks:
            try:
                sink(report)
            except Exception:
                log.exception("broker.reports.position_sink_failed")
        self.version += 1
        self._changed.set()

    def add(self, report: Report) -> None:
        if isinstance(report, ReportedOrder):
            if report.source == "openOrder":
                self.orders[(report.client_id, report.order_id)] = report
                if report.perm_id:
                    self.orders_by_perm[report.perm_id] = report
            elif report.perm_id:
                self.completed_by_perm[report.perm_id] = report
            log.info("broker.recv.order", **_as_log_fields(report))
        elif isinstance(report, ReportedStatus):
            self.statuses[(report.client_id, report.order_id)] = report
            if report.perm_id:
                self.statuses_by_perm[report.perm_id] = report
            log.info("broker.recv.order_status", **_as_log_fields(report))
        elif isinstance(report, ReportedExecution):
            self.executions[report.exec_id] = report
            log.info("broker.recv.execution", **_as_log_fields(report))
        elif isinstance(report, ReportedCommission):
            self.commissions[report.exec_id] = report
            log.info("broker.recv.commission", **_as_log_fields(report))
        else:
            self.errors.append(report)
            self._errors_by_req.setdefault(report.req_id, []).append(report)
            level = "warning" if report.is_order_failure else "info"
            getattr(log, level)("broker.recv.error", **_as_log_fields(report))
        for sink in self._sinks:
            try:
                sink(report)
            except Exception:
                log.exception("broker.reports.sink_failed", report_type=type(report).__name__)
        self.version += 1
        self._changed.set()

    # -- reading -----------------------------------------------------------------------------------

    def notify(self) -> None:
        """Wake every waiter (connection state changed): probes re-check and may give up."""
        self.version += 1
        self._changed.set()

    def forget_order_ids(self) -> None:
        """After a reconnect order ids may be reused (nextValidId rollback): keep only permId keys."""
        self.orders.clear()
        self.statuses.clear()

    def latest_order(
        self, *, client_id: int = 0, order_id: int = 0, perm_id: int = 0
    ) -> ReportedOrder | None:
        """The newest openOrder/completedOrder for an order, by permId first, else by (client, id)."""
        candidates: list[ReportedOrder] = []
        if perm_id:
            for table in (self.orders_by_perm, self.completed_by_perm):
                if perm_id in table:
                    candidates.append(table[perm_id])
        if order_id and (client_id, order_id) in self.orders:
            candidates.append(self.orders[(client_id, order_id)])
        return max(candidates, key=lambda r: r.received_at) if candidates else None

    def latest_status(
        self, *, client_id: int = 0, order_id: int = 0, perm_id: int = 0
    ) -> ReportedStatus | None:
        candidates: list[ReportedStatus] = []
        if perm_id and perm_id in self.statuses_by_perm:
            candidates.append(self.statuses_by_perm[perm_id])
        if order_id and (client_id, order_id) in self.statuses:
            candidates.append(self.statuses[(client_id, order_id)])
        return max(candidates, key=lambda r: r.received_at) if candidates else None

    def orders_with_ref(self, order_ref: str) -> list[ReportedOrder]:
        """Every distinct order (by permId) the broker reported with this orderRef, newest record each."""
        found: dict[int, ReportedOrder] = {}
        for table in (self.orders_by_perm, self.completed_by_perm):
            for perm_id, rep in table.items():
                if rep.order_ref == order_ref and (
                    perm_id not in found or rep.received_at > found[perm_id].received_at
                ):
                    found[perm_id] = rep
        return list(found.values())

    def executions_for(self, *, perm_id: int = 0, order_ref: str = "") -> list[ReportedExecution]:
        return sorted(
            (
                e
                for e in self.executions.values()
                if (perm_id and e.perm_id == perm_id) or (order_ref and e.order_ref == order_ref)
            ),
            key=lambda e: e.time,
        )

    def errors_for_order(self, order_id: int, *, since: datetime | None = None) -> list[ReportedError]:
        found = self._errors_by_req.get(order_id, [])
        return [e for e in found if since is None or e.received_at >= since]

    async def wait_for(self, probe: Callable[[], T | None], timeout: float) -> T | None:
        """Re-evaluate ``probe`` after every broker message until it returns a value or time runs out.

        Returns None on timeout (the caller decides what a timeout means).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = probe()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    def describe(self, reports: Iterable[Report]) -> list[dict[str, Any]]:
        return [_as_log_fields(r) for r in reports]
