"""The archive is a hash chain: any byte changed, any file removed or inserted is named by verify."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from catalyst.runs.archive import RecordedRun, list_runs, recorded_runs, resolve_run, verify_archive
from catalyst.runs.archive_chain import CHAIN_HEAD_NAME, seal_run
from catalyst.runs.manifest import read_manifest
from catalyst.runs.folder import RunFolder, create_run_folder
from catalyst.runs.errors import RunNotFoundError, RunsError

T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)


def _make_run(runs: Path, kind: str, minutes: int) -> RunFolder:
    folder = create_run_folder(runs, kind, T0 + timedelta(minutes=minutes))
    folder.notebook.write_text(json.dumps({"cells": [], "kind": kind}))
    folder.events.write_text('{"event": "run.started"}\n')
    folder.trade_log.write_bytes(bytes(range(256)) * 4)
    folder.html.write_text("<html><body>report</body></html>")
    seal_run(
        runs,
        folder,
        mode="sim",
        status="ok",
        started_at="s",
        finished_at="f",
        parameters={"strategy": "catalyst_momentum"},
    )
    return folder


@pytest.fixture
def archive(tmp_path: Path) -> tuple[Path, list[RunFolder]]:
    runs = tmp_path / "runs"
    folders = [_make_run(runs, k, i) for i, k in enumerate(["reconcile", "cycle", "review"])]
    return runs, folders


def test_an_untouched_archive_verifies(archive: tuple[Path, list[RunFolder]]) -> None:
    runs, _ = archive
    report = verify_archive(runs)
    assert report.ok, report.problems
    assert report.runs_checked == 3
    assert report.artifacts_checked == 12


def test_each_manifest_links_to_the_previous_one(archive: tuple[Path, list[RunFolder]]) -> None:
    _, folders = archive
    manifests = [read_manifest(f.path) for f in folders]
    assert [m.sequence for m in manifests] == [1, 2, 3]
    assert manifests[0].previous is None
    assert manifests[2].previous is not None and manifests[2].previous.run == folders[1].relative


@pytest.mark.parametrize("artifact", ["cycle.ipynb", "trade_log.duckdb", "events.jsonl", "cycle.html"])
def test_changing_one_byte_of_an_artifact_fails_verify_and_names_it(
    archive: tuple[Path, list[RunFolder]], artifact: str
) -> None:
    runs, folders = archive
    path = folders[1].path / artifact
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    report = verify_archive(runs)
    assert [(p.run, p.artifact, p.kind) for p in report.problems] == [
        (folders[1].relative, artifact, "changed")
    ]


def test_changing_a_manifest_breaks_the_link_from_the_next_run(archive: tuple[Path, list[RunFolder]]) -> None:
    runs, folders = archive
    m = folders[0].manifest
    m.write_text(m.read_text().replace('"sim"', '"paper"'))
    report = verify_archive(runs)
    assert ("changed", folders[0].relative, "manifest.json") in {
        (p.kind, p.run, p.artifact) for p in report.problems
    }


def test_changing_the_newest_manifest_is_caught_by_the_chain_head(
    archive: tuple[Path, list[RunFolder]],
) -> None:
    runs, folders = archive
    m = folders[2].manifest
    m.write_text(m.read_text().replace('"ok"', '"failed"'))
    assert [(p.run, p.kind) for p in verify_archive(runs).problems] == [(folders[2].relative, "changed")]


def test_a_removed_artifact_is_named(archive: tuple[Path, list[RunFolder]]) -> None:
    runs, folders = archive
    folders[1].events.unlink()
    assert [(p.artifact, p.kind) for p in verify_archive(runs).problems] == [("events.jsonl", "removed")]


def test_an_inserted_file_is_named(archive: tuple[Path, list[RunFolder]]) -> None:
    runs, folders = archive
    (folders[1].path / "extra.csv").write_text("a,b\n")
    assert [(p.artifact, p.kind) for p in verify_archive(runs).problems] == [("extra.csv", "inserted")]


def test_a_removed_run_breaks_the_chain_and_is_named(archive: tuple[Path, list[RunFolder]]) -> None:
    runs, folders = archive
    shutil.rmtree(folders[1].path)
    problems = verify_archive(runs).problems
    assert [(p.run, p.kind) for p in problems] == [(folders[1].relative, "removed")]


def test_removing_the_newest_run_is_caught_by_the_chain_head(archive: tuple[Path, list[RunFolder]]) -> None:
    runs, folders = archive
    shutil.rmtree(folders[2].path)
    assert [(p.run, p.kind) for p in verify_archive(runs).problems] == [(folders[2].relative, "removed")]


def test_an_inserted_run_folder_without_manifest_is_named(archive: tuple[Path, list[RunFolder]]) -> None:
    runs, _ = archive
    forged = create_run_folder(runs, "cycle", T0 + timedelta(minutes=1, seconds=30))
    forged.notebook.write_text("{}")
    problems = verify_archive(runs).problems
    assert [(p.run, p.kind) for p in problems] == [(forged.relative, "unsealed")]


def test_a_copied_run_claims_a_taken_chain_position(archive: tuple[Path, list[RunFolder]]) -> None:
    runs, folders = archive
    head_before = (runs / CHAIN_HEAD_NAME).read_text()
    copy = create_run_folder(runs, "cycle", T0 + timedelta(minutes=5))
    shutil.rmtree(copy.path)
    shutil.copytree(folders[1].path, copy.path)
    kinds = {(p.run, p.kind) for p in verify_archive(runs).problems}
    assert (copy.relative, "inserted") in kinds
    assert (runs / CHAIN_HEAD_NAME).read_text() == head_before


def test_verify_of_one_run_checks_only_that_run(archive: tuple[Path, list[RunFolder]]) -> None:
    runs, folders = archive
    folders[0].events.write_text("tampered\n")
    assert verify_archive(runs, folders[1].run_id).ok
    assert not verify_archive(runs, folders[0].run_id).ok


def test_runs_are_found_by_id_relative_path_or_token(archive: tuple[Path, list[RunFolder]]) -> None:
    runs, folders = archive
    f = folders[1]
    for name in (f.run_id, f.relative, str(f.path), f.run_id[-6:]):
        assert resolve_run(runs, name).run_id == f.run_id


def test_an_unknown_run_name_says_how_to_list_runs(archive: tuple[Path, list[RunFolder]]) -> None:
    runs, _ = archive
    with pytest.raises(RunNotFoundError, match="catalyst runs list"):
        resolve_run(runs, "nosuchrun")


def test_list_runs_is_oldest_first(archive: tuple[Path, list[RunFolder]]) -> None:
    runs, folders = archive
    assert [r.run_id for r in list_runs(runs)] == [f.run_id for f in folders]


# -- the archive against the ledger's runs table, and what does not belong ------------------------


def _recorded(folders: list[RunFolder]) -> list[RecordedRun]:
    return [RecordedRun(run_id=f.run_id, kind=f.kind, status="ok", run_dir=str(f.path)) for f in folders]


def test_an_archive_that_matches_the_ledger_verifies(archive: tuple[Path, list[RunFolder]]) -> None:
    runs, folders = archive
    assert verify_archive(runs, recorded=_recorded(folders)).ok


def test_an_emptied_archive_fails_when_the_ledger_lists_runs(archive: tuple[Path, list[RunFolder]]) -> None:
    """It used to pass: no folder, no manifest, no chain head, nothing to check."""
    runs, folders = archive
    for entry in runs.iterdir():
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    report = verify_archive(runs, recorded=_recorded(folders))
    assert not report.ok
    assert [(p.run, p.kind) for p in report.problems] == [(f.relative, "missing") for f in folders]
    assert folders[0].run_id in report.problems[0].message


def test_a_removed_archive_folder_fails_when_the_ledger_lists_runs(
    archive: tuple[Path, list[RunFolder]],
) -> None:
    runs, folders = archive
    shutil.rmtree(runs)
    assert {p.kind for p in verify_archive(runs, recorded=_recorded(folders)).problems} == {"missing"}


def test_a_folder_the_ledger_never_recorded_is_named(archive: tuple[Path, list[RunFolder]]) -> None:
    runs, folders = archive
    problems = verify_archive(runs, recorded=_recorded(folders[:2])).problems
    assert [(p.run, p.kind) for p in problems] == [(folders[2].relative, "unrecorded")]


def test_a_run_recorded_into_another_archive_is_not_missing_here(
    archive: tuple[Path, list[RunFolder]],
) -> None:
    runs, folders = archive
    elsewhere = RecordedRun(
        run_id="20261101-093000-cycle-abcdef",
        kind="cycle",
        status="ok",
        run_dir="/old/place/runs/2026-11-01/093000-cycle-abcdef",
    )
    assert verify_archive(runs, recorded=[*_recorded(folders), elsewhere]).ok


@pytest.mark.parametrize(
    "stray",
    ["notes.txt", "2026-11-24/copy of run", "2026-11-24/093000-cycle-XYZ", "old-runs/x", "2026-11-24/a.txt"],
)
def test_anything_that_is_not_a_run_folder_is_named(
    archive: tuple[Path, list[RunFolder]], stray: str
) -> None:
    """They used to be skipped silently."""
    runs, folders = archive
    path = runs / stray
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".txt":
        path.write_text("x")
    else:
        path.mkdir()
    top = stray.split("/")[0] if stray.startswith("old-runs") else stray
    problems = verify_archive(runs, recorded=_recorded(folders)).problems
    assert [(p.run, p.kind) for p in problems] == [(top, "unexpected")]


def test_an_archive_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    """`runs/` made a file used to read as an empty archive."""
    runs = tmp_path / "runs"
    runs.write_text("not a folder")
    with pytest.raises(RunsError, match="is a file, not a folder"):
        verify_archive(runs)
    with pytest.raises(RunsError, match="is a file, not a folder"):
        list_runs(runs)


def test_the_ledger_runs_are_read_from_the_runs_table(tmp_path: Path) -> None:
    from catalyst.ledger import Ledger

    ledger = Ledger(tmp_path / "ledger.duckdb")
    for run_id, kind in (("20261124-093000-cycle-abcdef", "cycle"), ("monitor-1", "monitor")):
        ledger.upsert(
            "runs",
            {
                "run_id": run_id,
                "kind": kind,
                "mode": "sim",
                "started_at": T0,
                "status": "running",
                "parameters": json.dumps({"universe": "700"}),
                "run_dir": str(tmp_path / "runs" / "2026-11-24" / "093000-cycle-abcdef"),
            },
        )
    [only] = recorded_runs(ledger)
    assert (only.run_id, only.kind, only.status, only.parameters) == (
        "20261124-093000-cycle-abcdef",
        "cycle",
        "running",
        {"universe": "700"},
    )


def test_the_archive_folder_of_a_fresh_checkout_verifies_clean(tmp_path: Path) -> None:
    """The repository ships ``runs/.gitkeep`` and ``runs/README.md``: those are the archive's own files,
    not strays (``catalyst runs verify`` failed on every fresh clone naming them)."""
    shipped = Path(__file__).resolve().parents[3] / "runs"
    runs = tmp_path / "runs"
    runs.mkdir()
    for name in (".gitkeep", "README.md"):
        assert (shipped / name).exists(), f"the repository no longer ships runs/{name}: update this test"
        shutil.copy(shipped / name, runs / name)
    report = verify_archive(runs)
    assert report.ok, report
