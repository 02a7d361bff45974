"""Browsing and verifying the audit archive (``catalyst runs list | show | verify``).

``verify`` checks the archive against itself (every artifact's hash, the manifests' chain) and,
given the ledger's ``runs`` table, against the ledger: a run the ledger recorded whose folder is
gone is named (an emptied ``runs/`` fails), and so is a folder the ledger never recorded, anything
in the archive that is not a run folder, and every unsealed folder (with the way to acknowledge it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalyst.runs.archive_chain import CHAIN_HEAD_NAME, ChainHead, read_head
from catalyst.runs.manifest import (
    Manifest,
    artifact_paths,
    read_manifest,
    sha256_file,
)
from catalyst.runs.folder import (
    MANIFEST_NAME,
    RUN_KINDS,
    folder_for,
    run_dirs,
    run_id_of,
    unexpected_entries,
)
from catalyst.runs.errors import BadRunParameterError, RunNotFoundError, RunsError
from catalyst.runs.shared_assets import ASSETS_DIR, AssetHashes, name_digest


@dataclass(frozen=True)
class ArchivedRun:
    """One run folder and its manifest (``None`` when it has none: unsealed or inserted)."""

    path: Path
    relative: str
    run_id: str
    manifest: Manifest | None
    manifest_sha256: str | None


@dataclass(frozen=True)
class RecordedRun:
    """A run as the ledger's ``runs`` table records it."""

    run_id: str
    kind: str
    status: str
    run_dir: str | None = None
    mode: str | None = None
    started_at: str | None = None
    parameters: dict[str, Any] | None = None
    pid: int | None = None
    host: str | None = None
    pid_started: float | None = None


def recorded_runs(ledger: Any) -> list[RecordedRun]:
    """The archived kinds of run (cycle, reconcile, review, research) the ledger knows, oldest first."""
    kinds = ", ".join(f"'{k}'" for k in RUN_KINDS)
    columns = set(ledger.tables().get("runs", []))
    process = ", pid, host, pid_started" if {"pid", "host", "pid_started"} <= columns else ""
    frame = ledger.query(
        f"SELECT run_id, kind, status, run_dir, mode, started_at, parameters{process} FROM runs "
        f"WHERE kind IN ({kinds}) ORDER BY started_at, run_id"
    )
    out: list[RecordedRun] = []
    for row in frame.to_dict("records"):
        params = row.get("parameters")
        if isinstance(params, str):
            try:
                params = json.loads(params)
            except ValueError:
                params = None
        pid = row.get("pid")
        started = row.get("pid_started")
        out.append(
            RecordedRun(
                run_id=str(row["run_id"]),
                kind=str(row["kind"]),
                status=str(row["status"]),
                run_dir=_text(row.get("run_dir")),
                mode=_text(row.get("mode")),
                started_at=_text(row.get("started_at")),
                parameters=params if isinstance(params, dict) else None,
                pid=int(pid) if _present(pid) else None,
                host=_text(row.get("host")),
                pid_started=float(started) if _present(started) else None,
            )
        )
    return out


def _present(value: Any) -> bool:
    return value is not None and value == value  # NaN/NaT from pandas is not a value


def _text(value: Any) -> str | None:
    return str(value) if _present(value) else None


def _inside(run_dir: str | None, runs_dir: Path) -> bool:
    """Was the run recorded into this archive? (A ledger may outlive a move of ``paths.runs_dir``.)"""
    if not run_dir:
        return True
    try:
        return Path(run_dir).resolve().parent.parent == runs_dir.resolve()
    except OSError:
        return True


@dataclass(frozen=True)
class Problem:
    """Something ``verify`` found. ``kind``: changed | removed | inserted | unsealed | chain |
    missing (recorded in the ledger, no folder) | unrecorded (a folder the ledger does not know) |
    unexpected (not a run folder) | ledger (the ledger could not be read). A shared asset's problem
    names the asset (``run`` is ``assets``) and the runs whose reports load it."""

    run: str
    artifact: str
    kind: str
    message: str
    #: a shared asset's problem: every run whose report loads it (each of them no longer verifies)
    runs: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.kind.upper():9} {self.run}/{self.artifact}: {self.message}"


