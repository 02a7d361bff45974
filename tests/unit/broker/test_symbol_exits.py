"""The submitter's exit leases: its own brackets in one symbol share one hold; any other holder (the
monitor) stays excluded from the first take to the last give-back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from catalyst.broker.symbol_exits import SymbolExitLeases
from catalyst.ledger.errors import LeaseHeldError
from catalyst.ledger.lease import Lease, exits_lease_name


def monitor(tmp_path: Path, symbol: str = "941") -> Lease:
    return Lease(tmp_path, exits_lease_name("DU1", symbol), purpose="monitor")


def test_two_brackets_share_the_hold_and_the_monitor_waits_for_the_last(tmp_path: Path) -> None:
    async def main() -> None:
        leases = SymbolExitLeases(tmp_path, run_id="cycle-1")
        await asyncio.wait_for(
            asyncio.gather(
                leases.take("DU1", "941", purpose="bracket a", wait=0),
                leases.take("DU1", "941", purpose="bracket b", wait=0),
            ),
            timeout=30,
        )
        assert not monitor(tmp_path).try_acquire()
        leases.give_back("DU1", "941")
        assert not monitor(tmp_path).try_acquire()  # bracket b still proving
        leases.give_back("DU1", "941")
        free = monitor(tmp_path)
        assert free.try_acquire()
        free.release()

    asyncio.run(main())


def test_a_symbol_the_monitor_holds_is_refused_after_the_wait_naming_it(tmp_path: Path) -> None:
    held = monitor(tmp_path)
    assert held.try_acquire()

    async def main() -> None:
        leases = SymbolExitLeases(tmp_path)
        with pytest.raises(LeaseHeldError, match="monitor"):
            await leases.take("DU1", "941", purpose="bracket a", wait=0.2)
        assert not leases.holds("DU1", "941")
        await leases.take("DU1", "700", purpose="bracket b", wait=0)  # other symbols are free
        assert leases.holds("DU1", "700")

    try:
        asyncio.run(main())
    finally:
        held.release()
