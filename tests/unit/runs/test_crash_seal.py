"""A crashed run (a folder without a manifest) is acknowledged with `runs seal`: the chain verifies
again and still shows the run, as `crashed`, with who, when and why. A live run is never sealed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from catalyst.runs.archive import RecordedRun, list_runs, verify_archive
from catalyst.runs.archive_chain import seal_run
from catalyst.runs.crash_seal import seal_crashed
from catalyst.runs.manifest import read_manifest
from catalyst.runs.folder import FolderClaim, RunFolder, create_run_folder
from catalyst.runs.errors import RunsError

T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)


def _sealed(runs: Path, minutes: int) -> RunFolder:
    folder = create_run_folder(runs, "reconcile", T0 + timedelta(minutes=minutes))
    folder.events.write_text('{"event": "run.started"}\n')
    seal_run(runs, folder, mode="sim", status="ok", started_at="s", finished_at="f", parameters={})
    return folder


def _crashed(runs: Path, minutes: int) -> RunFolder:
    """What SIGKILL leaves: a notebook half written, a log, no manifest."""
    folder = create_run_folder(runs, "cycle", T0 + timedelta(minutes=minutes))
    folder.events.write_text('{"event": "run.started"}\n{"event": "cycle.phase"}\n')
    folder.notebook.write_text('{"cells": [')
    return folder


@pytest.fixture
def archive(tmp_path: Path) -> tuple[Path, RunFolder, RunFolder]:
    runs = tmp_path / "runs"
    before = _sealed(runs, 0)
    crashed = _crashed(runs, 1)
    return runs, before, crashed


def test_an_unsealed_folder_fails_verify_with_the_seal_hint(
    archive: tuple[Path, RunFolder, RunFolder],
) -> None:
    runs, _, crashed = archive
    problems = verify_archive(runs).problems
    assert [(p.run, p.kind) for p in problems] == [(crashed.relative, "unsealed")]
    assert f"catalyst runs seal {crashed.run_id} --reason" in problems[0].message


def test_sealing_a_crashed_run_makes_verify_pass_and_keeps_the_run(
    archive: tuple[Path, RunFolder, RunFolder],
) -> None:
    runs, before, crashed = archive
    record = RecordedRun(
        run_id=crashed.run_id,
        kind="cycle",
        status="running",
        mode="paper",
        started_at="2026-11-24T09:31:00+08:00",
        parameters={"universe": "700"},
    )
    at = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    seal_crashed(
        runs, crashed.run_id, reason="SIGKILL by the OOM killer", by="trader", recorded=[record], now=at
    )

    assert verify_archive(runs).ok
    manifest = read_manifest(crashed.path)
    assert manifest.status == "crashed"
    assert manifest.acknowledged is not None
    assert (manifest.acknowledged.by, manifest.acknowledged.reason) == ("trader", "SIGKILL by the OOM killer")
    assert manifest.acknowledged.at == at.isoformat()
    assert (manifest.mode, manifest.parameters) == ("paper", {"universe": "700"})
    assert set(manifest.artifacts) == {"events.jsonl", "cycle.ipynb"}, "what is there is hashed"
    assert manifest.previous is not None and manifest.previous.run == before.relative
    assert [(r.run_id, r.manifest.status if r.manifest else None) for r in list_runs(runs)][-1] == (
        crashed.run_id,
        "crashed",
    )


def test_a_sealed_crashed_run_still_catches_a_change(archive: tuple[Path, RunFolder, RunFolder]) -> None:
    runs, _, crashed = archive
    seal_crashed(runs, crashed.run_id, reason="power cut", by="trader")
    crashed.events.write_text("rewritten\n")
    assert [(p.run, p.artifact, p.kind) for p in verify_archive(runs).problems] == [
        (crashed.relative, "events.jsonl", "changed")
    ]


def test_a_run_that_is_still_going_is_not_sealed(archive: tuple[Path, RunFolder, RunFolder]) -> None:
    runs, _, crashed = archive
    claim = FolderClaim(crashed.path)
    try:
        with pytest.raises(RunsError, match="still going"):
            seal_crashed(runs, crashed.run_id, reason="looked dead", by="trader")
    finally:
        claim.release()
    assert not crashed.manifest.exists()


def test_a_run_whose_recorded_process_is_alive_is_not_sealed(
    archive: tuple[Path, RunFolder, RunFolder],
) -> None:
    import os
    import socket

    from catalyst.ledger.run_process import process_start_time

    runs, _, crashed = archive
    alive = RecordedRun(
        run_id=crashed.run_id,
        kind="cycle",
        status="running",
        pid=os.getpid(),
        host=socket.gethostname(),
        pid_started=process_start_time(os.getpid()),
    )
    with pytest.raises(RunsError, match=f"process {os.getpid()}"):
        seal_crashed(runs, crashed.run_id, reason="looked dead", by="trader", recorded=[alive])


def test_a_sealed_run_is_not_sealed_again(archive: tuple[Path, RunFolder, RunFolder]) -> None:
    runs, before, _ = archive
    text = before.manifest.read_text()
    with pytest.raises(RunsError, match="sealed already"):
        seal_crashed(runs, before.run_id, reason="oops", by="trader")
    assert before.manifest.read_text() == text


def test_a_reason_is_required(archive: tuple[Path, RunFolder, RunFolder]) -> None:
    runs, _, crashed = archive
    with pytest.raises(RunsError, match="--reason"):
        seal_crashed(runs, crashed.run_id, reason="  ", by="trader")


def test_two_seals_of_one_folder_never_write_two_manifests(
    archive: tuple[Path, RunFolder, RunFolder],
) -> None:
    """The second seal is refused under the chain lock, so the chain keeps one line."""
    runs, _, crashed = archive
    seal_run(runs, crashed, mode="sim", status="failed", started_at="s", finished_at="f", parameters={})
    first = json.loads(crashed.manifest.read_text())
    with pytest.raises(RunsError, match="sealed already"):
        seal_run(runs, crashed, mode="sim", status="crashed", started_at="s", finished_at="f", parameters={})
    assert json.loads(crashed.manifest.read_text()) == first
    assert verify_archive(runs).ok
