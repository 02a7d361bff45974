"""Errors the ledger raises on purpose."""

from __future__ import annotations

from catalyst.errors import CatalystError


class LedgerError(CatalystError, ValueError):
    """A write or query the ledger refuses: unknown table or column, a value that does not fit."""


class LedgerBusyError(CatalystError, RuntimeError):
    """Another process held the ledger longer than we were willing to wait."""


class LedgerMigrationError(CatalystError, RuntimeError):
    """A schema migration failed or the migration files are inconsistent."""


class LeaseNameError(CatalystError, ValueError):
    """A lease was asked for without an account or symbol (never act under an empty account)."""


class LeaseHeldError(CatalystError, RuntimeError):
    """Another process holds the lease; the message names it. Nothing was sent."""

    def __init__(self, message: str, *, holder: object = None) -> None:
        super().__init__(message)
        self.holder = holder
