"""One monitor per account: an exclusive lock on a pid file in the state directory.

``flock`` is released by the kernel when the process dies, so a crash never leaves a stale lock
that blocks the next start; the pid inside is only for people (``catalyst risk status``).
"""

from __future__ import annotations

import fcntl
import os
import re
from pathlib import Path
from types import TracebackType
from typing import IO

from catalyst.risk.errors import MonitorAlreadyRunningError


def monitor_lock_path(state_dir: Path, account: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", account or "default")
    return Path(state_dir) / f"monitor-{safe}.pid"


class MonitorPidLock:
    """Hold ``monitor-<account>.pid`` exclusively for the life of the monitor."""

    def __init__(self, state_dir: Path, account: str) -> None:
        self.path = monitor_lock_path(state_dir, account)
        self.account = account
        self._fh: IO[str] | None = None

    def acquire(self) -> MonitorPidLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            other = fh.read().strip() or "?"
            fh.close()
            raise MonitorAlreadyRunningError(
                f"a catalyst monitor for account {self.account or '(default)'} is already running "
                f"(pid {other}, lock {self.path}); stop it first (SIGTERM) instead of starting a second one"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        if self._fh is not None:
            fh, self._fh = self._fh, None
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            fh.close()

    def __enter__(self) -> MonitorPidLock:
        return self.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def running_monitor_pid(state_dir: Path, account: str) -> int | None:
    """The pid of the monitor holding the lock, or None when no monitor runs for the account."""
    path = monitor_lock_path(state_dir, account)
    if not path.exists():
        return None
    with path.open("a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            text = fh.read().strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    return None


def running_monitors(state_dir: Path) -> dict[Path, int]:
    """Every monitor holding a pid lock in ``state_dir``: lock file -> pid (-1 when unreadable)."""
    found: dict[Path, int] = {}
    for path in sorted(Path(state_dir).glob("monitor-*.pid")):
        with path.open("a+", encoding="utf-8") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                text = fh.read().strip()
                found[path] = int(text) if text.isdigit() else -1
                continue
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    return found