@dataclass(frozen=True)
class VerifyReport:
    runs_checked: int
    artifacts_checked: int
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems

    def broken_runs(self) -> set[str]:
        """The runs (``YYYY-MM-DD/<folder>``) a problem touches, those loading a broken asset too."""
        return {p.run for p in self.problems} | {r for p in self.problems for r in p.runs}


def _load(runs_dir: Path, path: Path) -> ArchivedRun:
    relative = f"{path.parent.name}/{path.name}"
    manifest_path = path / MANIFEST_NAME
    manifest: Manifest | None = None
    sha: str | None = None
    if manifest_path.exists():
        sha = sha256_file(manifest_path)
        try:
            manifest = read_manifest(path)
        except RunsError:
            manifest = None
    return ArchivedRun(
        path=path, relative=relative, run_id=run_id_of(path), manifest=manifest, manifest_sha256=sha
    )


def list_runs(runs_dir: Path) -> list[ArchivedRun]:
    """Every run folder, oldest first."""
    return [_load(runs_dir, p) for p in run_dirs(runs_dir)]


def resolve_run(runs_dir: Path, name: str) -> ArchivedRun:
    """Find a run by id (``20261124-093012-cycle-3fa9c1``), by ``YYYY-MM-DD/<folder>``, by folder path,
    or by a unique suffix of its id (the 6-hex token is enough)."""
    candidates: list[Path] = []
    as_path = Path(name)
    if (as_path.is_dir() and (as_path / MANIFEST_NAME).exists()) or (runs_dir / name).is_dir():
        candidates = [as_path if as_path.is_dir() else runs_dir / name]
    else:
        try:
            candidates = [folder_for(runs_dir, name).path]
        except BadRunParameterError:
            candidates = [p for p in run_dirs(runs_dir) if run_id_of(p).endswith(name)]
    candidates = [p for p in candidates if p.is_dir()]
    if len(candidates) != 1:
        detail = "no run matches" if not candidates else f"{len(candidates)} runs match"
        raise RunNotFoundError(f"{detail} {name!r} in {runs_dir}; `catalyst runs list` shows them")
    return _load(runs_dir, candidates[0].resolve())


def _check_artifacts(run: ArchivedRun) -> tuple[int, list[Problem]]:
    problems: list[Problem] = []
    if not (run.path / MANIFEST_NAME).exists():
        return 0, [
            Problem(
                run.relative,
                MANIFEST_NAME,
                "unsealed",
                "no manifest: the run is still going, crashed before sealing, or was inserted; "
                f"if it crashed, `catalyst runs seal {run.run_id} --reason TEXT` acknowledges it",
            )
        ]
    if run.manifest is None:
        return 0, [Problem(run.relative, MANIFEST_NAME, "changed", "the manifest is not valid JSON any more")]
    recorded = run.manifest.artifacts
    present = set(artifact_paths(run.path))
    for name, sha in sorted(recorded.items()):
        if name not in present:
            problems.append(Problem(run.relative, name, "removed", "listed in the manifest, missing on disk"))
        elif sha256_file(run.path / name) != sha:
            problems.append(Problem(run.relative, name, "changed", "its SHA-256 differs from the manifest's"))
    for name in sorted(present - set(recorded)):
        problems.append(Problem(run.relative, name, "inserted", "not listed in the manifest"))
    if run.manifest.run_id != run.run_id:
        problems.append(
            Problem(
                run.relative,
                MANIFEST_NAME,
                "changed",
                f"manifest is for run {run.manifest.run_id}, folder is {run.run_id}",
            )
        )
    return len(recorded), problems


def _asset_fault(path: str, recorded: str, actual: str | None) -> tuple[str, str] | None:
    """What is wrong with one shared asset a manifest lists: (kind, message), None when nothing."""
    if actual is None:
        return "removed", "a shared asset the report loads; missing from the archive's assets folder"
    if actual != recorded:
        return "changed", "a shared asset: its SHA-256 differs from the one the manifest records"
    digest = name_digest(path)
    if digest is not None and not actual.startswith(digest):
        return "changed", "a shared asset: its content does not match the hash in its name"
    return None


