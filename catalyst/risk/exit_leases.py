"""The monitor's side of "one owner of a symbol's exits at a time".

Before the monitor repairs protection, flattens, closes or cancels exits of a symbol it takes the
symbol's exits lease (``exits_lease_name(account, symbol)``) without waiting and holds it while it
acts. When another process holds it (the bracket submitter proving a bracket and running its
failure path) the monitor leaves the symbol alone for this round, says so once per hold at info,
and looks again on the next event or poll.

The breaker is the exception: it is the last line, so it waits for a symbol's lease at most
``wait`` seconds (the submitter's failure path is usually done by then) and then acts without it,
recording that it did (see ``Monitor.trip``).

Ownership is re-entrant inside one monitor: a repair that fails and falls back to a flatten stays
under the one lease it took (a second ``flock`` from the same process would refuse itself).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from catalyst.ledger.errors import LeaseHeldError
from catalyst.ledger.lease import Lease, LeaseHolder, exits_lease_name, lease_holder

log = structlog.get_logger(__name__)

PURPOSE = "monitor"


@dataclass
class _Held:
    lease: Lease | None  # None: ownership without a lease file (no state dir configured)
    depth: int = 1


@dataclass
class ExitLeases:
    """Exits leases of one account, taken by one monitor.

    ``state_dir`` None means no cross-process ownership at all (a monitor over a broker that no
    other process trades); ``catalyst monitor`` always passes the settings' state dir.
    """

    state_dir: Path | None
    account: Callable[[], str]
    run_id: str = ""
    _held: dict[str, _Held] = field(default_factory=dict)
    _noted: dict[str, str] = field(default_factory=dict)  # symbol -> holder already logged

    def holds(self, symbol: str) -> bool:
        return symbol in self._held

    def _lease(self, symbol: str) -> Lease | None:
        if self.state_dir is None:
            return None
        return Lease(
            self.state_dir, exits_lease_name(self.account(), symbol), purpose=PURPOSE, run_id=self.run_id
        )

    @contextlib.contextmanager
    def owned(self, symbol: str) -> Iterator[bool]:
        """Yield True while this monitor owns ``symbol``'s exits, False when another process does."""
        if not self._enter(symbol):
            yield False
            return
        try:
            yield True
        finally:
            self._exit(symbol)

    def _enter(self, symbol: str) -> bool:
        held = self._held.get(symbol)
        if held is not None:
            held.depth += 1
            return True
        lease = self._lease(symbol)
        if lease is not None and not lease.try_acquire():
            self._note_elsewhere(symbol)
            return False
        self._took(symbol, lease)
        return True

    def _took(self, symbol: str, lease: Lease | None) -> None:
        self._held[symbol] = _Held(lease)
        if self._noted.pop(symbol, None) is not None:
            log.info("monitor.exits.lease_free_again", symbol=symbol)

    def _exit(self, symbol: str) -> None:
        held = self._held[symbol]
        held.depth -= 1
        if held.depth == 0:
            del self._held[symbol]
            if held.lease is not None:
                held.lease.release()

    async def take_waiting(self, symbol: str, wait: float) -> LeaseHolder | None:
        """For the breaker: own ``symbol``, waiting up to ``wait`` s for its lease. Returns None when
        owned, else the holder that kept it (the caller then acts without the lease). Release with
        :meth:`release`."""
        if symbol in self._held:
            self._held[symbol].depth += 1
            return None
        lease = self._lease(symbol)
        if lease is not None:
            try:
                await lease.acquire_async(wait)
            except LeaseHeldError as exc:
                if isinstance(exc.holder, LeaseHolder):
                    return exc.holder
                return LeaseHolder(lease.name, -1, "?", "?", "?", "", "?")
        self._took(symbol, lease)
        return None

    def release(self, symbol: str) -> None:
        if symbol in self._held:
            self._exit(symbol)

    def holder(self, symbol: str) -> LeaseHolder | None:
        if self.state_dir is None:
            return None
        return lease_holder(self.state_dir, exits_lease_name(self.account(), symbol))

    def _note_elsewhere(self, symbol: str) -> None:
        holder = self.holder(symbol)
        who = holder.describe() if holder is not None else "another process"
        key = f"{holder.pid}:{holder.since}" if holder is not None else "?"
        if self._noted.get(symbol) == key:
            return
        self._noted[symbol] = key
        log.info("monitor.exits.held_elsewhere", symbol=symbol, holder=who, action="left alone this round")
