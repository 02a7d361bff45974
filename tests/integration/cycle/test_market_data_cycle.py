"""`catalyst cycle` on an account without market data, and on delayed data, as a real process over
the simulator: without a subscription (fault ``no-market-data``) it stops with the specific message
naming the symbol, what is missing and what would help, and sends nothing; asked for delayed data
(``broker.market_data_type = "delayed"``) its report says the cycle decided on delayed data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cycle_cli_project import CYCLE_PARAMS, SIM_CLOCK, CliProject, project_env

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


def run_folder(stdout: str) -> Path:
    return Path(
        next(ln for ln in stdout.splitlines() if ln.startswith("Run folder:")).split(":", 1)[1].strip()
    )


def test_without_market_data_the_cycle_refuses_by_name_and_sends_nothing(project: CliProject) -> None:
    project.gateway.control.fault("no-market-data", True)
    done = project.catalyst("cycle", "--no-progress", *CYCLE_PARAMS)
    shown = f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert done.returncode == 3, shown  # refused: nothing was sized or sent
    assert "MarketDataNotSubscribedError: no historical bars for 700" in done.stderr, shown
    assert "No market data permissions" in done.stderr, "IB's own words are kept"
    assert "market-data subscription" in done.stderr and "Client Portal" in done.stderr, "what would help"
    assert project.entries() == [], "nothing is sized or sent from missing data"


def test_on_delayed_data_the_cycle_report_says_so(project: CliProject) -> None:
    done = project.catalyst(
        "cycle", "--no-progress", *CYCLE_PARAMS, extra_env={"CATALYST_BROKER__MARKET_DATA_TYPE": "delayed"}
    )
    shown = f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert done.returncode == 0, shown
    html = (run_folder(done.stdout) / "cycle.html").read_text(encoding="utf-8")
    assert "market data (broker.market_data_type)" in html
    assert "DELAYED: 15+ min old unless subscribed" in html
