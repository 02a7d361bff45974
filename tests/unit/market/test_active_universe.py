"""The active universe: the shipped 20 by default, the trader's imported file once it exists, swapped
atomically with the previous one kept; its date shown by `catalyst market` and `catalyst universe
show`, and an old list a warning in every cycle report."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from catalyst.cli.market import register as register_market
from catalyst.cli.universe import register as register_universe
from catalyst.cycle.report import CycleReport
from catalyst.market import (
    HK_TZ,
    UNIVERSE_AS_OF,
    UniverseFileError,
    active_universe,
    board_lot,
    universe,
    universe_as_of,
    use_universe,
)
from catalyst.market.hkex_list_layout import ListRow, etf, sheet, warrant, write_csv, write_xlsx
from catalyst.market.universe_import import import_document
from catalyst.market.universe_store import previous_path, write_universe

AS_AT = date(2026, 11, 30)
ROWS = [
    ListRow(700, "TENCENT", 200),  # lot changed from the shipped 100
    ListRow(1234, "CHINA LILANG", 2000),
    etf(2800, "TRACKER FUND", 500),
    warrant(10001, "UB-N225@EP2603D", 10000),
]

runner = CliRunner()
app = typer.Typer()


@app.callback()
def _root() -> None:
    """Stands in for the `catalyst` root app."""


register_market(app)
register_universe(app)


@pytest.fixture(autouse=True)
def _shipped_universe_after() -> Iterator[None]:
    yield
    use_universe(None)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    for key in [k for k in os.environ if k.startswith("CATALYST_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("CATALYST_PATHS__ROOT", str(root))
    return root


def hkex_xlsx(folder: Path, rows: list[ListRow] = ROWS, as_at: date = AS_AT) -> Path:
    return write_xlsx(folder / "ListOfSecurities.xlsx", sheet(as_at, rows))


def test_without_an_imported_file_the_shipped_twenty_are_the_universe(tmp_path: Path) -> None:
    use_universe(tmp_path / "state" / "universe.json")
    active = active_universe()
    assert active.is_default and len(universe()) == 20 and universe_as_of() == UNIVERSE_AS_OF
    assert board_lot("700") == 100


def test_an_imported_file_becomes_the_source_of_lots(tmp_path: Path) -> None:
    target = tmp_path / "state" / "universe.json"
    write_universe(import_document(hkex_xlsx(tmp_path)), target)
    use_universe(target)
    assert (board_lot("700"), board_lot("1234"), universe_as_of()) == (200, 2000, AS_AT)
    assert active_universe().path == target


def test_an_import_keeps_the_universe_it_replaces(tmp_path: Path) -> None:
    target = tmp_path / "universe.json"
    first = import_document(hkex_xlsx(tmp_path, as_at=date(2026, 11, 23)))
    write_universe(first, target)
    before = target.read_bytes()
    kept = write_universe(import_document(hkex_xlsx(tmp_path)), target)
    assert kept == previous_path(target) and kept.read_bytes() == before
    assert json.loads(target.read_text())["as_of"] == "2026-11-30"
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file of the swap is gone


def test_a_corrupt_universe_file_is_an_error_naming_it_not_a_silent_default(tmp_path: Path) -> None:
    target = tmp_path / "universe.json"
    target.write_text('{"as_of": "2026-11-30", "securities": [{"symbol": "700"}]}')
    use_universe(target)
    with pytest.raises(UniverseFileError, match=r"universe\.json: security #1 .* inconsistent"):
        board_lot("700")


@pytest.mark.parametrize(("on", "warns"), [(date(2026, 12, 7), False), (date(2026, 12, 8), True)])
def test_a_universe_older_than_the_setting_is_a_warning(tmp_path: Path, on: date, warns: bool) -> None:
    target = tmp_path / "universe.json"
    write_universe(import_document(hkex_xlsx(tmp_path)), target)
    use_universe(target, max_age_days=7)
    warning = active_universe().age_warning(on)
    assert (warning is not None) == warns
    if warning:
        assert "8 days old" in warning and "catalyst universe import" in warning


def cycle_report(at: datetime) -> CycleReport:
    return CycleReport(
        run_id="r", mode="sim", account="DU1", server_time=at, phase="MORNING",
        accepts_orders=True, status="nothing_to_send", message="nothing to send",
    )  # fmt: skip


def test_every_cycle_report_warns_of_an_old_universe_and_names_the_active_one(tmp_path: Path) -> None:
    target = tmp_path / "universe.json"
    write_universe(import_document(hkex_xlsx(tmp_path)), target)
    use_universe(target, max_age_days=7)
    old = cycle_report(datetime(2026, 12, 9, 10, 0, tzinfo=HK_TZ))
    assert "WARNING: universe is 9 days old" in old.headline()
    table = dict(old.context_table().values.tolist())
    assert str(target) in table["universe"] and "9 days old" in table["WARNING"]
    fresh = cycle_report(datetime(2026, 12, 1, 10, 0, tzinfo=HK_TZ))
    assert "WARNING" not in fresh.headline()


# --- the command line --------------------------------------------------------------------------


def test_universe_import_writes_the_dated_universe_under_state_and_reports_lot_changes(project: Path) -> None:
    result = runner.invoke(app, ["universe", "import", str(hkex_xlsx(project))])
    assert result.exit_code == 0, result.output
    doc = json.loads((project / "state" / "universe.json").read_text())
    assert doc["as_of"] == "2026-11-30" and len(doc["securities"]) == 4
    assert "700 TENCENT: board lot 100 -> 200" in result.output
    assert "3 tradable" in result.output and "1 warrants" in result.output


def test_the_universe_file_setting_names_where_it_is_written(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CATALYST_MARKET__UNIVERSE_FILE", "lists/hk.json")
    result = runner.invoke(app, ["universe", "import", str(hkex_xlsx(project))])
    assert result.exit_code == 0, result.output
    assert (project / "lists" / "hk.json").exists() and not (project / "state" / "universe.json").exists()


def test_catalyst_market_shows_the_active_universe_and_its_date(project: Path) -> None:
    shipped = runner.invoke(app, ["market", "snapshot", "-s", "700"])
    assert "shipped default" in shipped.output and f"as at {UNIVERSE_AS_OF}" in shipped.output
    runner.invoke(app, ["universe", "import", str(hkex_xlsx(project))])
    result = runner.invoke(app, ["market", "snapshot", "--at", "2026-12-01T10:00", "-s", "700,1234"])
    assert result.exit_code == 0, result.output
    assert "universe    HKEX list as at 2026-11-30, 3 tradable" in result.output
    assert str(project / "state" / "universe.json") in result.output
    assert "WARNING" not in result.output
    assert "CHINA LILANG" in result.output


def test_a_bad_file_leaves_the_active_universe_as_it_was(project: Path) -> None:
    assert runner.invoke(app, ["universe", "import", str(hkex_xlsx(project))]).exit_code == 0
    active = project / "state" / "universe.json"
    before = active.read_bytes()
    cells = sheet(AS_AT, [*ROWS, ListRow(1234, "CHINA LILANG", 2000)])
    bad = write_csv(project / "ListOfSecurities.csv", cells)
    result = runner.invoke(app, ["universe", "import", str(bad)])
    assert result.exit_code == 2 and result.exception is not None and "Traceback" not in result.output
    assert "row 8, column A (Stock Code): stock code 01234 appears again (first at row 5)" in result.output
    assert "nothing was changed" in result.output
    assert active.read_bytes() == before and not previous_path(active).exists()
    shown = runner.invoke(app, ["universe", "show"])
    assert "HKEX list as at 2026-11-30" in shown.output


def test_undo_makes_the_replaced_universe_active_again(project: Path) -> None:
    older = write_xlsx(project / "older.xlsx", sheet(date(2026, 11, 23), [ListRow(700, "TENCENT", 100)]))
    assert runner.invoke(app, ["universe", "import", str(older)]).exit_code == 0
    assert runner.invoke(app, ["universe", "import", str(hkex_xlsx(project))]).exit_code == 0
    result = runner.invoke(app, ["universe", "undo"])
    assert result.exit_code == 0, result.output
    assert "Back to the universe as at 2026-11-23" in result.output
    assert json.loads((project / "state" / "universe.json").read_text())["as_of"] == "2026-11-23"
    assert json.loads((project / "state" / "universe.previous.json").read_text())["as_of"] == "2026-11-30"


def test_undo_without_a_previous_universe_says_so(project: Path) -> None:
    result = runner.invoke(app, ["universe", "undo"])
    assert result.exit_code == 2 and "no previous universe" in result.output
