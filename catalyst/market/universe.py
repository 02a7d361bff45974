"""The tradable universe: the active list of HKEX securities with board lots and per-security rules.

This module is the single place Catalyst reads board lots, spread tables, stamp duty, short-sell
and CAS/VCM/POS eligibility from. The *active* universe is either

* the trader's own file, written by ``catalyst universe import FILE`` from HKEX's List of
  Securities (``market.universe_file``, ``state/universe.json`` by default), when it exists, or
* the 20 securities shipped in ``catalyst/market/universe.json`` (the embedded default, so a demo
  needs no download).

The settings choose it through :func:`use_universe` (``Settings.apply_market_rules``, run by every
CLI command, the simulator and every notebook kernel); the file is read once, at the first lookup,
and stays for the life of the process. Lots change (BYD went from 500 to 100 shares in 2025), so
the broker layer cross-checks them against IB's contract details at runtime and refuses a symbol
whose lot or ladder disagrees.

Symbols are IB style: the HKEX stock code without leading zeros ("700", "5"), which is what
``Stock('700', 'SEHK', 'HKD')`` expects. :func:`normalize_symbol` accepts the zero-padded forms
people copy from HKEX pages ("0700", "00700") and returns the IB form; anything that is not a
positive number of at most five digits raises :class:`UnknownSymbolError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

from catalyst.market.errors import BoardLotError, PriceOutOfRangeError, UnknownSymbolError
from catalyst.market.security_record import (
    DEFAULT_TRADABLE_KINDS,
    Security,
    exclusion_reason,
    normalize_symbol,
)
from catalyst.market.spread_table import as_price
from catalyst.market.universe_store import UniverseDocument, read_universe_file, shipped_document

__all__ = [
    "UNIVERSE_AS_OF",
    "ActiveUniverse",
    "Security",
    "active_universe",
    "board_lot",
    "normalize_symbol",
    "security",
    "shares_for_budget",
    "universe",
    "universe_as_of",
    "use_universe",
    "whole_lots",
]

#: Default for ``market.universe_max_age_days``: an older list is a warning in every cycle report.
DEFAULT_MAX_AGE_DAYS = 7
#: Above this many securities an error lists no codes (it would be thousands).
_LIST_CODES_UP_TO = 30


@dataclass(frozen=True)
class ActiveUniverse:
    """The universe in force: where it came from, its date, every security and the tradable ones."""

    as_of: date
    source: str
    path: Path | None  # None: the shipped default
    every: MappingProxyType[str, Security]
    tradable: MappingProxyType[str, Security]
    let_in: frozenset[str]
    max_age_days: int

    @property
    def is_default(self) -> bool:
        return self.path is None

    def describe(self) -> str:
        """One line for a trader: the universe's date and size, then where it comes from (a table
        cell cut short keeps the date)."""
        where = "shipped default (catalyst/market/universe.json)" if self.path is None else str(self.path)
        left_out = len(self.every) - len(self.tradable)
        extra = f", {left_out:,} more listed but kept out" if left_out else ""
        return f"HKEX list as at {self.as_of}, {len(self.tradable):,} tradable{extra}: {where}"

    def age_days(self, on: date) -> int:
        return (on - self.as_of).days

    def age_warning(self, on: date) -> str | None:
        """A warning when the list is older than ``max_age_days`` on ``on`` (None: fresh enough)."""
        age = self.age_days(on)
        if age <= self.max_age_days:
            return None
        return (
            f"universe is {age} days old (HKEX list as at {self.as_of}, limit {self.max_age_days} days: "
            "market.universe_max_age_days); board lots and flags may have changed: download HKEX's "
            "List of Securities and run `catalyst universe import FILE`"
        )


def build_active(
    doc: UniverseDocument, path: Path | None, *, let_in: frozenset[str], max_age_days: int
) -> ActiveUniverse:
    every = {s.symbol: s for s in doc.securities}
    tradable = {k: s for k, s in every.items() if exclusion_reason(s, let_in) is None}
    return ActiveUniverse(
        as_of=doc.as_of,
        source=doc.source,
        path=path,
        every=MappingProxyType(every),
        tradable=MappingProxyType(tradable),
        let_in=let_in,
        max_age_days=max_age_days,
    )


_SHIPPED: UniverseDocument = shipped_document()

#: The date the shipped default's board lots and flags were taken from HKEX's List of Securities.
UNIVERSE_AS_OF: date = _SHIPPED.as_of

_chosen_path: Path | None = None
_let_in: frozenset[str] = frozenset()
_max_age_days: int = DEFAULT_MAX_AGE_DAYS
_active: ActiveUniverse | None = None


def use_universe(
    path: Path | None, *, include: Iterable[str] = (), max_age_days: int = DEFAULT_MAX_AGE_DAYS
) -> None:
    """Make the universe file at ``path`` the active one (when it exists; else the shipped default).

    ``include`` lets extra kinds into the tradable set (``market.universe_include``); the file is
    read at the next lookup. ``use_universe(None)`` restores the shipped default.
    """
    global _chosen_path, _let_in, _max_age_days, _active
    _chosen_path = path
    _let_in = frozenset(include) - DEFAULT_TRADABLE_KINDS
    _max_age_days = max_age_days
    _active = None


@dataclass(frozen=True)
class UniverseChoice:
    """What :func:`use_universe` was last told (so a caller can put it back)."""

    path: Path | None
    include: frozenset[str]
    max_age_days: int

    def restore(self) -> None:
        use_universe(self.path, include=self.include, max_age_days=self.max_age_days)


def universe_choice() -> UniverseChoice:
    return UniverseChoice(_chosen_path, _let_in, _max_age_days)


def active_universe() -> ActiveUniverse:
    """The universe in force (read on first use after :func:`use_universe`)."""
    global _active
    if _active is None:
        path = _chosen_path if _chosen_path is not None and _chosen_path.exists() else None
        doc = read_universe_file(path) if path is not None else _SHIPPED
        _active = build_active(doc, path, let_in=_let_in, max_age_days=_max_age_days)
    return _active


def universe_as_of() -> date:
    """The date of HKEX's list the active universe's lots and flags come from."""
    return active_universe().as_of


def universe() -> MappingProxyType[str, Security]:
    """Every security Catalyst trades, keyed by IB-style symbol (read-only mapping)."""
    return active_universe().tradable


def security(symbol: str | int) -> Security:
    """The universe entry for ``symbol`` (any zero padding accepted)."""
    code = normalize_symbol(symbol)
    active = active_universe()
    found = active.tradable.get(code)
    if found is not None:
        return found
    listed = active.every.get(code)
    if listed is not None:
        raise UnknownSymbolError(
            f"stock {code} ({listed.name}) is in the universe as at {active.as_of} but is not tradable: "
            f"{exclusion_reason(listed, active.let_in)}"
        )
    if len(active.tradable) <= _LIST_CODES_UP_TO:
        where = f"Catalyst's universe ({', '.join(active.tradable)})"
    else:
        where = f"the active universe ({len(active.tradable):,} securities, HKEX list as at {active.as_of})"
    raise UnknownSymbolError(
        f"stock {code} is not in {where}; import HKEX's current List of Securities with "
        "`catalyst universe import FILE` if it is newly listed"
    )


def board_lot(symbol: str | int) -> int:
    """Shares per board lot of ``symbol`` in the active universe."""
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
