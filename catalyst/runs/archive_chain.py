"""Sealing a run into the archive's hash chain.

Each manifest records the SHA-256 of the manifest sealed before it, and ``runs/chain_head.json``
records the newest one, so removing, changing or inserting anything anywhere in the archive breaks a
link that :func:`catalyst.runs.archive.verify_archive` names. Sealing happens under an exclusive
file lock, so runs that finish at the same moment (the scheduler's reconcile and a cycle) still form
one line.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalyst.runs.manifest import (
    Acknowledgement,
    ChainLink,
    Failure,
    Manifest,
    code_version,
    hash_artifacts,
    package_versions,
    write_manifest,
)
from catalyst.runs.folder import RunFolder
from catalyst.runs.errors import ArchiveLockError, RunsError
from catalyst.runs.shared_assets import hash_referenced_assets

CHAIN_HEAD_NAME = "chain_head.json"
LOCK_NAME = ".chain.lock"


@dataclass(frozen=True)
class ChainHead:
    sequence: int
    run: str
    sha256: str


@contextmanager
def chain_lock(runs_dir: Path, timeout: float = 60.0) -> Iterator[None]:
    """Exclusive lock on the archive's chain, shared by every process that seals runs."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    with (runs_dir / LOCK_NAME).open("a") as fh:
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ArchiveLockError(
                        f"another process has held {runs_dir / LOCK_NAME} for {timeout:.0f}s; "
                        "if no catalyst run is active, the lock is stale: remove the file and retry"
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def read_head(runs_dir: Path) -> ChainHead | None:
    path = runs_dir / CHAIN_HEAD_NAME
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return ChainHead(sequence=int(raw["sequence"]), run=str(raw["run"]), sha256=str(raw["sha256"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise RunsError(f"{path} is unreadable ({exc}); run `catalyst runs verify` to see why") from exc


def _write_head(runs_dir: Path, head: ChainHead) -> None:
    tmp = runs_dir / (CHAIN_HEAD_NAME + ".tmp")
    tmp.write_text(
        json.dumps({"sequence": head.sequence, "run": head.run, "sha256": head.sha256}, indent=2) + "\n",
        encoding="utf-8",
    )
    os.replace(tmp, runs_dir / CHAIN_HEAD_NAME)


def seal_run(
    runs_dir: Path,
    folder: RunFolder,
    *,
    mode: str,
    status: str,
    started_at: str,
    finished_at: str,
    parameters: dict[str, Any],
    failure: Failure | None = None,
    summary: dict[str, Any] | None = None,
    acknowledged: Acknowledgement | None = None,
) -> tuple[Manifest, str]:
    """Hash every artifact of ``folder`` and every shared asset its reports load, link it to the
    chain and write its manifest.

    Returns the manifest and the SHA-256 of its file. Nothing may be written to the folder after.
    A folder is sealed once: a second seal (two ``runs seal`` at once) is refused under the lock.
    """
    with chain_lock(runs_dir):
        if folder.manifest.exists():
            raise RunsError(f"{folder.relative} is sealed already ({folder.manifest} exists)")
        head = read_head(runs_dir)
        manifest = Manifest(
            run_id=folder.run_id,
            kind=folder.kind,
            mode=mode,
            status=status,
            started_at=started_at,
            finished_at=finished_at,
            parameters=parameters,
            artifacts=hash_artifacts(folder.path),
            package_versions=package_versions(),
            code_version=code_version(),
            sequence=(head.sequence + 1) if head else 1,
            previous=ChainLink(run=head.run, sha256=head.sha256) if head else None,
            failure=failure,
            summary=summary or {},
            acknowledged=acknowledged,
            assets=hash_referenced_assets(runs_dir, folder.path),
        )
        sha = write_manifest(folder.path, manifest)
        _write_head(runs_dir, ChainHead(sequence=manifest.sequence, run=folder.relative, sha256=sha))
    return manifest, sha
