"""``catalyst runs seal RUN --reason TEXT``: acknowledge a run that crashed before it was sealed.

A run killed mid-way (SIGKILL, a power cut) leaves a folder without a manifest, and ``runs verify``
fails on it until someone looks. Sealing it by hand hashes what is there into the chain with status
``crashed``, the reason, who and when, so ``verify`` passes again and still shows the run. A run whose
process is still alive (it holds its folder's claim, or the ledger's pid is alive) is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from catalyst.ledger.run_process import process_alive
from catalyst.runs.archive import ArchivedRun, RecordedRun, resolve_run
from catalyst.runs.archive_chain import seal_run
from catalyst.runs.manifest import Acknowledgement, Failure, Manifest
from catalyst.runs.folder import folder_for, folder_in_use
from catalyst.runs.errors import RunsError

CRASHED = "crashed"


def _refuse_if_live(run: ArchivedRun, record: RecordedRun | None) -> None:
    if folder_in_use(run.path):
        raise RunsError(
            f"run {run.run_id} is still going: a live process holds {run.path}; wait for it to finish "
            "(it seals itself), or stop it first"
        )
    if record is not None and process_alive(record.pid, record.host, record.pid_started):
        raise RunsError(
            f"run {run.run_id} is still going: its process {record.pid} on {record.host} is alive; "
            "wait for it to finish, or stop it first"
        )


def seal_crashed(
    runs_dir: Any,
    name: str,
    *,
    reason: str,
    by: str,
    recorded: Sequence[RecordedRun] = (),
    now: datetime | None = None,
) -> tuple[ArchivedRun, Manifest, str]:
    """Seal the unsealed run ``name`` as ``crashed``; returns the run, its manifest and its SHA-256."""
    if not reason.strip():
        raise RunsError("--reason must say why the run is sealed by hand (it goes into the manifest)")
    run = resolve_run(runs_dir, name)
    if run.manifest_sha256 is not None:
        status = run.manifest.status if run.manifest else "unreadable"
        raise RunsError(
            f"run {run.run_id} is sealed already (status {status}); there is nothing to acknowledge"
        )
    record = next((r for r in recorded if r.run_id == run.run_id), None)
    _refuse_if_live(run, record)
    folder = folder_for(runs_dir, run.run_id)
    at = (now or datetime.now(UTC)).isoformat()
    manifest, sha = seal_run(
        runs_dir,
        folder,
        mode=(record.mode if record and record.mode else "unknown"),
        status=CRASHED,
        started_at=(record.started_at if record and record.started_at else folder.started_at.isoformat()),
        finished_at=at,
        parameters=(record.parameters if record and record.parameters else {}),
        failure=Failure(cell=None, ename="Crashed", evalue=f"sealed by hand by {by}: {reason}"),
        acknowledged=Acknowledgement(by=by, at=at, reason=reason),
    )
    return run, manifest, sha
