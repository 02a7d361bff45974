"""Cross-process exclusive lock on ``<ledger>.lock`` (``fcntl.flock``) with a timeout.

DuckDB lets one process hold a database file open for writing at a time, so every ledger
operation takes this lock, opens a short-lived connection, works and closes it. ``flock`` locks
belong to the open file description, so two threads of one process that each open the lock file
also exclude each other; the lock is released by the kernel if the process dies.
"""

from __future__ import annotations

import fcntl
import os
import random
import time
from pathlib import Path
from types import TracebackType

from catalyst.ledger.errors import LedgerBusyError


class LedgerFileLock:
    """Exclusive, blocking-with-timeout lock on one lock file."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        start = time.monotonic()
        delay = 0.0002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                waited = time.monotonic() - start
                if waited >= self.timeout:
                    os.close(fd)
                    raise LedgerBusyError(
                        f"the ledger lock {self.path} was held by another process for {waited:.1f} s "
                        f"(timeout {self.timeout:.1f} s); find the process holding it "
                        f"(`fuser {self.path}`) or raise the timeout"
                    ) from None
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.002)
                continue
            self._fd = fd
            return

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def __enter__(self) -> LedgerFileLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
