"""The tradable universe: 20 HKEX securities with their board lots and per-security rules.

This module is the single place Catalyst reads board lots from. Lots change (BYD went from 500 to
100 shares in 2025), so the broker layer cross-checks them against IB's contract details at runtime
and alerts on a mismatch; the fix is then an edit of ``universe.json`` (and ``as_of``).

Symbols are IB style: the HKEX stock code without leading zeros ("700", "5"), which is what
``Stock('700', 'SEHK', 'HKD')`` expects. :func:`normalize_symbol` accepts the zero-padded forms
people copy from HKEX pages ("0700", "00700") and returns the IB form; anything that is not a
positive number of at most five digits raises :class:`UnknownSymbolError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from catalyst.market.market_errors import BoardLotError, PriceOutOfRangeError, UnknownSymbolError
from catalyst.market.spread_table import TABLES, as_price


@dataclass(frozen=True)
class Security:
    """One security of the universe, as of :data:`UNIVERSE_AS_OF`."""

    symbol: str
    name: str
    board_lot: int
    spread_table: str
    stamp_duty: bool
    shortsell_eligible: bool
    rmb_counter: str | None
    ref_price: Decimal
    """Indicative late-2025 price level for displays and examples; never market data."""

    @property
    def is_etf(self) -> bool:
        """ETFs/ETPs trade on spread table D and pay no stamp duty."""
        return self.spread_table == "D"


def _parse_security(raw: dict[str, Any]) -> Security:
    sec = Security(
        symbol=str(raw["symbol"]),
        name=str(raw["name"]),
        board_lot=int(raw["board_lot"]),
        spread_table=str(raw["spread_table"]),
        stamp_duty=bool(raw["stamp_duty"]),
        shortsell_eligible=bool(raw["shortsell_eligible"]),
        rmb_counter=None if raw.get("rmb_counter") is None else str(raw["rmb_counter"]),
        ref_price=Decimal(str(raw["ref_price"])),
    )
    if sec.board_lot <= 0 or sec.spread_table not in TABLES or sec.symbol != normalize_symbol(sec.symbol):
        raise ValueError(f"universe.json entry is inconsistent: {raw!r}")
    return sec


@cache
def _load() -> tuple[date, MappingProxyType[str, Security]]:
    text = resources.files("catalyst.market").joinpath("universe.json").read_text(encoding="utf-8")
    doc = json.loads(text)
    secs = {s.symbol: s for s in (_parse_security(r) for r in doc["securities"])}
    return date.fromisoformat(doc["as_of"]), MappingProxyType(secs)


def normalize_symbol(symbol: str | int) -> str:
    """IB-style code of ``symbol``: leading zeros and spaces stripped ("00700" -> "700").

    Raises UnknownSymbolError for anything that is not a positive stock code of 1-5 digits
    (e.g. "700.HK", "TENCENT", "", "0", None). Membership in the universe is not checked here.
    """
    if isinstance(symbol, bool) or not isinstance(symbol, (str, int)):
        raise UnknownSymbolError(f"stock code must be text such as '700', got {type(symbol).__name__}")
    text = str(symbol).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 5 or int(text) == 0:
        raise UnknownSymbolError(
            f"{symbol!r} is not an HKEX stock code; use the number without suffix, e.g. '700' or '0700'"
        )
    return str(int(text))


#: The date the board lots and flags were taken from HKEX's List of Securities.
UNIVERSE_AS_OF: date = _load()[0]


def universe() -> MappingProxyType[str, Security]:
    """Every security Catalyst trades, keyed by IB-style symbol (read-only mapping)."""
    return _load()[1]


def security(symbol: str | int) -> Security:
    """The universe entry for ``symbol`` (any zero padding accepted)."""
    code = normalize_symbol(symbol)
    try:
        return universe()[code]
    except KeyError:
        raise UnknownSymbolError(
            f"stock {code} is not in Catalyst's universe ({', '.join(universe())}); "
            "add it to catalyst/market/universe.json with its board lot first"
        ) from None


def board_lot(symbol: str | int) -> int:
    """Shares per board lot of ``symbol`` as of :data:`UNIVERSE_AS_OF`."""
    return security(symbol).board_lot


def whole_lots(shares: int, symbol: str | int) -> int:
    """Number of board lots in ``shares``; raises BoardLotError unless a positive whole multiple."""
    if isinstance(shares, bool) or not isinstance(shares, int):
        raise BoardLotError(
            f"quantity must be a whole number of shares, got {type(shares).__name__} {shares!r}"
        )
    lot = board_lot(symbol)
    if shares <= 0:
        raise BoardLotError(f"quantity {shares} of {normalize_symbol(symbol)} must be positive")
    lots, odd = divmod(shares, lot)
    if odd:
        raise BoardLotError(
            f"quantity {shares} of {normalize_symbol(symbol)} is not a whole number of board lots of "
            f"{lot}; use {lots * lot} or {(lots + 1) * lot} (odd lots go to a separate, illiquid book)"
        )
    return lots


def shares_for_budget(budget: Decimal, price: Decimal, symbol: str | int) -> int:
    """The most shares, in whole board lots, that ``budget`` buys at ``price``; may be 0."""
    b = as_price(budget)
    p = as_price(price)
    if b < 0:
        raise ValueError(f"budget {b} must not be negative")
    if p <= 0:
        raise PriceOutOfRangeError(f"price {p} must be above zero to size a position")
    lot = board_lot(symbol)
    lots = int(b // (p * lot))
    return lots * lot