def _check_assets(runs: list[ArchivedRun], hashes: AssetHashes) -> tuple[int, list[Problem]]:
    """Every shared asset the runs' manifests list, hashed once: one problem per asset and fault,
    naming the runs whose reports load it."""
    users: dict[tuple[str, str, str], list[str]] = {}
    checked = 0
    for r in runs:
        if r.manifest is None:
            continue
        for path, recorded in sorted(r.manifest.assets.items()):
            checked += 1
            fault = _asset_fault(path, recorded, hashes.of(path))
            if fault is not None:
                users.setdefault((path, *fault), []).append(r.relative)
    problems = []
    for (path, kind, message), names in sorted(users.items()):
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        artifact = path.removeprefix(ASSETS_DIR + "/")
        problems.append(
            Problem(ASSETS_DIR, artifact, kind, f"{message} ({len(names)} run(s): {shown})", tuple(names))
        )
    return checked, problems


def _check_chain(runs_dir: Path, runs: list[ArchivedRun]) -> list[Problem]:
    sealed = [r for r in runs if r.manifest is not None]
    by_relative = {r.relative: r for r in runs}
    problems = _shared_positions(sealed)
    problems += [p for r in sealed if (p := _link_problem(r, by_relative)) is not None]
    try:
        head = read_head(runs_dir)
    except RunsError as exc:
        return [*problems, Problem(".", CHAIN_HEAD_NAME, "changed", str(exc))]
    if head is None:
        if sealed:
            problems.append(
                Problem(".", CHAIN_HEAD_NAME, "removed", "the archive has runs but no chain head")
            )
        return problems
    return problems + _head_problems(head, sealed, by_relative)


def _shared_positions(sealed: list[ArchivedRun]) -> list[Problem]:
    """One problem per run of a chain position that several runs claim."""
    problems: list[Problem] = []
    by_sequence: dict[int, list[ArchivedRun]] = {}
    for r in sealed:
        assert r.manifest is not None
        by_sequence.setdefault(r.manifest.sequence, []).append(r)
    for seq, group in sorted(by_sequence.items()):
        if len(group) > 1:
            names = ", ".join(r.relative for r in group)
            for r in group:
                problems.append(
                    Problem(
                        r.relative,
                        MANIFEST_NAME,
                        "inserted",
                        f"chain position {seq} is claimed by several runs: {names}",
                    )
                )
    return problems


def _link_problem(r: ArchivedRun, by_relative: dict[str, ArchivedRun]) -> Problem | None:
    """What is wrong with a sealed run's link to the run before it, None when nothing."""
    m = r.manifest
    assert m is not None
    if m.previous is None:
        if m.sequence != 1:
            return Problem(
                r.relative,
                MANIFEST_NAME,
                "chain",
                f"run {m.sequence} of the chain does not link to a previous run",
            )
        return None
    prev = by_relative.get(m.previous.run)
    if prev is None:
        return Problem(
            m.previous.run,
            MANIFEST_NAME,
            "removed",
            f"the run before {r.relative} in the chain is gone from the archive",
        )
    if prev.manifest_sha256 is None:
        return Problem(
            prev.relative,
            MANIFEST_NAME,
            "removed",
            f"its manifest is gone (run {r.relative} links to it)",
        )
    if prev.manifest_sha256 != m.previous.sha256:
        return Problem(
            prev.relative,
            MANIFEST_NAME,
            "changed",
            f"its SHA-256 differs from the one recorded by {r.relative}",
        )
    if prev.manifest is not None and prev.manifest.sequence != m.sequence - 1:
        return Problem(
            r.relative,
            MANIFEST_NAME,
            "chain",
            f"links to {prev.relative} at position {prev.manifest.sequence}, "
            f"expected position {m.sequence - 1}",
        )
    return None


