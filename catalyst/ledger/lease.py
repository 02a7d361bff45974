"""Cross-process leases: who may act for an account, or on a symbol's exits, right now.

A lease is an exclusive ``flock`` on ``<state>/leases/<name>.lease``. The kernel releases it when the
holding process dies (SIGKILL included), so a crash never leaves a stale lease; the JSON inside
names the holder (pid, host, command, purpose, run, since) so the process that is refused can say
who holds it. ``flock`` belongs to the open file description, so two holders inside one process
exclude each other too (the monitor and a cycle in one test process behave as two terminals do).

Two kinds are used (names built by :func:`account_lease_name` and :func:`exits_lease_name`):

- ``account:<ACCOUNT>``: deciding and sending entries (a trading cycle from any terminal, the
  schedule, a notebook run by hand). One trader per account at a time.
- ``exits:<ACCOUNT>:<SYMBOL>``: acting on a symbol's protective and exit orders (the bracket
  submitter while it proves a bracket and runs its failure path; the monitor's repair and flatten).
  One owner of a symbol's exits at a time.

    with acquire_lease(state_dir, account_lease_name("DU123"), purpose="cycle", wait=60):
        ...  # decide and send
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import re
import socket
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from catalyst.ledger.errors import LeaseHeldError, LeaseNameError

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")
_POLL = 0.05


@dataclass(frozen=True)
class LeaseHolder:
    """Who holds a lease, as written into the lease file by the holder."""

    name: str
    pid: int
    host: str
    command: str
    purpose: str
    run_id: str
    since: str

    def describe(self) -> str:
        run = f", run {self.run_id}" if self.run_id else ""
        return f"pid {self.pid} on {self.host} ({self.purpose}{run}, since {self.since}: {self.command})"


def account_lease_name(account: str) -> str:
    """The lease of deciding and sending for one account."""
    return f"account:{_require_part('account', account)}"


def exits_lease_name(account: str, symbol: str) -> str:
    """The lease of one symbol's exit orders in one account."""
    return f"exits:{_require_part('account', account)}:{_require_part('symbol', symbol)}"


def lease_dir(state_dir: Path | str) -> Path:
    return Path(state_dir) / "leases"


def lease_path(state_dir: Path | str, name: str) -> Path:
    if not isinstance(name, str) or not name.strip():
        raise LeaseNameError(f"a lease needs a non-empty name, got {name!r}")
    return lease_dir(state_dir) / f"{_SAFE.sub('_', name)}.lease"


class Lease:
    """One exclusive lease; a context manager. Create with :func:`acquire_lease`."""

    def __init__(self, state_dir: Path | str, name: str, *, purpose: str, run_id: str = "") -> None:
        self.name = name
        self.path = lease_path(state_dir, name)
        self.purpose = purpose
        self.run_id = run_id
        self._fd: int | None = None
        self.acquired_at: datetime | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lease if it is free; never waits. True when this object now holds it."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        self.acquired_at = datetime.now(UTC)
        holder = LeaseHolder(
            name=self.name,
            pid=os.getpid(),
            host=socket.gethostname(),
            command=" ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[:200],
            purpose=self.purpose,
            run_id=self.run_id,
            since=self.acquired_at.isoformat(timespec="seconds"),
        )
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(asdict(holder)).encode("utf-8"), 0)
        return True

    def acquire(self, wait: float = 0.0) -> Lease:
        """Take the lease, waiting up to ``wait`` seconds; :class:`LeaseHeldError` names the holder."""
        deadline = time.monotonic() + max(0.0, wait)
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                self._refuse(wait)
            time.sleep(_POLL)
        return self

    async def acquire_async(self, wait: float = 0.0) -> Lease:
        """As :meth:`acquire`, without blocking the event loop while waiting."""
        deadline = time.monotonic() + max(0.0, wait)
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                self._refuse(wait)
            await asyncio.sleep(_POLL)
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _refuse(self, wait: float) -> None:
        holder = read_holder(self.path)
        who = holder.describe() if holder is not None else "another process (it wrote no holder yet)"
        waited = f" after waiting {wait:.0f} s" if wait > 0 else ""
        raise LeaseHeldError(
            f"{self.name} is held by {who}{waited}; nothing was sent. Wait for it to finish, or stop "
            f"that process if it is stuck (lease file {self.path})",
            holder=holder,
        )

    def __enter__(self) -> Lease:
        if self._fd is None:
            self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def __del__(self) -> None:  # a forgotten lease must not outlive its object
        with contextlib.suppress(Exception):
            self.release()


def acquire_lease(
    state_dir: Path | str, name: str, *, purpose: str, run_id: str = "", wait: float = 0.0
) -> Lease:
    """Take the named lease (waiting up to ``wait`` s) or raise :class:`LeaseHeldError`."""
    return Lease(state_dir, name, purpose=purpose, run_id=run_id).acquire(wait)


def read_holder(path: Path) -> LeaseHolder | None:
    """What the lease file says of its holder (None when unreadable or empty)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "null")
        return LeaseHolder(**data) if isinstance(data, dict) else None
    except (OSError, ValueError, TypeError):
        return None


def lease_holder(state_dir: Path | str, name: str) -> LeaseHolder | None:
    """The live holder of a lease, or None when nobody holds it (a dead holder holds nothing)."""
    path = lease_path(state_dir, name)
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # a shared probe never writes the file
    except BlockingIOError:
        return read_holder(path) or LeaseHolder(name, -1, "?", "?", "?", "", "?")
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _require_part(what: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LeaseNameError(f"a lease needs a non-empty {what}, got {value!r}")
    return value.strip()
