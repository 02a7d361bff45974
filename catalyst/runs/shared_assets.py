"""Files every HTML report of the archive needs (plotly.js, the notebook stylesheet), stored once.

An asset lives in ``runs/assets/`` under a content-addressed name, ``<stem>-<first 16 hex digits of
its SHA-256><suffix>`` (``plotly-7.1.0-3f1c0a9e2b4d5e6f.min.js``), and a report in
``runs/YYYY-MM-DD/<run>/`` references it as ``../../assets/<name>``: a relative path, so the report
opens from ``file://`` (or from a copy of the whole archive anywhere) with no network.

A name is written once and never rewritten: a new plotly version or stylesheet is a new file, and the
reports that used the old one keep it. Every manifest lists the assets its run's reports reference,
with their SHA-256, so ``catalyst runs verify`` covers every byte a report depends on; it also checks
that an asset's content still matches the hash in its name, which catches a change made before the
run was sealed.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from catalyst.runs.folder import ARCHIVE_ASSETS_DIR
from catalyst.runs.errors import RunsError

#: The archive's folder of shared assets (beside the day folders).
ASSETS_DIR = ARCHIVE_ASSETS_DIR
#: How a report in ``runs/YYYY-MM-DD/<run>/`` reaches the archive's assets folder.
FROM_RUN_FOLDER = "../../" + ASSETS_DIR + "/"
_HASH_DIGITS = 16
_NAME = re.compile(r"^(?P<stem>[A-Za-z0-9._-]+?)-(?P<digest>[0-9a-f]{16})(?P<suffix>(\.[a-z]+)+)$")
_REFERENCE = re.compile(r"""(?:src|href)=["']\.\./\.\./assets/([A-Za-z0-9._-]+)["']""")


class SharedAssetChangedError(RunsError):
    """An asset file of the archive no longer holds what its name says."""


@dataclass(frozen=True)
class SharedAsset:
    """One asset: its path relative to the archive (``assets/<name>``) and its SHA-256."""

    path: str
    sha256: str

    @property
    def href(self) -> str:
        """The reference a report in a run folder uses."""
        return "../../" + self.path


def asset_name(stem: str, suffix: str, content: bytes) -> tuple[str, str]:
    """The content-addressed file name of ``content`` and its SHA-256."""
    digest = hashlib.sha256(content).hexdigest()
    return f"{stem}-{digest[:_HASH_DIGITS]}{suffix}", digest


def name_digest(path: str) -> str | None:
    """The hash prefix an asset's name carries (None: not an asset name)."""
    match = _NAME.match(Path(path).name)
    return match["digest"] if match else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def publish_asset(runs_dir: Path, stem: str, suffix: str, content: bytes) -> SharedAsset:
    """Store ``content`` in the archive's assets folder once; return where it is.

    An asset already there is reused after checking it still holds exactly ``content``; one that does
    not is never overwritten (that would hide a change ``runs verify`` must report):
    :class:`SharedAssetChangedError` names it.
    """
    name, digest = asset_name(stem, suffix, content)
    folder = runs_dir / ASSETS_DIR
    target = folder / name
    asset = SharedAsset(path=f"{ASSETS_DIR}/{name}", sha256=digest)
    if target.exists():
        if _sha256(target) != digest:
            raise SharedAssetChangedError(
                f"{target} no longer holds what its name says (its SHA-256 changed): it was altered "
                "after it was written; `catalyst runs verify` names the runs whose reports use it. "
                "Restore it from your backup of runs/"
            )
        return asset
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.{os.getpid()}.tmp"
    tmp.write_bytes(content)
    os.replace(tmp, target)
    return asset


def referenced_assets(run_dir: Path) -> list[str]:
    """The assets (``assets/<name>``) the HTML files of a run folder reference, sorted."""
    found: set[str] = set()
    for html in run_dir.glob("*.html"):
        try:
            text = html.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        found.update(f"{ASSETS_DIR}/{name}" for name in _REFERENCE.findall(text))
    return sorted(found)


def hash_referenced_assets(runs_dir: Path, run_dir: Path) -> dict[str, str]:
    """``assets/<name>`` -> SHA-256 of every asset the run's reports reference (sealing a run).

    An asset that is missing is recorded with an empty hash, so ``runs verify`` names it.
    """
    out: dict[str, str] = {}
    for path in referenced_assets(run_dir):
        file = runs_dir / path
        out[path] = _sha256(file) if file.is_file() else ""
    return out


class AssetHashes:
    """Each asset's SHA-256, computed once however many manifests list it (``runs verify``)."""

    def __init__(self, runs_dir: Path) -> None:
        self.runs_dir = runs_dir
        self._known: dict[str, str | None] = {}

    def of(self, path: str) -> str | None:
        """The SHA-256 of ``assets/<name>`` as it is on disk (None: no such file)."""
        if path not in self._known:
            file = self.runs_dir / path
            inside = path.startswith(ASSETS_DIR + "/") and ".." not in Path(path).parts
            self._known[path] = _sha256(file) if inside and file.is_file() else None
        return self._known[path]