def _head_problems(
    head: ChainHead, sealed: list[ArchivedRun], by_relative: dict[str, ArchivedRun]
) -> list[Problem]:
    """The chain head against the runs: the newest run is there, unchanged, and none is past it."""
    problems: list[Problem] = []
    last = by_relative.get(head.run)
    top = max((r.manifest.sequence for r in sealed if r.manifest), default=0)
    if last is None or last.manifest_sha256 is None:
        problems.append(
            Problem(
                head.run, MANIFEST_NAME, "removed", "the newest run of the chain is gone from the archive"
            )
        )
    elif last.manifest_sha256 != head.sha256:
        problems.append(
            Problem(
                head.run,
                MANIFEST_NAME,
                "changed",
                f"its SHA-256 differs from the one recorded in {CHAIN_HEAD_NAME}",
            )
        )
    if top > head.sequence:
        for r in sealed:
            if r.manifest and r.manifest.sequence > head.sequence:
                problems.append(
                    Problem(
                        r.relative,
                        MANIFEST_NAME,
                        "inserted",
                        f"chain position {r.manifest.sequence} is past the head "
                        f"({head.sequence}) recorded in {CHAIN_HEAD_NAME}",
                    )
                )
    return problems


def _check_ledger(runs_dir: Path, runs: list[ArchivedRun], recorded: Sequence[RecordedRun]) -> list[Problem]:
    problems: list[Problem] = []
    present = {r.run_id for r in runs}
    known = set()
    for rec in recorded:
        known.add(rec.run_id)
        if rec.run_id in present or not _inside(rec.run_dir, runs_dir):
            continue
        try:
            where = folder_for(runs_dir, rec.run_id).relative
        except BadRunParameterError:
            where = rec.run_id
        problems.append(
            Problem(
                where,
                MANIFEST_NAME,
                "missing",
                f"the ledger records {rec.kind} run {rec.run_id} ({rec.status}) but its folder is not "
                "in the archive: restore it from your backup of runs/",
            )
        )
    for r in runs:
        if r.run_id not in known:
            problems.append(
                Problem(
                    r.relative,
                    MANIFEST_NAME,
                    "unrecorded",
                    "a run folder the ledger's runs table does not know",
                )
            )
    return problems


def _check_entries(runs_dir: Path) -> list[Problem]:
    problems = []
    for entry in unexpected_entries(runs_dir):
        relative = entry.relative_to(runs_dir).as_posix()
        what = "folder" if entry.is_dir() else "file"
        problems.append(
            Problem(
                relative,
                "",
                "unexpected",
                f"a {what} that is not a run folder (runs/YYYY-MM-DD/HHMMSS-kind-xxxxxx): "
                "move it out of the archive",
            )
        )
    return problems


def verify_archive(
    runs_dir: Path, run: str | None = None, *, recorded: Sequence[RecordedRun] | None = None
) -> VerifyReport:
    """Recompute every hash and every chain link; with ``run``, check that run and its link only.

    With ``recorded`` (the ledger's runs, :func:`recorded_runs`), also name the runs the ledger knows
    that the archive lacks, and the folders the ledger does not know.
    """
    runs = list_runs(runs_dir)
    hashes = AssetHashes(runs_dir)
    if run is not None:
        target = resolve_run(runs_dir, run)
        count, problems = _check_artifacts(target)
        assets, found = _check_assets([target], hashes)
        count += assets
        problems += found
        chain = _check_chain(runs_dir, runs)
        problems += [p for p in chain if p.run == target.relative]
        if recorded is not None:
            problems += [p for p in _check_ledger(runs_dir, [target], recorded) if p.run == target.relative]
        return VerifyReport(runs_checked=1, artifacts_checked=count, problems=problems)
    problems = _check_entries(runs_dir)
    total = 0
    for r in runs:
        count, found = _check_artifacts(r)
        total += count
        problems += found
    assets, found = _check_assets(runs, hashes)
    total += assets
    problems += found
    problems += _check_chain(runs_dir, runs)
    if recorded is not None:
        problems += _check_ledger(runs_dir, runs, recorded)
    return VerifyReport(runs_checked=len(runs), artifacts_checked=total, problems=problems)
