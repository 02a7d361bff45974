"""A run's manifest: what ran, with what, on which code, and the SHA-256 of every artifact.

The manifest is written last, as canonical JSON (sorted keys), so its own SHA-256 is stable and the
next run's manifest can record it: the archive is a hash chain (see :mod:`catalyst.runs.archive_chain`).

``assets`` lists the archive's shared files the run's reports load (``assets/<name>`` -> SHA-256, see
:mod:`catalyst.runs.shared_assets`): they are outside the run folder, stored once for every run, and
covered by every manifest that uses them. Format 1 manifests (before shared assets) have none.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from catalyst.runs.folder import MANIFEST_NAME
from catalyst.runs.errors import RunsError

MANIFEST_FORMAT = 2

#: Distributions whose versions every manifest records.
RECORDED_PACKAGES: tuple[str, ...] = (
    "catalyst",
    "ib-async",  # the IB client library (PyPI distribution name)
    "papermill",
    "nbconvert",
    "nbclient",
    "ipykernel",
    "pandas",
    "numpy",
    "duckdb",
    "plotly",
    "structlog",
    "pydantic",
    "exchange_calendars",
)

_CHUNK = 1 << 20


@dataclass(frozen=True)
class CodeVersion:
    describe: str
    commit: str | None
    dirty: bool | None


@dataclass(frozen=True)
class ChainLink:
    """The previous manifest: its run (``YYYY-MM-DD/<name>``) and the SHA-256 of its file."""

    run: str
    sha256: str


@dataclass(frozen=True)
class Failure:
    """The cell a failed notebook stopped at (0-based index among all cells) and the error."""

    cell: int | None
    ename: str
    evalue: str
    source: str = ""


@dataclass(frozen=True)
class Acknowledgement:
    """Who sealed a crashed run by hand (``catalyst runs seal``), when, and why."""

    by: str
    at: str
    reason: str


#: A run's status in its manifest: finished (ok, failed) or sealed by hand after a crash.
STATUSES = ("ok", "failed", "crashed")


@dataclass(frozen=True)
class Manifest:
    run_id: str
    kind: str
    mode: str
    status: str  # ok | failed | crashed (sealed by hand: see ``acknowledged``)
    started_at: str
    finished_at: str
    parameters: dict[str, Any]
    artifacts: dict[str, str]  # relative path -> sha256
    package_versions: dict[str, str]
    code_version: CodeVersion
    sequence: int
    previous: ChainLink | None
    failure: Failure | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    format: int = MANIFEST_FORMAT
    acknowledged: Acknowledgement | None = None
    #: shared files of the archive the run's reports load: ``assets/<name>`` -> sha256
    assets: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, indent=2, ensure_ascii=False, default=str) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        try:
            raw = json.loads(text)
            prev = raw.get("previous")
            fail = raw.get("failure")
            ack = raw.get("acknowledged")
            return cls(
                run_id=raw["run_id"],
                kind=raw["kind"],
                mode=raw["mode"],
                status=raw["status"],
                started_at=raw["started_at"],
                finished_at=raw["finished_at"],
                parameters=dict(raw["parameters"]),
                artifacts=dict(raw["artifacts"]),
                package_versions=dict(raw["package_versions"]),
                code_version=CodeVersion(**raw["code_version"]),
                sequence=int(raw["sequence"]),
                previous=ChainLink(**prev) if prev else None,
                failure=Failure(**fail) if fail else None,
                summary=dict(raw.get("summary") or {}),
                format=int(raw.get("format", 1)),
                acknowledged=Acknowledgement(**ack) if ack else None,
                assets=dict(raw.get("assets") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RunsError(f"unreadable manifest ({type(exc).__name__}: {exc})") from exc


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def artifact_paths(run_dir: Path) -> list[str]:
    """Every file of a run folder except the manifest, as sorted POSIX paths relative to it."""
    return sorted(
        p.relative_to(run_dir).as_posix()
        for p in run_dir.rglob("*")
        if p.is_file() and p.relative_to(run_dir).as_posix() != MANIFEST_NAME
    )


def hash_artifacts(run_dir: Path) -> dict[str, str]:
    return {name: sha256_file(run_dir / name) for name in artifact_paths(run_dir)}


def package_versions(names: tuple[str, ...] = RECORDED_PACKAGES) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _repo_root() -> Path | None:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / ".git").exists():
            return parent
    return None


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def code_version() -> CodeVersion:
    """``git describe`` of the checkout the package runs from, its commit and whether it is dirty.

    Outside a git checkout (an installed wheel) the package version is all there is.
    """
    root = _repo_root()
    if root is None:
        return CodeVersion(
            describe=f"catalyst {package_versions(('catalyst',))['catalyst']}", commit=None, dirty=None
        )
    commit = _git(root, "rev-parse", "HEAD")
    describe = _git(root, "describe", "--always", "--dirty", "--tags") or "unknown"
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    return CodeVersion(describe=describe, commit=commit, dirty=None if status is None else bool(status))


def read_manifest(run_dir: Path) -> Manifest:
    path = run_dir / MANIFEST_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RunsError(f"{path}: no readable manifest ({exc.strerror})") from exc
    return Manifest.from_json(text)


def write_manifest(run_dir: Path, manifest: Manifest) -> str:
    """Write ``manifest.json``; returns the SHA-256 of the file as written."""
    text = manifest.to_json()
    (run_dir / MANIFEST_NAME).write_text(text, encoding="utf-8")
    return sha256_text(text)
