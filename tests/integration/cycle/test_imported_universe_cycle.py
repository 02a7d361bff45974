"""Issue 13 §1 acceptance, as a trader meets it: HKEX's List of Securities, in HKEX's layout, is
imported with `catalyst universe import`; the simulator and a real `catalyst cycle` then trade a
security that is not one of the shipped 20, in whole lots of the imported size; a bad file leaves the
imported universe active; and when the broker's contract details disagree with the imported lot, the
symbol is refused for the run, an alert goes out, and both values are named."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cycle_cli_project import CATALYST, SIM_CLOCK, CliProject, project_env

from catalyst.market.hkex_list_layout import ListRow, etf, reit, rmb_counter, sheet, warrant, write_xlsx
from catalyst.sim.gateway.launcher import start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("cycle_cli")]

ACCOUNT = "DU0000001"
AS_AT = date(2026, 11, 23)  # the day before the simulator's clock: a fresh list
#: Securities that are not in the shipped 20, with lots of their own.
NEW_CODES = ("1234", "2020", "6618", "1928", "2269")
ROWS = [
    ListRow(700, "TENCENT", 100, rmb_counter=80700),
    ListRow(1211, "BYD COMPANY", 500, rmb_counter=81211),  # the shipped universe says 100
    ListRow(1234, "CHINA LILANG", 2000),
    ListRow(2020, "ANTA SPORTS", 200, rmb_counter=82020),
    ListRow(6618, "JD HEALTH", 50),
    ListRow(1928, "SANDS CHINA LTD", 400),
    ListRow(2269, "WUXI BIO", 500),
    etf(2800, "TRACKER FUND", 500, rmb_counter=82800),
    reit(823, "LINK REIT", 100),
    rmb_counter(80700, "TENCENT-R", 100),
    warrant(10001, "UB-N225@EP2603D", 10000),
]
LOTS = {str(r.code): r.board_lot for r in ROWS}
PARAMS = ("-p", "strategy_params", '{"min_gap_pct": 0.0, "min_rvol": 0.5, "max_candidates": 3}')


def manifest_summary(stdout: str) -> dict[str, Any]:
    return dict(json.loads((run_folder(stdout) / "manifest.json").read_text())["summary"])


def executed_notebook(stdout: str) -> str:
    return "\n".join(p.read_text() for p in run_folder(stdout).glob("*.ipynb"))


def hkex_list(folder: Path, rows: list[ListRow] = ROWS, as_at: date = AS_AT) -> Path:
    return write_xlsx(folder / "ListOfSecurities.xlsx", sheet(as_at, rows))


def run_folder(stdout: str) -> Path:
    line = next(ln for ln in stdout.splitlines() if ln.startswith("Run folder:"))
    return Path(line.split(":", 1)[1].strip())


@pytest.fixture
def imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliProject]:
    """A project whose universe was imported before its simulator started (the simulator applies the
    project's settings, so it serves the imported universe)."""
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.setenv("CATALYST_PATHS__ROOT", str(root))
    done = subprocess.run(
        [str(CATALYST), "universe", "import", str(hkex_list(tmp_path))],
        cwd=root, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    handle = start_gateway(tmp_path / "gw", clock=SIM_CLOCK, accounts=(ACCOUNT,))
    try:
        yield CliProject(root=root, gateway=handle, env=project_env(root, handle))
    finally:
        handle.stop()


def test_an_imported_universe_drives_a_real_cycle_that_proves_a_bracket_outside_the_shipped_20(
    imported: CliProject, tmp_path: Path
) -> None:
    project = imported
    cycle = project.catalyst("cycle", "--no-progress", "-p", "universe", ",".join(NEW_CODES), *PARAMS)
    shown = f"--- cycle (exit {cycle.returncode}) ---\n{cycle.stdout}\n{cycle.stderr}"
    assert cycle.returncode == 0, shown
    entries = project.entries()
    assert entries, "the cycle must send a bracket, or this test proves nothing:\n" + shown
    for order in entries:
        assert order["symbol"] in NEW_CODES, order
        lot = LOTS[order["symbol"]]
        assert int(order["total_quantity"]) % lot == 0 and int(order["total_quantity"]) >= lot, order
    outcome = manifest_summary(cycle.stdout)["outcome"]
    assert outcome["name"] == "ok" and outcome["proven"] == len(entries), outcome
    assert "HKEX list as at 2026-11-23" in executed_notebook(cycle.stdout)  # the report names it
    assert "WARNING: universe is" not in executed_notebook(cycle.stdout)  # one day old: fresh

    # A bad file afterwards: refused with row and column, the imported universe stays active.
    active = project.root / "state" / "universe.json"
    before = active.read_bytes()
    bad_rows = [r.cells() for r in ROWS]
    bad_rows[2][4] = "2,OOO"
    bad = write_xlsx(tmp_path / "bad.xlsx", sheet(AS_AT, bad_rows))
    refused = project.catalyst("universe", "import", str(bad))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "row 6, column E (Board Lot): '2,OOO' is not a board lot" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert active.read_bytes() == before
    shown_universe = project.catalyst("universe", "show")
    assert "HKEX list as at 2026-11-23" in shown_universe.stdout and "9 tradable" in shown_universe.stdout


@pytest.fixture
def stale_broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliProject]:
    """The simulator serves the shipped universe (BYD 1211 in lots of 100); the project imports a
    list that says 500, as after a lot change one side has not seen yet."""
    monkeypatch.setenv("CATALYST_MARKET__UNIVERSE_FILE", str(tmp_path / "no-universe-here.json"))
    handle = start_gateway(tmp_path / "gw", clock=SIM_CLOCK, accounts=(ACCOUNT,))
    monkeypatch.delenv("CATALYST_MARKET__UNIVERSE_FILE")
    root = tmp_path / "project"
    root.mkdir()
    try:
        project = CliProject(root=root, gateway=handle, env=project_env(root, handle))
        old_list = hkex_list(tmp_path, as_at=date(2026, 11, 2))  # 22 days before the simulator's clock
        done = project.catalyst("universe", "import", str(old_list))
        assert done.returncode == 0, done.stdout + done.stderr
        yield project
    finally:
        handle.stop()


def test_a_lot_that_disagrees_with_the_brokers_refuses_the_symbol_alerts_and_names_both_values(
    stale_broker: CliProject,
) -> None:
    project = stale_broker
    cycle = project.catalyst("cycle", "--no-progress", "-p", "universe", "1211,700", *PARAMS)
    shown = f"--- cycle (exit {cycle.returncode}) ---\n{cycle.stdout}\n{cycle.stderr}"
    locks = project.ledger.query("SELECT symbol, message FROM risk_events WHERE kind = 'symbol_locked'")
    assert list(locks["symbol"]) == ["1211"], shown
    assert "broker reports 100, catalyst.market has 500" in locks["message"][0]
    alerts = [json.loads(line) for line in (project.state_dir / "alerts.jsonl").read_text().splitlines()]
    assert any("1211" in json.dumps(a) and "broker reports 100" in json.dumps(a) for a in alerts), alerts
    assert not [o for o in project.entries() if o["symbol"] == "1211"], shown
    assert "WARNING: universe is 22 days old" in executed_notebook(cycle.stdout), shown
