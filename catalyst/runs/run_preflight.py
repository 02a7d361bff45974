"""Before a run folder exists: the archive folder and the ledger must be usable.

A run that cannot record itself must be refused before it starts (no folder, no gateway, nothing
sent), not discovered half-way, where it would leave an unsealed folder in the archive.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from catalyst.runs.runs_errors import RunsError

_PROBE = ".catalyst-write-probe"


def check_runs_dir(runs_dir: Path) -> None:
    """``runs_dir`` is (or can be made) a folder this process may write; refused with what to do."""
    if runs_dir.exists() and not runs_dir.is_dir():
        raise RunsError(
            f"the archive folder {runs_dir} is a file, not a folder: move the file aside "
            "(or set paths.runs_dir in catalyst.toml) and retry"
        )
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        probe = runs_dir / f"{_PROBE}-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise RunsError(
            f"cannot write the archive folder {runs_dir}: {exc.strerror or exc}; check its owner and "
            "mode (`ls -ld`), that no part of the path is a file, or set paths.runs_dir in catalyst.toml"
        ) from exc


def check_ledger(ledger: Any) -> None:
    """Open the ledger once (and migrate it): a damaged or unreachable file is refused here."""
    ledger.tables()


def preflight(runs_dir: Path, ledger: Any) -> None:
    check_runs_dir(runs_dir)
    check_ledger(ledger)
