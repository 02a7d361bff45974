"""Leases: one holder at a time across processes, the holder named, released when the holder dies."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from catalyst.ledger.errors import LeaseHeldError, LeaseNameError
from catalyst.ledger.lease import (
    Lease,
    account_lease_name,
    acquire_lease,
    exits_lease_name,
    lease_holder,
)


def _hold_in_child(state: Path, name: str) -> subprocess.Popen[str]:
    code = textwrap.dedent(
        f"""
        import sys, time
        from catalyst.ledger.lease import acquire_lease
        lease = acquire_lease({str(state)!r}, {name!r}, purpose="cycle", run_id="RUN-CHILD")
        print("held", flush=True)
        time.sleep(120)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "held"
    return child


def test_names_refuse_an_empty_account_or_symbol() -> None:
    with pytest.raises(LeaseNameError, match="account"):
        account_lease_name("")
    with pytest.raises(LeaseNameError, match="symbol"):
        exits_lease_name("DU1", " ")
    assert exits_lease_name("DU1", "941") == "exits:DU1:941"


def test_a_second_process_is_refused_with_the_holder_named(tmp_path: Path) -> None:
    name = account_lease_name("DU123")
    child = _hold_in_child(tmp_path, name)
    try:
        holder = lease_holder(tmp_path, name)
        assert holder is not None and holder.pid == child.pid and holder.run_id == "RUN-CHILD"
        with pytest.raises(LeaseHeldError) as refused:
            acquire_lease(tmp_path, name, purpose="cycle", wait=0.2)
        assert f"pid {child.pid}" in str(refused.value)
        assert "RUN-CHILD" in str(refused.value)
        assert "nothing was sent" in str(refused.value)
    finally:
        child.kill()
        child.wait()


def test_a_killed_holder_leaves_no_stale_lease(tmp_path: Path) -> None:
    name = account_lease_name("DU123")
    child = _hold_in_child(tmp_path, name)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert lease_holder(tmp_path, name) is None
    with acquire_lease(tmp_path, name, purpose="cycle") as lease:
        assert lease.held
        assert lease_holder(tmp_path, name) is not None
    assert lease_holder(tmp_path, name) is None


def test_two_holders_in_one_process_exclude_each_other(tmp_path: Path) -> None:
    name = exits_lease_name("DU1", "941")
    first = Lease(tmp_path, name, purpose="submit")
    second = Lease(tmp_path, name, purpose="monitor repair")
    assert first.try_acquire()
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire()
    second.release()


def test_a_waiting_acquirer_gets_the_lease_once_it_is_released(tmp_path: Path) -> None:
    name = account_lease_name("DU9")
    child = _hold_in_child(tmp_path, name)
    try:
        child.send_signal(signal.SIGTERM)
        lease = acquire_lease(tmp_path, name, purpose="cycle", wait=30)
        assert lease.held
        lease.release()
    finally:
        child.kill()
        child.wait()


def test_async_acquire_waits_without_blocking_and_then_refuses(tmp_path: Path) -> None:
    name = exits_lease_name("DU1", "5")

    async def scenario() -> None:
        holder = acquire_lease(tmp_path, name, purpose="submit")
        try:
            with pytest.raises(LeaseHeldError, match="submit"):
                await Lease(tmp_path, name, purpose="monitor").acquire_async(wait=0.2)
        finally:
            holder.release()
        lease = await Lease(tmp_path, name, purpose="monitor").acquire_async(wait=0.2)
        lease.release()

    asyncio.run(scenario())
