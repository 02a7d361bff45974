"""Where a run's artifacts go: ``runs/YYYY-MM-DD/<HHMMSS>-<kind>-<token>/``.

The date and time are Hong Kong's (the trading day a trader thinks in). The run id carries the date
too, so it is unique across the whole archive and sorts in time order:
``20261124-093012-cycle-3fa9c1``.
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal, get_args

from catalyst.market import HK_TZ
from catalyst.runs.errors import BadRunParameterError, RunsError

RunKind = Literal["cycle", "reconcile", "review", "research"]
RUN_KINDS: tuple[str, ...] = get_args(RunKind)

#: Artifact file names inside a run folder (the notebook is named after its kind).
MANIFEST_NAME = "manifest.json"
TRADE_LOG_NAME = "trade_log.duckdb"
EVENTS_NAME = "events.jsonl"

_RUN_ID = re.compile(r"^(?P<day>\d{8})-(?P<time>\d{6})-(?P<kind>[a-z]+)-(?P<token>[0-9a-f]{6})$")
_DAY_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RUN_DIR = re.compile(r"^\d{6}-[a-z]+-[0-9a-f]{6}$")


@dataclass(frozen=True)
class RunFolder:
    """One run's identity and folder."""

    run_id: str
    kind: str
    started_at: datetime
    path: Path

    @property
    def notebook(self) -> Path:
        return self.path / f"{self.kind}.ipynb"

    @property
    def html(self) -> Path:
        return self.path / f"{self.kind}.html"

    @property
    def trade_log(self) -> Path:
        return self.path / TRADE_LOG_NAME

    @property
    def events(self) -> Path:
        return self.path / EVENTS_NAME

    @property
    def manifest(self) -> Path:
        return self.path / MANIFEST_NAME

    @property
    def relative(self) -> str:
        """``YYYY-MM-DD/<HHMMSS>-<kind>-<token>``: how the archive names the run."""
        return f"{self.path.parent.name}/{self.path.name}"


def check_kind(kind: str) -> str:
    if kind not in RUN_KINDS:
        raise BadRunParameterError(f"unknown run kind {kind!r}; expected one of {', '.join(RUN_KINDS)}")
    return kind


def make_run_id(kind: str, started_at: datetime, token: str | None = None) -> str:
    """A sortable, archive-unique run id; ``token`` (6 hex digits) is random unless given."""
    check_kind(kind)
    if started_at.tzinfo is None:
        raise BadRunParameterError("a run's start time must be timezone-aware")
    token = token if token is not None else secrets.token_hex(3)
    if not re.fullmatch(r"[0-9a-f]{6}", token):
        raise BadRunParameterError(f"run token must be 6 lowercase hex digits, got {token!r}")
    local = started_at.astimezone(HK_TZ)
    return f"{local:%Y%m%d}-{local:%H%M%S}-{kind}-{token}"


def folder_for(runs_dir: Path, run_id: str) -> RunFolder:
    """The folder a run id lives in (whether or not it exists yet)."""
    m = _RUN_ID.match(run_id)
    if m is None:
        raise BadRunParameterError(f"not a run id: {run_id!r} (expected YYYYMMDD-HHMMSS-kind-xxxxxx)")
    day = datetime.strptime(m["day"] + m["time"], "%Y%m%d%H%M%S").replace(tzinfo=HK_TZ)
    path = runs_dir / f"{day:%Y-%m-%d}" / f"{m['time']}-{m['kind']}-{m['token']}"
    return RunFolder(run_id=run_id, kind=m["kind"], started_at=day, path=path)


def create_run_folder(runs_dir: Path, kind: str, started_at: datetime) -> RunFolder:
    """Make a new, empty run folder; retries the random token on the (unlikely) clash."""
    for _ in range(20):
        folder = folder_for(runs_dir, make_run_id(kind, started_at))
        try:
            folder.path.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            continue
        return folder
    raise BadRunParameterError(f"could not create a unique run folder under {runs_dir}")


def run_id_of(run_dir: Path) -> str:
    """Inverse of :func:`folder_for`: ``runs/2026-11-24/093012-cycle-3fa9c1`` → its run id."""
    day, name = run_dir.parent.name, run_dir.name
    if not (_DAY_DIR.match(day) and _RUN_DIR.match(name)):
        raise BadRunParameterError(f"{run_dir} is not a run folder (runs/YYYY-MM-DD/HHMMSS-kind-xxxxxx)")
    hhmmss, kind, token = name.split("-")
    return f"{day.replace('-', '')}-{hhmmss}-{kind}-{token}"


#: Files of the archive's top folder that are not runs (the chain's head and lock, a write probe).
#: The archive's own files: its chain head and lock, and the two the repository ships in ``runs/``
#: (an empty archive on a fresh checkout must verify clean).
ARCHIVE_FILES = ("chain_head.json", "chain_head.json.tmp", ".chain.lock", ".gitkeep", "README.md")
#: The archive's folder of shared report assets (:mod:`catalyst.runs.shared_assets`).
ARCHIVE_ASSETS_DIR = "assets"
ARCHIVE_PROBE = ".catalyst-write-probe-"


def check_archive_dir(runs_dir: Path) -> None:
    """Refuse an archive path that is a file (``runs/`` made a file would read as an empty archive)."""
    if runs_dir.exists() and not runs_dir.is_dir():
        raise RunsError(
            f"the archive folder {runs_dir} is a file, not a folder: move the file aside "
            "(or set paths.runs_dir in catalyst.toml) and retry"
        )


def _day_dirs(runs_dir: Path) -> list[Path]:
    return sorted(p for p in runs_dir.iterdir() if p.is_dir() and _DAY_DIR.match(p.name))


def run_dirs(runs_dir: Path) -> list[Path]:
    """Every run folder of the archive, oldest first (by name, i.e. by start time)."""
    check_archive_dir(runs_dir)
    if not runs_dir.is_dir():
        return []
    out: list[Path] = []
    for day in _day_dirs(runs_dir):
        out.extend(sorted(p for p in day.iterdir() if p.is_dir() and _RUN_DIR.match(p.name)))
    return out


def unexpected_entries(runs_dir: Path) -> list[Path]:
    """What the archive holds that is neither a run folder nor one of its own files, sorted."""
    check_archive_dir(runs_dir)
    if not runs_dir.is_dir():
        return []
    out: list[Path] = []
    for entry in sorted(runs_dir.iterdir()):
        if entry.is_dir() and _DAY_DIR.match(entry.name):
            out.extend(p for p in sorted(entry.iterdir()) if not (p.is_dir() and _RUN_DIR.match(p.name)))
        elif entry.is_dir() and entry.name == ARCHIVE_ASSETS_DIR:
            continue  # its files are checked through the manifests that list them
        elif entry.name not in ARCHIVE_FILES and not entry.name.startswith(ARCHIVE_PROBE):
            out.append(entry)
    return out


class FolderClaim:
    """This process is writing a run folder: an advisory lock on the folder, released by the kernel
    when the process dies, so ``catalyst runs seal`` can tell a crashed run from a running one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = os.open(path, os.O_RDONLY)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def folder_in_use(path: Path) -> bool:
    """True while a live process holds the folder's :class:`FolderClaim`."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def day_of(run_dir: Path) -> date:
    return date.fromisoformat(run_dir.parent.name)
