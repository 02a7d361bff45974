"""Errors of the reconciliation package, each saying what a trader can do about it."""

from __future__ import annotations

from catalyst.errors import CatalystError


class ReconcileError(CatalystError):
    """Base class of everything reconciliation refuses on purpose."""


class ReconcileInputError(ReconcileError, ValueError):
    """A frame handed to the diff lacks a column or holds a value it cannot interpret."""


class ReconciliationFailedError(ReconcileError, RuntimeError):
    """A reconciliation could not complete (broker unreachable, a query failed)."""


class TradingBlockedError(ReconcileError, RuntimeError):
    """No orders may be sent: the startup reconciliation did not complete. The message says why."""
