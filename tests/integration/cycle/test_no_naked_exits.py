"""Finding 3 of issue 10: drop-children on, `catalyst monitor` running, a `catalyst cycle` in the
default settings. The bracket's children never reach the book, the cycle's proof fails and its
failure path flattens the filled entry. The old monitor re-protected the position during the
cycle's 15 s proof window and then left that SELL limit and stop working on the flat account with
no risk event. Now: after the failure path, no order works on a flat symbol (within a bounded wait),
and whatever the monitor had to clean is a ``naked_exit`` risk event.

The monitor polls every 2 s here (``--poll-interval 2``) so that the old monitor, which only
polled, surely acts inside the proof window; the monitor under test acts on the fill event anyway.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cycle_cli_project import CYCLE_PARAMS, SIM_CLOCK, CliProject, project_env, stop_process, wait_until

from catalyst.sim.gateway.launcher import start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("cycle_cli")]

ACCOUNT = "DU0000001"
WORKING = {"PreSubmitted", "Submitted", "PendingSubmit", "PendingCancel"}
#: Longest wait after the cycle for the account to have no order working on a flat symbol: the
#: monitor's exit grace (2 s) plus a poll, with room for a loaded machine.
SETTLE_SECONDS = 60


@pytest.fixture
def project(tmp_path: Path) -> Iterator[CliProject]:
    root = tmp_path / "project"
    root.mkdir()
    handle = start_gateway(tmp_path / "gw", clock=SIM_CLOCK, accounts=(ACCOUNT,), faults=("drop-children",))
    try:
        yield CliProject(root=root, gateway=handle, env=project_env(root, handle))
    finally:
        handle.stop()


def held(project: CliProject) -> dict[str, int]:
    return {
        str(p["symbol"]): int(p["quantity"])
        for p in project.gateway.control.positions(ACCOUNT)
        if int(p["quantity"]) != 0
    }


def naked_orders(project: CliProject) -> list[dict[str, Any]]:
    """Orders still working at the gateway in a symbol the account does not hold."""
    holding = held(project)
    live = [o for o in project.gateway.control.orders() if o["account"] == ACCOUNT and o["status"] in WORKING]
    resting = {o["perm_id"] for o in live}
    return [
        o
        for o in live
        if str(o["symbol"]) not in holding and o.get("parent_perm_id") not in resting  # a child of a
        # resting entry is not live yet
    ]


def test_with_drop_children_and_the_monitor_running_no_order_works_on_a_flat_symbol(
    project: CliProject, tmp_path: Path
) -> None:
    monitor_log = tmp_path / "monitor.log"
    monitor = project.start("monitor", "--poll-interval", "2", log=monitor_log)
    try:
        wait_until(
            lambda: "catalyst monitor: account" in monitor_log.read_text(),
            timeout=120,
            what="the monitor connected",
            alive=lambda: _alive(monitor, monitor_log),
        )
        cycle = project.catalyst("cycle", "--no-progress", *CYCLE_PARAMS)
        shown = f"--- cycle (exit {cycle.returncode}) ---\n{cycle.stdout}\n{cycle.stderr}"
        entries = project.entries()
        assert entries, "the cycle must send a bracket, or this test proves nothing:\n" + shown
        assert not held(project), f"the cycle's failure path flattens every fill: {held(project)}\n{shown}"

        def settled() -> bool:
            return not naked_orders(project)

        try:
            wait_until(settled, timeout=SETTLE_SECONDS, what="no order working on a flat symbol")
        except AssertionError:
            left = [
                f"{o['order_ref']} {o['action']} {o['order_type']} x{o['total_quantity']} {o['status']} "
                f"(client {o['client_id']})"
                for o in naked_orders(project)
            ]
            raise AssertionError(
                f"still working on a flat account after {SETTLE_SECONDS} s: {left}\n{shown}"
            ) from None
    finally:
        stop_process(monitor)

    # anything the monitor placed in a symbol that ended flat had to be cleaned, and is on record
    protective = {
        str(o["symbol"]) for o in project.gateway.control.orders() if ":PROT" in str(o["order_ref"])
    }
    recorded = project.ledger.query(
        "SELECT DISTINCT symbol FROM risk_events WHERE kind = 'naked_exit' AND account = ?", [ACCOUNT]
    )
    assert protective <= set(recorded["symbol"].astype(str)), (
        f"the monitor re-protected {sorted(protective)} and cleaned them without a naked_exit event"
    )


def _alive(proc: subprocess.Popen[bytes], log: Path) -> None:
    if proc.poll() is not None:
        raise AssertionError(f"`catalyst monitor` exited with {proc.returncode}:\n{log.read_text()}")
