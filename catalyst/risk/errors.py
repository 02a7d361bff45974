"""Errors raised by the risk layers, each with a message a trader can act on."""

from __future__ import annotations

from catalyst.errors import CatalystError


class RiskError(CatalystError):
    """Base class of everything the risk package refuses on purpose."""


class RiskInputError(RiskError, ValueError):
    """A value handed to a risk check is malformed (negative equity, a missing price...)."""


class TradingHaltedError(RiskError, RuntimeError):
    """New entries are refused because the daily circuit breaker has tripped."""


class AlertConfigError(RiskError, ValueError):
    """An alert channel URL or alert setting cannot be used."""


class MonitorAlreadyRunningError(RiskError, RuntimeError):
    """A second `catalyst monitor` for the same account was refused."""


class RiskCommandError(RiskError, ValueError):
    """A `catalyst risk` command was given something it cannot act on (no reason, unknown symbol)."""


class AccountUnknownError(RiskError, ValueError):
    """Risk state was to be read or written without an account: the halt and the locks of one
    account must never be kept, or looked for, under an empty name."""


class AccountAmbiguousError(RiskError, ValueError):
    """A command that does not connect to the broker cannot tell which account it is for."""
