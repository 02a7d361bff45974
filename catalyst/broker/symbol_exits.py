"""The bracket submitter's hold on symbols' exit leases (``exits:<account>:<symbol>``).

The submitter is one owner of a symbol's exits: while it places and proves a bracket, and runs
that bracket's failure path (cancel, flatten), it holds the symbol's lease so the monitor leaves
the symbol alone. Several brackets of one submitter in one symbol (a concurrent batch) share that
one hold: the lease is taken for the first and given back after the last, so they do not queue
behind each other, while any other process (the monitor) stays excluded throughout.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from catalyst.ledger.lease import Lease, exits_lease_name


class SymbolExitLeases:
    """Reference-counted exit leases of one submitter (one process, one event loop)."""

    def __init__(self, state_dir: Path | str, *, run_id: str = "") -> None:
        self.state_dir = state_dir
        self.run_id = run_id
        self._held: dict[str, tuple[Lease, int]] = {}
        self._taking: dict[str, asyncio.Lock] = {}

    def holds(self, account: str, symbol: str) -> bool:
        return exits_lease_name(account, symbol) in self._held

    async def take(self, account: str, symbol: str, *, purpose: str, wait: float) -> None:
        """Hold the symbol's lease (shared with this submitter's other brackets in it), waiting up
        to ``wait`` s for another process to let go; raises LeaseHeldError naming the holder."""
        name = exits_lease_name(account, symbol)
        async with self._taking.setdefault(name, asyncio.Lock()):
            if name in self._held:
                lease, count = self._held[name]
                self._held[name] = (lease, count + 1)
                return
            lease = Lease(self.state_dir, name, purpose=purpose, run_id=self.run_id)
            await lease.acquire_async(wait=wait)
            self._held[name] = (lease, 1)

    def give_back(self, account: str, symbol: str) -> None:
        """One bracket is done with the symbol; the lease is released after the last one."""
        name = exits_lease_name(account, symbol)
        if name not in self._held:
            return
        lease, count = self._held[name]
        if count > 1:
            self._held[name] = (lease, count - 1)
            return
        del self._held[name]
        lease.release()
