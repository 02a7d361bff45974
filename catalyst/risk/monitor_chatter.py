"""The monitor's routine polling logs at debug, with one summary line a minute at info.

The monitor asks the broker for quotes four times a second and for positions, open orders and the
account every poll; each request and each answer is a log record of ``catalyst.broker`` at info (the
broker module logs every request with its answer, rule 9). For the monitor those are polls, not
events: about 15 MB an hour with two positions. While the monitor runs one of its routine duties
(:data:`ROUTINE_STEPS`), this module turns the broker queries' info records into debug records
(written only when the log level is DEBUG, marked ``"routine": true``) and counts them; once a
minute the monitor logs one ``monitor.polls`` line with the counts and the last price of each symbol
it quoted. What happened stays at info: the monitor's own findings and actions, risk events, alerts,
orders it sends and every report the broker pushes (fills, order statuses, positions) are logged by
other loggers; warnings and errors are never lowered.

Two more kinds of echo go to debug once a monitor runs in the process (its polls cause them):

* the broker's reports of an order, an order status or a position that repeat, field for field, the
  last report of the same order or position (every open-orders poll and every status sync re-reports
  each working order unchanged); a report that changes anything stays at info;
* the IB client library's own info lines (``ib_async.wrapper``: "position: ...", "orderStatus: ...",
  "execDetails ..."), which repeat in free text what ``broker.recv.*`` records in structured form.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog

log = structlog.get_logger(__name__)

#: The monitor's duties whose broker queries are routine polling (a reconciliation is not: it decides).
ROUTINE_STEPS = frozenset({"quotes", "breaker", "poll", "sync"})
#: Loggers whose info records, inside a routine duty, are polling chatter.
ROUTINE_LOGGERS = ("catalyst.broker.queries",)
#: How often the summary line is logged.
SUMMARY_EVERY = timedelta(seconds=60)

_current: ContextVar[PollTally | None] = ContextVar("catalyst_monitor_poll_tally", default=None)


@dataclass
class PollTally:
    """What the routine polls asked since the last summary line."""

    since: datetime | None = None
    passes: int = 0
    records: Counter[str] = field(default_factory=Counter)
    last: dict[str, str] = field(default_factory=dict)

    def note(self, event: str, fields: dict[str, Any]) -> None:
        self.records[event] += 1
        if event == "broker.query.quote" and fields.get("symbol"):
            self.last[str(fields["symbol"])] = str(fields.get("last") or fields.get("bid") or "")

    @contextlib.contextmanager
    def quiet(self, step: str) -> Iterator[None]:
        """Inside: the broker queries of a routine ``step`` log at debug (other steps: unchanged)."""
        if step not in ROUTINE_STEPS:
            yield
            return
        install_demoter()
        token = _current.set(self)
        try:
            yield
        finally:
            _current.reset(token)

    def summary(self, now: datetime) -> dict[str, Any] | None:
        """The summary line's fields once a minute has passed since the last one, and a fresh start."""
        if self.since is None:
            self.since = now
            return None
        if now - self.since < SUMMARY_EVERY:
            return None
        fields = {
            "seconds": round((now - self.since).total_seconds(), 1),
            "passes": self.passes,
            "quotes": self.records.get("broker.query.quote", 0),
            "queries": self.records.get("broker.query.request", 0),
            "last": dict(sorted(self.last.items())),
        }
        self.since, self.passes = now, 0
        self.records.clear()
        self.last.clear()
        return fields

    def pass_done(self, now: datetime) -> None:
        """Count one monitor pass; log the summary line when it is due."""
        self.passes += 1
        fields = self.summary(now)
        if fields is not None:
            log.info("monitor.polls", **fields)


def _demote(record: logging.LogRecord, **extra: Any) -> bool:
    """Make ``record`` a debug record; True when this process writes debug records at all."""
    record.levelno, record.levelname = logging.DEBUG, "DEBUG"
    if isinstance(record.msg, dict):
        record.msg = {**record.msg, "level": "debug", **extra}
    # handlers at INFO (the events file, the console, the ledger mirror) would pass it over anyway
    return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


class RoutineDemoter(logging.Filter):
    """Turns an info record made inside :meth:`PollTally.quiet` into a debug record and counts it."""

    def filter(self, record: logging.LogRecord) -> bool:
        tally = _current.get()
        if tally is None or record.levelno != logging.INFO:
            return True
        message = record.msg
        event = str(message.get("event", "")) if isinstance(message, dict) else record.getMessage()
        tally.note(event, message if isinstance(message, dict) else {})
        return _demote(record, routine=True)


#: Broker reports whose unchanged repeats are echoes, and the fields that name what they are about.
_REPORT_KEYS: dict[str, tuple[str, ...]] = {
    "broker.recv.order": ("perm_id", "client_id", "order_id", "source"),
    "broker.recv.order_status": ("perm_id", "client_id", "order_id"),
    "broker.recv.position": ("account", "con_id"),
    "broker.recv.execution": ("exec_id",),  # every status sync asks for the day's executions again
    "broker.recv.commission": ("exec_id",),
}
#: Fields that differ between two reports of the same state.
_WHEN_FIELDS = frozenset({"received_at", "timestamp", "previous"})
_MAX_REMEMBERED = 20_000


class RepeatDemoter(logging.Filter):
    """Turns a broker report that repeats the last one about the same order or position into a
    debug record (``"repeat": true``)."""

    def __init__(self) -> None:
        super().__init__()
        self._last: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg
        if record.levelno != logging.INFO or not isinstance(message, dict):
            return True
        event = str(message.get("event", ""))
        keys = _REPORT_KEYS.get(event)
        if keys is None:
            return True
        key = (event, *(str(message.get(k)) for k in keys))
        state = tuple(sorted((k, str(v)) for k, v in message.items() if k not in _WHEN_FIELDS))
        if self._last.get(key) != state:
            if len(self._last) >= _MAX_REMEMBERED:
                self._last.clear()
            self._last[key] = state
            return True
        return _demote(record, repeat=True)


class ClientEchoDemoter(logging.Filter):
    """The IB client library's info lines (free-text echoes of the broker's messages) to debug."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return True
        return _demote(record)


#: logger name -> the filter that quiets it (attached once per process).
_FILTERS: dict[str, logging.Filter] = {
    **dict.fromkeys(ROUTINE_LOGGERS, RoutineDemoter()),
    "catalyst.broker.report_log": RepeatDemoter(),
    "ib_async.wrapper": ClientEchoDemoter(),
}


def install_demoter() -> None:
    """Attach the filters to their loggers once (idempotent)."""
    for name, quiet in _FILTERS.items():
        logger = logging.getLogger(name)
        if quiet not in logger.filters:
            logger.addFilter(quiet)
