"""Before a run folder exists: the archive folder and the ledger must be usable.

A run that cannot record itself must be refused before it starts (no folder, no gateway, nothing
sent), not discovered half-way, where it would leave an unsealed folder in the archive.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from catalyst.runs.folder import ARCHIVE_PROBE, check_archive_dir
from catalyst.runs.errors import RunsError

#: What to do about a ledger DuckDB cannot open, by what DuckDB said (the first match wins).
_LEDGER_HINTS: tuple[tuple[str, str], ...] = (
    (
        "permission denied",
        "this user may not read or write it: check the owner and mode of the file and of its folder "
        "(`ls -l`), or run catalyst as the user that owns the ledger",
    ),
    (
        "is a directory",
        "a folder is where the ledger file should be: move the folder aside, or set paths.ledger in "
        "catalyst.toml to the ledger file",
    ),
    (
        "read-only file system",
        "the file system is read-only: set paths.state_dir in catalyst.toml to a writable folder",
    ),
    ("no space left", "the disk is full: free some space and retry"),
)
LEDGER_HINT = (
    "the ledger file is damaged or is not a Catalyst ledger: stop every catalyst process, move it "
    "aside (keep it for inspection) and restore your latest backup of it; with no backup, a new empty "
    "ledger is made on the next command, then run `catalyst reconcile` to rebuild positions from the broker"
)


def ledger_hint(error: str) -> str:
    """What a trader can do about a ledger that cannot be opened, given the error's text."""
    lowered = error.lower()
    return next((hint for key, hint in _LEDGER_HINTS if key in lowered), LEDGER_HINT)


def check_runs_dir(runs_dir: Path) -> None:
    """``runs_dir`` is (or can be made) a folder this process may write; refused with what to do."""
    check_archive_dir(runs_dir)
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        probe = runs_dir / f"{ARCHIVE_PROBE}{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise RunsError(
            f"cannot write the archive folder {runs_dir}: {exc.strerror or exc}; check its owner and "
            "mode (`ls -ld`), that no part of the path is a file, or set paths.runs_dir in catalyst.toml"
        ) from exc


def check_ledger(ledger: Any) -> None:
    """Open the ledger once (and migrate it): a damaged or unreachable file is refused here."""
    from catalyst.ledger.errors import LedgerError

    try:
        ledger.tables()
    except LedgerError as exc:
        raise RunsError(f"{exc}\n  what to do: {ledger_hint(str(exc))}") from exc
    except OSError as exc:
        where = exc.filename or ledger.path
        raise RunsError(
            f"cannot use the ledger {ledger.path} ({where}: {exc.strerror or exc}); check that "
            "paths.state_dir is a folder you may write and that no part of its path is a file"
        ) from exc


def preflight(runs_dir: Path, ledger: Any) -> None:
    check_runs_dir(runs_dir)
    check_ledger(ledger)
