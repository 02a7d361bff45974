"""`catalyst rehearse`, run as a trader runs it: a process in a project folder, a real gateway.

The full checklist on a simulator of its own; the paper path (a gateway that is not a simulator to
the rehearsal) placing no order without --place-orders, as the broker's own record shows; and the
refusals, each with exit 2 and nothing done.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sim_gateway_helpers import TRADING_CLOCK

from catalyst.runs import rehearsal as r
from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway

pytestmark = pytest.mark.integration


def catalyst(
    cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("catalyst")
    base = {k: v for k, v in os.environ.items() if not k.startswith("CATALYST_")}
    return subprocess.run(
        [str(script), *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def table_rows(output: str) -> dict[str, tuple[str, str]]:
    """{check: (result, evidence)} from the printed table (continuation lines joined)."""
    rows: dict[str, tuple[str, str]] = {}
    last = ""
    names = sorted([*r.CHECKS, f"{r.CHECK_CYCLE} (dry run: nothing sent)"], key=len, reverse=True)
    for line in output.splitlines():
        name = next((n for n in names if line.startswith(n + " ")), None)
        if name is not None:
            m = re.match(rf"{re.escape(name)}\s+(pass|FAIL|skipped)\s+(.*)$", line)
            if m:
                rows[name] = (m.group(1), m.group(2).strip())
                last = name
                continue
        if last and line.startswith(" ") and line.strip():
            result, evidence = rows[last]
            rows[last] = (result, f"{evidence} {line.strip()}")
        elif not line.strip():
            last = ""
    return rows


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_whole_checklist_passes_on_a_simulator_of_its_own(tmp_path: Path) -> None:
    trader = tmp_path / "trader"
    trader.mkdir()
    done = catalyst(trader, "rehearse", "--project", str(tmp_path / "rehearsal"))
    rows = table_rows(done.stdout)
    assert set(rows) == set(r.CHECKS), done.stdout + done.stderr
    failed = {k: v for k, v in rows.items() if v[0] != "pass"}
    assert failed == {}, "\n".join(f"{k}: {v[1]}" for k, v in failed.items())
    assert done.returncode == 0
    assert "Traceback" not in done.stdout + done.stderr
    assert not (trader / "state").exists() and not (trader / "runs").exists(), (
        "the trader's project is untouched"
    )
    assert (tmp_path / "rehearsal" / "state" / "ledger.duckdb").exists()


@pytest.fixture(scope="module")
def paper_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHandle]:
    """A simulator the rehearsal only knows as a host and port: to it, a paper account."""
    handle = start_gateway(tmp_path_factory.mktemp("paper"), clock=TRADING_CLOCK)
    yield handle
    handle.stop()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_on_a_paper_account_it_places_no_order_without_place_orders(
    paper_gateway: GatewayHandle, tmp_path: Path
) -> None:
    env = {"CATALYST_MODE": "paper", "CATALYST_IB_PORT": str(paper_gateway.port)}
    done = catalyst(tmp_path, "rehearse", "--mode", "paper", "--project", str(tmp_path / "reh"), env=env)
    rows = table_rows(done.stdout)
    assert rows[r.CHECK_GATEWAY][0] == "pass", done.stdout + done.stderr
    assert rows[f"{r.CHECK_CYCLE} (dry run: nothing sent)"][0] == "pass", done.stdout + done.stderr
    for check in r.CHECKS[2:]:
        assert rows[check] == ("skipped", r.SKIP_PLACES_ORDERS), rows
    assert done.returncode == r.EXIT_INCOMPLETE == 3
    assert paper_gateway.control.orders() == [], "the broker received no order at all"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--mode", "live"], "never runs against a live account"),
        (["--mode", "demo"], "--mode must be sim or paper"),
        (["--strategy-params", "{max"], "--strategy-params is not JSON"),
        (["--wait", "0"], "--wait must be a positive number"),
        (["--mode", "paper", "--gateway-state", "x"], "--gateway-state names a simulator"),
    ],
)
def test_bad_options_are_refused_with_exit_2_before_anything_runs(
    tmp_path: Path, args: list[str], needle: str
) -> None:
    done = catalyst(tmp_path, "rehearse", *args, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert needle in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_gateway_state_with_no_simulator_running_is_refused(tmp_path: Path) -> None:
    done = catalyst(
        tmp_path,
        "rehearse",
        "--gateway-state",
        str(tmp_path / "none"),
        "--project",
        str(tmp_path / "p"),
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no gateway is running" in done.stderr and "Traceback" not in done.stderr


def test_a_project_that_already_holds_a_ledger_is_used_only_when_pointed_at_and_says_so(
    tmp_path: Path,
) -> None:
    (tmp_path / "p" / "state").mkdir(parents=True)
    (tmp_path / "p" / "state" / "ledger.duckdb").write_bytes(b"")
    args = ["--project", str(tmp_path / "p"), "--gateway-state", str(tmp_path / "none")]
    done = catalyst(tmp_path, "rehearse", *args, timeout=120)
    assert "already holds a ledger" in done.stdout and "go into that ledger" in done.stdout, done.stdout
    assert done.returncode == 2 and "no gateway is running" in done.stderr, done.stdout + done.stderr


def test_a_project_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "p").write_text("not a folder")
    done = catalyst(tmp_path, "rehearse", "--project", str(tmp_path / "p"), timeout=120)
    assert done.returncode == 2 and "is a file" in done.stderr, done.stdout + done.stderr
