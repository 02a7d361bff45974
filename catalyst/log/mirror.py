"""Mirror log records into the ledger's ``log_events`` table, in batches, never breaking logging.

Records are rendered by the same chain as the log file (so they are already redacted), buffered,
and appended by a writer thread when the buffer reaches ``batch_size`` and every ``interval``
seconds, on :meth:`flush`, on :meth:`close` and at interpreter exit (``interval=0``: no thread, a full
buffer is written by the logging call itself). The writer thread keeps the logging caller from
waiting for the ledger and from joining a ledger transaction the caller has open. A failing
ledger never raises into the code that logged: the rows stay buffered (up to ``max_buffer``,
oldest dropped and counted) and the first failure is reported once on stderr.
"""

from __future__ import annotations

import atexit
import datetime as dt
import json
import logging
import sys
import threading
import uuid
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class LedgerSink(Protocol):
    """What the mirror needs of ``catalyst.ledger.Ledger`` (the log package may not import it)."""

    def append(self, table: str, rows: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> int: ...


_TOP_LEVEL = ("timestamp", "level", "event", "logger", "run_id")
_live: weakref.WeakSet[LedgerMirrorHandler] = weakref.WeakSet()


def _flush_all_at_exit() -> None:
    for handler in list(_live):
        handler.close()


atexit.register(_flush_all_at_exit)


def record_to_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """One rendered log record as a ``log_events`` row."""
    ts_text = record.get("timestamp")
    try:
        ts = dt.datetime.fromisoformat(str(ts_text)) if ts_text else dt.datetime.now(dt.UTC)
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=dt.UTC)
    except ValueError:
        ts = dt.datetime.now(dt.UTC)
    run_id = record.get("run_id")
    return {
        "event_id": uuid.uuid4().hex,
        "ts": ts,
        "run_id": str(run_id) if run_id is not None else None,
        "level": str(record.get("level", "")) or None,
        "event": str(record.get("event", "")),
        "logger": record.get("logger"),
        "payload": json.dumps({k: v for k, v in record.items() if k not in _TOP_LEVEL}, default=str),
    }


class LedgerMirrorHandler(logging.Handler):
    """A logging handler appending rendered records to ``log_events``."""

    def __init__(
        self,
        ledger: LedgerSink,
        *,
        batch_size: int = 200,
        interval: float = 2.0,
        max_buffer: int = 50_000,
        level: int = logging.NOTSET,
    ) -> None:
        super().__init__(level)
        self.ledger = ledger
        self.batch_size = batch_size
        self.max_buffer = max_buffer
        self.dropped = 0
        self.failures = 0
        self._rows: list[dict[str, Any]] = []
        self._buffer_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._flushing = threading.local()
        self._reported = False
        self._stop = threading.Event()
        self._wake = threading.Event()
        _live.add(self)
        self._thread: threading.Thread | None = None
        if interval > 0:
            self._thread = threading.Thread(
                target=self._run, args=(interval,), name="catalyst-log-ledger-mirror", daemon=True
            )
            self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.is_set():
            self._wake.wait(interval)
            self._wake.clear()
            if not self._stop.is_set():
                self.flush()

    def handle(self, record: logging.LogRecord) -> bool:
        if getattr(self._flushing, "active", False):
            return False  # logged by the ledger while we write to it: never recurse (or deadlock)
        return super().handle(record)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            row = record_to_row(json.loads(self.format(record)))
        except Exception:
            self.handleError(record)
            return
        with self._buffer_lock:
            self._rows.append(row)
            overflow = len(self._rows) - self.max_buffer
            if overflow > 0:
                del self._rows[:overflow]
                self.dropped += overflow
            full = len(self._rows) >= self.batch_size
        if full:
            if self._thread is not None:
                self._wake.set()  # the writer thread flushes: the caller never waits for the ledger
            else:
                self.flush()

    def flush(self) -> None:
        """Write every buffered record to the ledger now (a failure keeps them for the next try)."""
        with self._flush_lock:
            with self._buffer_lock:
                rows, self._rows = self._rows, []
            if not rows:
                return
            self._flushing.active = True
            try:
                self.ledger.append("log_events", rows)
            except Exception as exc:
                self.failures += 1
                with self._buffer_lock:
                    self._rows[:0] = rows
                    overflow = len(self._rows) - self.max_buffer
                    if overflow > 0:
                        del self._rows[:overflow]
                        self.dropped += overflow
                if not self._reported:
                    self._reported = True
                    print(
                        f"catalyst.log: could not mirror {len(rows)} log records into the ledger "
                        f"({type(exc).__name__}: {exc}); they stay in the log file and are retried",
                        file=sys.stderr,
                    )
            finally:
                self._flushing.active = False

    @property
    def pending(self) -> int:
        with self._buffer_lock:
            return len(self._rows)

    def close(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self._wake.set()
            if self._thread is not None and self._thread is not threading.current_thread():
                self._thread.join(timeout=5)
        self.flush()
        _live.discard(self)
        super().close()
