"""A refused run leaves no folder; a run that starts and then cannot go on is sealed as failed.

Before, a ledger that failed after the folder was made (a truncated file, a full disk) left an
unsealed folder that made `catalyst runs verify` fail for good.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from catalyst.ledger import Ledger
from catalyst.ledger.errors import LedgerError
from catalyst.runs.archive import list_runs, verify_archive
from catalyst.runs.notebook_runner import RunHooks, execute_run
from catalyst.runs.folder import folder_in_use
from catalyst.runs.preflight import preflight
from catalyst.runs.errors import RunsError

NOTEBOOK_NEVER_RUN = Path("/nonexistent/never-run.ipynb")


def _hooks(record: Any) -> RunHooks:
    return RunHooks(configure_log=lambda _d: None, record_run=record, export_trade_log=lambda _r, _p: None)


def test_a_run_whose_ledger_fails_at_start_is_sealed_as_failed(tmp_path: Path) -> None:
    runs = tmp_path / "runs"

    def broken_ledger(row: dict[str, Any]) -> None:
        raise LedgerError("cannot open the ledger /x/ledger.duckdb: IO Error: truncated")

    result = execute_run(
        "cycle",
        mode="sim",
        parameters={},
        runs_dir=runs,
        hooks=_hooks(broken_ledger),
        notebook=NOTEBOOK_NEVER_RUN,
        progress=False,
    )
    assert not result.ok
    assert result.manifest.failure is not None and result.manifest.failure.ename == "LedgerError"
    assert [r.manifest.status if r.manifest else "UNSEALED" for r in list_runs(runs)] == ["failed"]
    assert verify_archive(runs).ok
    assert not folder_in_use(result.folder.path), "the folder's claim is released once sealed"


def test_the_folder_is_claimed_while_the_run_writes_it(tmp_path: Path) -> None:
    seen: list[bool] = []

    def record(row: dict[str, Any]) -> None:
        seen.append(folder_in_use(Path(row["run_dir"])))
        raise LedgerError("stop here")

    execute_run(
        "cycle",
        mode="sim",
        parameters={},
        runs_dir=tmp_path / "runs",
        hooks=_hooks(record),
        notebook=NOTEBOOK_NEVER_RUN,
        progress=False,
    )
    assert seen[0] is True


def test_an_archive_path_that_is_a_file_is_refused_before_a_run(tmp_path: Path) -> None:
    (tmp_path / "runs").write_text("")
    with pytest.raises(RunsError, match="is a file, not a folder"):
        preflight(tmp_path / "runs", Ledger(tmp_path / "ledger.duckdb"))


def test_an_archive_under_a_file_is_refused_before_a_run(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("")
    with pytest.raises(RunsError, match="cannot write the archive folder"):
        preflight(tmp_path / "data" / "runs", Ledger(tmp_path / "ledger.duckdb"))


@pytest.mark.parametrize(
    ("damage", "advice"),
    [
        (lambda p: p.write_bytes(b"\x00garbage" * 400), "restore your latest backup"),
        (lambda p: p.mkdir(), "move the folder aside"),
        (lambda p: p.write_bytes(b""), "restore your latest backup"),
    ],
    ids=["garbage", "a folder", "empty"],
)
def test_a_damaged_ledger_is_refused_before_a_run_with_what_to_do(
    tmp_path: Path, damage: Any, advice: str
) -> None:
    path = tmp_path / "ledger.duckdb"
    damage(path)
    with pytest.raises(RunsError, match=rf"(?s)ledger.duckdb.*what to do: .*{advice}"):
        preflight(tmp_path / "runs", Ledger(path))
    assert list_runs(tmp_path / "runs") == []


def test_a_truncated_ledger_is_refused_before_a_run(tmp_path: Path) -> None:
    good = Ledger(tmp_path / "good.duckdb")
    good.tables()
    data = good.path.read_bytes()
    path = tmp_path / "ledger.duckdb"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(RunsError, match="cannot open the ledger"):
        preflight(tmp_path / "runs", Ledger(path))
