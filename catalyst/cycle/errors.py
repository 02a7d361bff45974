"""Errors of the trading cycle."""

from __future__ import annotations

from catalyst.errors import CatalystError


class CycleError(CatalystError):
    """Base class of :mod:`catalyst.cycle` errors."""


class CycleParameterError(CycleError, ValueError):
    """A cycle parameter (universe, limit override, lookback) is unusable; the message names it."""
