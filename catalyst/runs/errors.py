"""Errors of the runs package: what a trader can do about each is in its message."""

from __future__ import annotations

from catalyst.errors import CatalystError


class RunsError(CatalystError):
    """Base class of every error of :mod:`catalyst.runs`."""


class RunNotFoundError(RunsError, LookupError):
    """A run named on the command line is not in the archive."""


class ArchiveLockError(RunsError, RuntimeError):
    """The archive's chain lock could not be taken in time (another run is sealing)."""


class BadRunParameterError(RunsError, ValueError):
    """A ``-p NAME VALUE`` parameter is malformed, unknown, or would carry a secret."""


class NotebookRunFailedError(RunsError, RuntimeError):
    """The notebook raised; the run folder is archived with the failing cell named."""

    def __init__(self, message: str, *, run_dir: str, cell: int | None, ename: str, evalue: str) -> None:
        super().__init__(message)
        self.run_dir = run_dir
        self.cell = cell
        self.ename = ename
        self.evalue = evalue


class GoLiveRefusedError(RunsError, PermissionError):
    """``--mode live`` was asked for but the go-live gate is not passed; ``missing`` says why."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__("live trading refused by the go-live gate:\n  - " + "\n  - ".join(missing))
        self.missing = missing


class GatewayUnreachableError(RunsError, ConnectionError):
    """No gateway listens at the configured address (paper and live never start one)."""


class SchedulerAlreadyRunningError(RunsError, RuntimeError):
    """Another ``catalyst schedule`` holds the lock for this account."""
