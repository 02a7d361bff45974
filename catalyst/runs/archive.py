"""Browsing and verifying the audit archive (``catalyst runs list | show | verify``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from catalyst.runs.archive_chain import CHAIN_HEAD_NAME, read_head
from catalyst.runs.manifest import (
    Manifest,
    artifact_paths,
    read_manifest,
    sha256_file,
)
from catalyst.runs.run_folder import MANIFEST_NAME, folder_for, run_dirs, run_id_of
from catalyst.runs.runs_errors import BadRunParameterError, RunNotFoundError, RunsError


@dataclass(frozen=True)
class ArchivedRun:
    """One run folder and its manifest (``None`` when it has none: unsealed or inserted)."""

    path: Path
    relative: str
    run_id: str
    manifest: Manifest | None
    manifest_sha256: str | None


@dataclass(frozen=True)
class Problem:
    """Something ``verify`` found. ``kind``: changed | removed | inserted | unsealed | chain."""

    run: str
    artifact: str
    kind: str
    message: str

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
                "no manifest: the run is still going, crashed before sealing, or was inserted",
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


def _check_chain(runs_dir: Path, runs: list[ArchivedRun]) -> list[Problem]:
    problems: list[Problem] = []
    sealed = [r for r in runs if r.manifest is not None]
    by_relative = {r.relative: r for r in runs}
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
    for r in sealed:
        m = r.manifest
        assert m is not None
        if m.previous is None:
            if m.sequence != 1:
                problems.append(
                    Problem(
                        r.relative,
                        MANIFEST_NAME,
                        "chain",
                        f"run {m.sequence} of the chain does not link to a previous run",
                    )
                )
            continue
        prev = by_relative.get(m.previous.run)
        if prev is None:
            problems.append(
                Problem(
                    m.previous.run,
                    MANIFEST_NAME,
                    "removed",
                    f"the run before {r.relative} in the chain is gone from the archive",
                )
            )
        elif prev.manifest_sha256 is None:
            problems.append(
                Problem(
                    prev.relative,
                    MANIFEST_NAME,
                    "removed",
                    f"its manifest is gone (run {r.relative} links to it)",
                )
            )
        elif prev.manifest_sha256 != m.previous.sha256:
            problems.append(
                Problem(
                    prev.relative,
                    MANIFEST_NAME,
                    "changed",
                    f"its SHA-256 differs from the one recorded by {r.relative}",
                )
            )
        elif prev.manifest is not None and prev.manifest.sequence != m.sequence - 1:
            problems.append(
                Problem(
                    r.relative,
                    MANIFEST_NAME,
                    "chain",
                    f"links to {prev.relative} at position {prev.manifest.sequence}, "
                    f"expected position {m.sequence - 1}",
                )
            )
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


def verify_archive(runs_dir: Path, run: str | None = None) -> VerifyReport:
    """Recompute every hash and every chain link; with ``run``, check that run and its link only."""
    runs = list_runs(runs_dir)
    if run is not None:
        target = resolve_run(runs_dir, run)
        count, problems = _check_artifacts(target)
        chain = _check_chain(runs_dir, runs)
        problems += [p for p in chain if p.run == target.relative]
        return VerifyReport(runs_checked=1, artifacts_checked=count, problems=problems)
    problems = []
    total = 0
    for r in runs:
        count, found = _check_artifacts(r)
        total += count
        problems += found
    problems += _check_chain(runs_dir, runs)
    return VerifyReport(runs_checked=len(runs), artifacts_checked=total, problems=problems)
