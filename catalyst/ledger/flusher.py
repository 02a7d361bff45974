"""Keeping a process's journal short: ingest it soon after writing, without making anyone wait.

One daemon thread per (process, ledger), started by the first journaled append. About every
``interval`` seconds, if this process appended since the last ingest, it tries to ingest, taking
the ledger lock only if it is free (``flush`` returns False when it is not, and the thread tries
again on its next round). After ``idle_exit`` seconds without appends the thread ends; the next
append starts a new one. The thread never holds up an ``append``: appends only write the journal.

At exit (``atexit``) each process closes its journals and ingests once more, waiting briefly for
the lock, so when no Catalyst process runs the DuckDB file holds every event. A process killed
with SIGKILL leaves its journal behind; the next Catalyst process that touches the ledger moves it in.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog

log = structlog.get_logger(__name__)

#: Consecutive failed background ingests (not a busy lock: an error) after which the thread stops trying.
_GIVE_UP_AFTER = 5
#: How long ``stop`` waits for an ingest in progress (the exit's own ingest follows it).
STOP_WAIT_S = 15.0


class BackgroundFlush:
    """Calls ``flush`` (non-blocking; True when it ran) soon after ``poke``; idles out."""

    def __init__(self, flush: Callable[[], bool], *, interval: float = 1.0, idle_exit: float = 10.0) -> None:
        self._flush = flush
        self.interval = interval
        self.idle_exit = idle_exit
        self._lock = threading.Lock()
        self._pending = False
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def poke(self) -> None:
        """There are journal records to ingest: make sure the thread will do it."""
        with self._lock:
            self._pending = True
            if self._stop.is_set() or (self._thread is not None and self._thread.is_alive()):
                return
            self._thread = threading.Thread(target=self._run, name="catalyst-ledger-ingest", daemon=True)
            self._thread.start()

    def stop(self, wait: float = STOP_WAIT_S) -> None:
        """Stop the thread and wait (up to ``wait`` seconds) for an ingest it is in to finish.

        At exit this matters: a daemon thread still inside DuckDB when the interpreter finalizes is
        torn down by pthread_exit through C++ frames, and the process aborts ("FATAL: exception not
        rethrown", exit -6) after its work is done."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(wait)

    def reset_after_fork(self) -> None:
        """In a forked child: no thread runs there; start afresh on the next poke."""
        self._lock = threading.Lock()
        self._thread = None
        self._pending = False
        self._stop = threading.Event()

    def _run(self) -> None:
        idle_since = time.monotonic()
        failures = 0
        while not self._stop.wait(self.interval):
            with self._lock:
                pending, self._pending = self._pending, False
                if not pending and time.monotonic() - idle_since >= self.idle_exit:
                    self._thread = None
                    return
            if not pending:
                continue
            idle_since = time.monotonic()
            try:
                done = self._flush()
                failures = 0
            except Exception as exc:  # retried a few times; the records stay journaled either way
                failures += 1
                log.debug("ledger.background_ingest_failed", error=str(exc), attempt=failures)
                done = failures >= _GIVE_UP_AFTER  # the next read or the exit ingests them
            if not done:
                with self._lock:
                    self._pending = True
