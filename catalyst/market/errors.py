"""Errors raised by the HKEX market rules (spread table, board lots, calendar, fees).

Each message says what was wrong and what the caller can do about it: these errors stop an order
before it leaves the process, so a trader reads them in a log or a notebook.
"""

from __future__ import annotations

from catalyst.errors import CatalystError


class MarketError(CatalystError):
    """Base of every error raised by :mod:`catalyst.market`."""


class PriceOutOfRangeError(MarketError, ValueError):
    """A price at or below zero, above the top of the spread table, or not a finite number."""


class OffTickError(MarketError, ValueError):
    """A price that is not on the spread table's ladder (HKEX rejects it)."""


class BoardLotError(MarketError, ValueError):
    """A quantity that is not a positive whole multiple of the security's board lot."""


class UnknownSymbolError(MarketError, KeyError):
    """A stock code that is malformed or not in Catalyst's universe."""

    def __str__(self) -> str:  # KeyError would otherwise print the repr of the message
        return str(self.args[0]) if self.args else ""


class UnknownSpreadTableError(MarketError, ValueError):
    """A spread-table name other than the ones Catalyst knows ("A" and "D")."""


class UnknownRoleError(MarketError, ValueError):
    """An order role or side that is not in the explicit snapping table."""


class CalendarRangeError(MarketError, ValueError):
    """A date outside the years the trading calendar covers."""


class NaiveDatetimeError(MarketError, ValueError):
    """A datetime without a time zone: Catalyst cannot tell which instant it means."""


class UniverseImportError(MarketError, ValueError):
    """A List of Securities file that cannot be imported; the message names the row and column.

    Raised before anything is written: the active universe stays as it was.
    """


class UniverseFileError(MarketError, ValueError):
    """The trader's universe file (written by ``catalyst universe import``) is unreadable."""


class OrderRuleError(MarketError, ValueError):
    """An order HKEX would not accept (``catalyst.market.order_rules``); nothing was sent."""


class QuotationRuleError(OrderRuleError):
    """A limit 24 spreads or more beyond the best price on its side, in continuous trading."""


class PriceLimitError(OrderRuleError):
    """A price at 9 times the nominal price or more, or at one-ninth of it or less."""


class OrderSizeError(OrderRuleError):
    """An order of more than HKEX's maximum of 3,000 board lots."""


class AuctionPriceError(OrderRuleError):
    """An at-auction limit outside the auction's price band, or an auction book that cannot match."""
