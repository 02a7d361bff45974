"""Layer 4: alerts with severity, deduplication, a rate limit, and a fallback that cannot fail.

An alert nobody receives is worse than none, because everyone assumes it was read. So every
alert that no channel delivered (none configured, all failed, or rate limited) goes to the alert
file (JSON lines), to the log at CRITICAL and as one line to standard error (the terminal, or the
notebook cell's output), and the failure itself is recorded in the ledger's ``alerts`` table
(delivered = false, with the reason: no channel configured, or each channel's error text).
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from catalyst.risk.alert_channels import ChannelOutcome
from catalyst.risk.errors import AlertConfigError

if TYPE_CHECKING:
    from catalyst.ledger import Ledger

log = structlog.get_logger(__name__)


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(str(text).strip().lower())
        except ValueError:
            raise AlertConfigError(
                f"alert severity must be one of {[s.value for s in cls]}, got {text!r}"
            ) from None


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


def _new_alert_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Alert:
    """One thing a person must know. ``dedup_key`` groups repeats (defaults to the title)."""

    severity: Severity
    title: str
    body: str = ""
    dedup_key: str = ""
    ts: datetime | None = None
    alert_id: str = field(default_factory=_new_alert_id)

    @property
    def key(self) -> str:
        return self.dedup_key or self.title


@dataclass(frozen=True)
class AlertPolicy:
    """Which alerts go out: at least ``min_severity``, one per key per ``dedup_window``, and
    at most ``rate_limit`` per ``rate_window`` (critical alerts are never rate limited)."""

    min_severity: Severity = Severity.INFO
    dedup_window: timedelta = timedelta(minutes=10)
    rate_limit: int = 20
    rate_window: timedelta = timedelta(minutes=1)

    def __post_init__(self) -> None:
        if self.rate_limit < 1:
            raise AlertConfigError(f"alerts rate limit must be at least 1, got {self.rate_limit}")
        if self.dedup_window < timedelta(0) or self.rate_window <= timedelta(0):
            raise AlertConfigError("alerts dedup window must be >= 0 and rate window > 0")


def policy_from_settings(settings: Any) -> AlertPolicy:
    """The alert policy of ``Settings.alerts``."""
    a = settings.alerts
    return AlertPolicy(
        min_severity=Severity.parse(a.severity_threshold),
        dedup_window=timedelta(seconds=int(a.dedup_window_seconds)),
        rate_limit=int(a.rate_limit_per_minute),
        rate_window=timedelta(minutes=1),
    )


class Verdict(StrEnum):
    SEND = "send"
    DUPLICATE = "duplicate"
    RATE_LIMITED = "rate_limited"
    BELOW_THRESHOLD = "below_threshold"


class AlertGate:
    """Decides whether an alert goes out now. Deterministic: the caller passes the time."""

    def __init__(self, policy: AlertPolicy) -> None:
        self.policy = policy
        self._last_sent: dict[str, datetime] = {}
        self._sent_times: deque[datetime] = deque()

    def decide(self, alert: Alert, now: datetime) -> Verdict:
        if alert.severity.rank < self.policy.min_severity.rank:
            return Verdict.BELOW_THRESHOLD
        last = self._last_sent.get(alert.key)
        if last is not None and now - last < self.policy.dedup_window:
            return Verdict.DUPLICATE
        while self._sent_times and now - self._sent_times[0] >= self.policy.rate_window:
            self._sent_times.popleft()
        if alert.severity is not Severity.CRITICAL and len(self._sent_times) >= self.policy.rate_limit:
            return Verdict.RATE_LIMITED
        self._last_sent[alert.key] = now
        self._sent_times.append(now)
        return Verdict.SEND


class AlertSender(Protocol):
    """Anything that delivers to channels: :class:`~catalyst.risk.alert_channels.AppriseChannels`."""

    def send(self, title: str, body: str, severity: str) -> list[ChannelOutcome]: ...

    def __len__(self) -> int: ...


@dataclass(frozen=True)
class AlertOutcome:
    alert: Alert
    verdict: Verdict
    delivered: bool
    channels: tuple[ChannelOutcome, ...] = ()
    failure: str = ""
    to_file: bool = False


class Alerter:
    """Sends alerts through the gate and the channels, records them, falls back to the file.

    Thread-safe, so the monitor's loop and a broker callback can both raise alerts.
    """

    def __init__(
        self,
        channels: AlertSender,
        *,
        alert_file: Path,
        policy: AlertPolicy | None = None,
        ledger: Ledger | None = None,
        run_id: str = "",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        say: Callable[[str], None] | None = None,
    ) -> None:
        """``say`` shows one line for each alert no channel delivered (default: standard error,
        which is the terminal of a command and the output of a notebook's cell)."""
        self.channels = channels
        self.alert_file = Path(alert_file)
        self.gate = AlertGate(policy or AlertPolicy())
        self.ledger = ledger
        self.run_id = run_id
        self.clock = clock
        self.say = say or _stderr_line
        self._lock = threading.Lock()

    def alert(
        self, severity: Severity | str, title: str, body: str = "", *, dedup_key: str = ""
    ) -> AlertOutcome:
        sev = severity if isinstance(severity, Severity) else Severity.parse(severity)
        return self.send(Alert(severity=sev, title=title, body=body, dedup_key=dedup_key, ts=self.clock()))

    def send(self, alert: Alert) -> AlertOutcome:
        with self._lock:
            now = alert.ts or self.clock()
            verdict = self.gate.decide(alert, now)
        if verdict in (Verdict.DUPLICATE, Verdict.BELOW_THRESHOLD):
            log.debug("alerts.suppressed", verdict=verdict.value, title=alert.title, key=alert.key)
            return AlertOutcome(alert=alert, verdict=verdict, delivered=False)
        outcomes: tuple[ChannelOutcome, ...] = ()
        if verdict is Verdict.SEND and len(self.channels):
            outcomes = tuple(self.channels.send(alert.title, alert.body, alert.severity.value))
        delivered = any(o.delivered for o in outcomes)
        failure = _failure_text(verdict, outcomes)
        to_file = not delivered
        if to_file:
            self._write_file(alert, now, failure)
            log.critical(
                "alerts.undelivered",
                title=alert.title,
                body=alert.body,
                severity=alert.severity.value,
                failure=failure,
                alert_file=str(self.alert_file),
            )
            self._say_undelivered(alert, failure)
        else:
            log.info("alerts.delivered", title=alert.title, severity=alert.severity.value)
        self._record(alert, now, outcomes, delivered, failure)
        return AlertOutcome(alert, verdict, delivered, outcomes, failure, to_file)

    def _say_undelivered(self, alert: Alert, failure: str) -> None:
        try:
            self.say(
                f"ALERT {alert.severity.value.upper()}: {alert.title} (not delivered: {failure}; "
                f"written to {self.alert_file})"
            )
        except Exception as exc:  # a closed terminal must not stop the ledger row
            log.warning("alerts.say_failed", error=str(exc))

    def _write_file(self, alert: Alert, now: datetime, failure: str) -> None:
        line = {
            "alert_id": alert.alert_id,
            "ts": now.isoformat(),
            "run_id": self.run_id,
            "severity": alert.severity.value,
            "title": alert.title,
            "body": alert.body,
            "dedup_key": alert.key,
            "failure": failure,
        }
        self.alert_file.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.alert_file.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")

    def _record(
        self,
        alert: Alert,
        now: datetime,
        outcomes: Sequence[ChannelOutcome],
        delivered: bool,
        failure: str,
    ) -> None:
        if self.ledger is None:
            return
        row: dict[str, Any] = {
            "alert_id": alert.alert_id,
            "ts": now,
            "run_id": self.run_id or None,
            "severity": alert.severity.value,
            "title": alert.title,
            "body": alert.body,
            "dedup_key": alert.key,
            "channels": json.dumps(
                [{"channel": o.channel, "delivered": o.delivered, "error": o.error} for o in outcomes]
            ),
            "delivered": delivered,
            "failure": failure or None,
        }
        try:
            self.ledger.append("alerts", row)
        except Exception as exc:  # the alert is already in the file or delivered; keep going
            log.critical("alerts.ledger_write_failed", error=str(exc), title=alert.title)


def alerter_from_settings(
    settings: Any,
    *,
    ledger: Ledger | None = None,
    run_id: str = "",
    min_interval: float | None = None,
    say: Callable[[str], None] | None = None,
) -> Alerter:
    """The alerter Catalyst runs with: channels from ``CATALYST_ALERT_URLS`` (via settings, which
    keep them secret), policy and alert file from ``Settings.alerts``."""
    from catalyst.risk.alert_channels import AppriseChannels

    return Alerter(
        AppriseChannels(settings.alert_urls(), min_interval=min_interval),
        alert_file=settings.alert_file,
        policy=policy_from_settings(settings),
        ledger=ledger,
        run_id=run_id,
        say=say,
    )


def _stderr_line(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _failure_text(verdict: Verdict, outcomes: Sequence[ChannelOutcome]) -> str:
    if verdict is Verdict.RATE_LIMITED:
        return "rate limited: not sent to channels"
    if not outcomes:
        return "no alert channels configured (CATALYST_ALERT_URLS is empty)"
    failed = [f"{o.channel}: {o.error}" for o in outcomes if not o.delivered]
    return "; ".join(failed)


def read_alert_file(path: Path) -> list[dict[str, Any]]:
    """The alerts in an alert file, oldest first (for `catalyst risk status` and tests)."""
    if not Path(path).exists():
        return []
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line]
