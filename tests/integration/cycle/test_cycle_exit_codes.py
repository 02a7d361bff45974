"""`catalyst cycle`, as a real process in the default settings over the simulator, exits with the code
of how it ended: refused while another trader holds the account, halted while the breaker is tripped
(each distinct from success, a crash, bad input and an unproven bracket, see
``test_unproven_cycle_alerts``), and the archive records the same outcome."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cycle_cli_project import CYCLE_PARAMS, SIM_CLOCK, CliProject, project_env

from catalyst.cycle.outcome import ExitCode
from catalyst.ledger.lease import account_lease_name, acquire_lease
from catalyst.risk.state import trip_breaker
from catalyst.sim.gateway.launcher import start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("cycle_cli")]

ACCOUNT = "DU0000001"


@pytest.fixture
def project(tmp_path: Path) -> Iterator[CliProject]:
    root = tmp_path / "project"
    root.mkdir()
    handle = start_gateway(tmp_path / "gw", clock=SIM_CLOCK, accounts=(ACCOUNT,))
    try:
        yield CliProject(root=root, gateway=handle, env=project_env(root, handle))
    finally:
        handle.stop()


def recorded_outcome(stdout: str) -> dict[str, object]:
    folder = Path(
        next(ln for ln in stdout.splitlines() if ln.startswith("Run folder:")).split(":", 1)[1].strip()
    )
    return dict(json.loads((folder / "manifest.json").read_text())["summary"]["outcome"])


def test_a_cycle_refused_because_another_trader_holds_the_account_exits_refused(project: CliProject) -> None:
    with acquire_lease(project.state_dir, account_lease_name(ACCOUNT), purpose="another terminal"):
        done = project.catalyst(
            "cycle", "--no-progress", *CYCLE_PARAMS, extra_env={"CATALYST_RISK__LEASE_WAIT_SECONDS": "0"}
        )
    shown = f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert done.returncode == ExitCode.REFUSED, shown
    assert "exit 3, refused" in done.stderr, shown
    assert recorded_outcome(done.stdout)["exit_code"] == ExitCode.REFUSED
    assert project.entries() == [], "a refused cycle sends nothing"


def test_a_cycle_while_the_breaker_is_tripped_exits_halted(project: CliProject) -> None:
    tripped_at = datetime.fromisoformat(SIM_CLOCK) - timedelta(minutes=5)
    trip_breaker(project.ledger, account=ACCOUNT, message="day loss 31,000 HKD", ts=tripped_at)
    done = project.catalyst("cycle", "--no-progress", *CYCLE_PARAMS)
    shown = f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert done.returncode == ExitCode.HALTED, shown
    assert recorded_outcome(done.stdout)["exit_code"] == ExitCode.HALTED
    assert project.entries() == [], "a halted cycle sends no entry"
