"""Risk events that a person must hear about, turned into alerts.

The broker session records a risk event for every bracket it could not prove (and what its failure
path cancelled and flattened), every flatten the broker did not acknowledge, every symbol it refused
to trade. :class:`RiskEventAlerts` is the session's ``on_risk_event`` hook: each warning or critical
event becomes an alert. Delivery runs on a worker thread, because the hook is called on the event
loop and a channel can take seconds; :meth:`RiskEventAlerts.drain` waits for it before the process
ends, so no alert is lost with the process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, Protocol

import structlog

from catalyst.risk.alerts import AlertOutcome, Severity
from catalyst.risk.errors import AlertConfigError

log = structlog.get_logger(__name__)

#: Kinds whose alert is critical whatever severity the event was recorded with: each can leave an
#: account exposed (an unproven bracket, a flatten, an exit working without its position).
CRITICAL_KINDS = frozenset(
    {
        "bracket_unproven",
        "flatten_unconfirmed",
        "flatten_failed",
        "unprotected_flattened",
        "protection_unproven",
        "protection_repair_failed",
        "naked_exit",
        "over_coverage",
        "global_cancel_incomplete",
        "breaker_tripped",
        "symbol_locked",
    }
)
#: The risk events of the monitor's own broker session that the monitor does not alert on itself
#: (it alerts its repairs, closes, naked exits and breaker trips with its own wording): the rest
#: would reach a person twice.
MONITOR_SESSION_KINDS = frozenset({"flatten_unconfirmed", "global_cancel_incomplete", "symbol_locked"})
#: How long :meth:`RiskEventAlerts.drain` waits by default for queued alerts to be delivered.
DRAIN_TIMEOUT = 120.0


class AlertSink(Protocol):
    """What raises one alert: :class:`~catalyst.risk.alerts.Alerter`."""

    def alert(
        self, severity: Severity | str, title: str, body: str = "", *, dedup_key: str = ""
    ) -> AlertOutcome: ...


def alert_severity(event: Mapping[str, Any]) -> Severity | None:
    """The alert's severity for a risk event, or ``None`` for an event nobody needs to be told of."""
    if str(event.get("kind", "")) in CRITICAL_KINDS:
        return Severity.CRITICAL
    try:
        severity = Severity.parse(str(event.get("severity", "info")))
    except AlertConfigError:
        return Severity.WARNING  # an unknown severity is not a reason to stay silent
    return None if severity is Severity.INFO else severity


def _detail(event: Mapping[str, Any]) -> Mapping[str, Any]:
    detail = event.get("detail")
    return detail if isinstance(detail, Mapping) else {}


def alert_title(event: Mapping[str, Any]) -> str:
    """A title that says what happened, where, and for bracket failures what the failure path did."""
    kind = str(event.get("kind", "risk_event"))
    symbol = event.get("symbol") or "-"
    account = event.get("account") or "?"
    detail = _detail(event)
    if kind == "bracket_unproven":
        title = f"Bracket NOT proven: {symbol} ({account})"
        if detail.get("flatten_error"):
            title += ", FLATTEN FAILED"
        elif int(detail.get("flattened") or 0) > 0:
            title += f", flattened {detail['flattened']}"
        return title
    return f"{kind.replace('_', ' ').capitalize()}: {symbol} ({account})"


def alert_body(event: Mapping[str, Any]) -> str:
    detail = _detail(event)
    lines = [str(event.get("message", ""))]
    for key in ("cancelled", "entry_filled", "flattened", "flatten_ref", "flatten_error"):
        if detail.get(key) not in (None, "", []):
            lines.append(f"{key}: {detail[key]}")
    if event.get("run_id"):
        lines.append(f"run {event['run_id']}")
    return "\n".join(lines)


def dedup_key(event: Mapping[str, Any]) -> str:
    """Repeats of the same event are one alert; two brackets failing are two."""
    return ":".join(
        str(part or "")
        for part in (
            "risk",
            event.get("account"),
            event.get("kind"),
            event.get("symbol"),
            event.get("message"),
        )
    )


def alert_function(alerter: AlertSink) -> Callable[[str, str, str, str], object]:
    """``alert(severity, title, body, dedup_key)`` over an alerter: the shape the reconciliation
    (which may not import this package's classes into its signature) takes."""

    def alert(severity: str, title: str, body: str, key: str) -> object:
        return alerter.alert(severity, title, body, dedup_key=key)

    return alert


class RiskEventAlerts:
    """The broker session's ``on_risk_event`` hook: alert on every warning or critical event."""

    def __init__(self, alerter: AlertSink, *, only: frozenset[str] | None = None) -> None:
        """``only``: alert on these kinds alone (None: every warning or critical event)."""
        self.alerter = alerter
        self.only = only
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="catalyst-alerts")
        self._pending: list[Future[AlertOutcome]] = []
        self._lock = threading.Lock()
        self.outcomes: list[AlertOutcome] = []

    def __call__(self, event: Mapping[str, Any]) -> None:
        severity = alert_severity(event)
        if severity is None or (self.only is not None and str(event.get("kind", "")) not in self.only):
            return
        title, body, key = alert_title(event), alert_body(event), dedup_key(event)
        log.info(
            "risk.event_alert", kind=event.get("kind"), symbol=event.get("symbol"), severity=severity.value
        )
        future = self._pool.submit(self._deliver, severity, title, body, key)
        with self._lock:
            self._pending.append(future)

    def _deliver(self, severity: Severity, title: str, body: str, key: str) -> AlertOutcome:
        outcome = self.alerter.alert(severity, title, body, dedup_key=key)
        with self._lock:
            self.outcomes.append(outcome)
        return outcome

    def drain(self, timeout: float = DRAIN_TIMEOUT) -> int:
        """Wait until every queued alert is delivered (or in the alert file); the number still
        pending when ``timeout`` ran out (logged CRITICAL: those alerts may be lost)."""
        with self._lock:
            pending, self._pending = self._pending, []
        _done, left = wait(pending, timeout=timeout)
        for future in pending:
            if future.done() and future.exception() is not None:
                log.critical("risk.event_alert.failed", error=str(future.exception()))
        if left:
            log.critical("risk.event_alert.undelivered_at_exit", pending=len(left))
        return len(left)

    def close(self, timeout: float = DRAIN_TIMEOUT) -> int:
        left = self.drain(timeout)
        self._pool.shutdown(wait=left == 0, cancel_futures=left > 0)
        return left
