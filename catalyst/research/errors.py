"""Errors raised by strategy research: bar data, strategies, backtests and sweeps.

Each message says what was wrong with the input and what the trader can do about it.
"""

from __future__ import annotations

from catalyst.errors import CatalystError


class ResearchError(CatalystError):
    """Base of every error raised by :mod:`catalyst.research`."""


class BarDataError(ResearchError, ValueError):
    """A bars table that does not follow the documented schema (columns, dtypes, time zone, order)."""


class BarImportError(ResearchError, ValueError):
    """A user's CSV/Parquet file that cannot be turned into bars (unreadable, wrong columns, bad values)."""


class BarCacheMissError(ResearchError, LookupError):
    """The bar cache under ``state/bars/`` holds nothing for the requested symbol and range."""


class UnknownStrategyError(ResearchError, KeyError):
    """A strategy name that is not registered; the message lists the registered names."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class StrategyParamError(ResearchError, ValueError):
    """A strategy parameter that is unknown or outside its documented range."""


class BacktestConfigError(ResearchError, ValueError):
    """A backtest setting that cannot be used (non-positive capital, an unknown commission plan...)."""


class StrategyLoadError(ResearchError, ImportError):
    """A strategy file, module or entry point that cannot be loaded, or two strategies of one name."""


class StrategyOutputError(ResearchError, ValueError):
    """A strategy that raised, returned something off the contract, or took too long; nothing is sent."""
