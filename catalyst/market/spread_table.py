"""HKEX spread tables (tick sizes), dated, in exact Decimal arithmetic.

Source: ``hkex-rules.md`` §1 (Second Schedule of the SEHK Rules). Each band is "over low, up to and
including high": an upper bound belongs to the band below it (10.00 is in the 0.50-10.00 band).
Every band edge is a multiple of both neighbouring increments, so "on tick" simply means "a whole
multiple of the increment of the band the price falls in".

Tables and dates
================

* **Part A** (equities, REITs, ...): the ladder in force before 2025-08-04; **Phase 1** from
  2025-08-04 (10-20: 0.02 -> 0.01, 20-50: 0.05 -> 0.02); **Phase 2** (0.50-10.00: 0.01 -> 0.005)
  from :func:`phase2_date`, 2026-08-03 by default. That date is uncertain, so settings can move it
  with :func:`set_phase2_date`, and the broker layer cross-checks IB's market rule at runtime.
* **Part D** (ETFs and other ETPs such as 2800): one undated ladder; the phases do not apply to ETPs.

Prices must be :class:`decimal.Decimal` (an ``int`` is accepted, being exact). A ``float`` raises
``TypeError``: ``9.05`` as a float is 9.050000000000000710..., and the predecessor sent such
values to the exchange. Convert explicitly with ``Decimal(str(x))`` at the edge where floats arrive.
Prices at or below zero, above the table's top, NaN or infinite raise
:class:`~catalyst.market.errors.PriceOutOfRangeError`.

Which way each order role rounds
================================

Rounding must never make a trade riskier than intended: never pay more or sell for less on entry,
never move a stop farther from the entry, never push a target farther away than intended.

============  =========================  ============================
role          long (entry side BUY)      short (entry side SELL)
============  =========================  ============================
entry         ``down`` (never pay more)  ``up`` (never sell for less)
stop          ``up`` (toward the entry)  ``down`` (toward the entry)
target        ``down`` (toward entry)    ``up`` (toward the entry)
============  =========================  ============================

Every role rounds toward the inside of the bracket, so risk per share never grows through
rounding (it can shrink; a bracket too tight to survive snapping is refused by ``BracketIntent``).
Use :func:`snap_for_role` rather than choosing a direction by hand.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from catalyst.market.errors import (
    OffTickError,
    PriceOutOfRangeError,
    UnknownRoleError,
    UnknownSpreadTableError,
)
from catalyst.market.hk_timezone import as_hk_date

Direction = Literal["up", "down", "nearest"]
Role = Literal["entry", "stop", "target"]

D = Decimal

#: Phase 1 of the minimum-spread reduction went live on this date [V].
PHASE1_DATE = date(2025, 8, 4)
#: Reported launch of Phase 2 [U]; override with :func:`set_phase2_date` (settings: market.phase2_date).
DEFAULT_PHASE2_DATE = date(2026, 8, 3)

_phase2_date: date = DEFAULT_PHASE2_DATE

#: Bands as (upper bound inclusive, increment), lowest first. The lowest band starts just above 0.
Ladder = tuple[tuple[Decimal, Decimal], ...]

_PART_A_PRE_2025: Ladder = (
    (D("0.25"), D("0.001")),
    (D("0.5"), D("0.005")),
    (D("10"), D("0.01")),
    (D("20"), D("0.02")),
    (D("100"), D("0.05")),
    (D("200"), D("0.1")),
    (D("500"), D("0.2")),
    (D("1000"), D("0.5")),
    (D("2000"), D("1")),
    (D("5000"), D("2")),
    (D("9995"), D("5")),
)


def _cut(ladder: Ladder, cuts: dict[Decimal, Decimal]) -> Ladder:
    """``ladder`` with the bands ending at each bound of ``cuts`` trading in its new increment; a
    bound the ladder lacks splits the band it falls in (the part above keeps its increment)."""
    return tuple(sorted({**dict(ladder), **cuts}.items()))


# The reduction as HKEX announced it, each phase cutting the ladder before it (hkex-rules.md §1).
#: Phase 1: 10-20 from 0.02 to 0.01; 20-50 (part of the 20-100 band) from 0.05 to 0.02.
_PART_A_PHASE1 = _cut(_PART_A_PRE_2025, {D("20"): D("0.01"), D("50"): D("0.02")})
#: Phase 2: 0.50-10.00 from 0.01 to 0.005.
_PART_A_PHASE2 = _cut(_PART_A_PHASE1, {D("10"): D("0.005")})

# Part D: top band (2,000-9,999 -> 1.000) is [U] in hkex-rules.md.
_PART_D: Ladder = (
    (D("1"), D("0.001")),
    (D("5"), D("0.002")),
    (D("10"), D("0.005")),
    (D("20"), D("0.01")),
    (D("100"), D("0.02")),
    (D("200"), D("0.05")),
    (D("500"), D("0.1")),
    (D("1000"), D("0.2")),
    (D("2000"), D("0.5")),
    (D("9999"), D("1")),
)

TABLES: tuple[str, ...] = ("A", "D")

# Exact integer division of prices with up to ~40 significant digits.
_CTX = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_UP)


@dataclass(frozen=True)
class Band:
    """One band of a ladder: prices in ``(low, high]`` trade in multiples of ``increment``."""

    low: Decimal
    high: Decimal
    increment: Decimal


def _tidy(x: Decimal) -> Decimal:
    """``x`` without trailing zeros but never in exponent form (9.050 -> 9.05, 600.0 -> 600)."""
    n = x.normalize(_CTX)
    return n if n.as_tuple().exponent <= 0 else n.quantize(Decimal(1))  # type: ignore[operator]


def set_phase2_date(d: date | None) -> None:
    """Set the Phase 2 launch date (from settings ``market.phase2_date``); None restores the default."""
    global _phase2_date
    if d is None:
        _phase2_date = DEFAULT_PHASE2_DATE
        return
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"phase 2 date must be a date, got {type(d).__name__} {d!r}")
    if d <= PHASE1_DATE:
        raise ValueError(f"phase 2 date {d} must be after the Phase 1 launch {PHASE1_DATE}")
    _phase2_date = d


def phase2_date() -> date:
    """The Phase 2 launch date currently in force."""
    return _phase2_date


def _bands_for(on: date | datetime | None, table: str) -> Ladder:
    if table == "D":
        return _PART_D
    if table != "A":
        raise UnknownSpreadTableError(
            f"spread table {table!r} is not supported; use 'A' (equities) or 'D' (ETFs such as 2800)"
        )
    day = as_hk_date(on)
    if day < PHASE1_DATE:
        return _PART_A_PRE_2025
    if day < _phase2_date:
        return _PART_A_PHASE1
    return _PART_A_PHASE2


def bands(*, on: date | datetime | None = None, table: str = "A") -> list[Band]:
    """The bands of ``table`` in force on ``on`` (default: today in Hong Kong), lowest first."""
    out: list[Band] = []
    low = D(0)
    for high, inc in _bands_for(on, table):
        out.append(Band(low, high, inc))
        low = high
    return out


def ladder(*, on: date | datetime | None = None, table: str = "A") -> list[tuple[Decimal, Decimal]]:
    """The table as IB market-rule pairs ``(low_edge, increment)``, as ``reqMarketRule`` returns them.

    Canonical form for comparing with IB's rule: the first edge is 0, and neighbouring bands with
    the same increment are merged (Phase 1's 0.50-10 and 10-20 bands are both 0.01: one pair).
    """
    out: list[tuple[Decimal, Decimal]] = []
    for b in bands(on=on, table=table):
        if not out or out[-1][1] != b.increment:
            out.append((b.low, b.increment))
    return out


def top_price(*, on: date | datetime | None = None, table: str = "A") -> Decimal:
    """The highest price the table quotes (9,995 for Part A, 9,999 for Part D)."""
    return _bands_for(on, table)[-1][0]


def as_price(price: object) -> Decimal:
    """Check that ``price`` is an exact number and return it as a Decimal; floats raise TypeError."""
    if isinstance(price, Decimal):
        value = price
    elif isinstance(price, int) and not isinstance(price, bool):
        value = Decimal(price)
    elif isinstance(price, float):
        raise TypeError(
            f"price {price!r} is a float; HKEX prices must be exact. Pass Decimal(str(x)) or a "
            "Decimal built from text (floats such as 9.050000190734863 are what got orders rejected)"
        )
    else:
        raise TypeError(f"price must be a Decimal (or int), got {type(price).__name__} {price!r}")
    if not value.is_finite():
        raise PriceOutOfRangeError(f"price {value} is not a finite number")
    return value


def _band_of(
    p: Decimal, table_bands: Sequence[tuple[Decimal, Decimal]], table: str
) -> tuple[Decimal, Decimal]:
    """(low, increment) of the band holding ``p``; out-of-range prices raise."""
    if p <= 0:
        raise PriceOutOfRangeError(f"price {p} must be above zero")
    low = D(0)
    for high, inc in table_bands:
        if p <= high:
            return low, inc
        low = high
    raise PriceOutOfRangeError(
        f"price {p} is above the top of spread table {table} ({table_bands[-1][0]}); HKEX quotes no higher"
    )


def tick_size(price: Decimal | int, *, on: date | datetime | None = None, table: str = "A") -> Decimal:
    """The increment at ``price`` (a band's upper bound takes the band below's increment)."""
    p = as_price(price)
    return _band_of(p, _bands_for(on, table), table)[1]


def snap_to_tick(
    price: Decimal | int,
    direction: Direction,
    *,
    on: date | datetime | None = None,
    table: str = "A",
) -> Decimal:
    """The nearest price on the ladder in ``direction``.

    ``"down"``: the highest valid price <= ``price``; ``"up"``: the lowest valid price >= ``price``;
    ``"nearest"``: whichever of the two is closer, ties going up (half a tick rounds up).
    An on-tick price is returned unchanged. A result that would be zero (snapping a price below the
    first tick down) raises PriceOutOfRangeError.
    """
    if direction not in ("up", "down", "nearest"):
        raise UnknownRoleError(f"snap direction must be 'up', 'down' or 'nearest', got {direction!r}")
    p = as_price(price)
    table_bands = _bands_for(on, table)
    _low, inc = _band_of(p, table_bands, table)
    quotient, remainder = _CTX.divmod(p, inc)
    down = _CTX.multiply(quotient, inc)
    if remainder == 0:
        return _tidy(down)
    up = _CTX.add(down, inc)
    if direction == "down":
        result = down
    elif direction == "up":
        result = up
    else:
        result = up if _CTX.multiply(remainder, 2) >= inc else down
    if result <= 0:
        raise PriceOutOfRangeError(
            f"price {p} snapped {direction} gives {result}; the lowest price on table {table} is {inc}"
        )
    return _tidy(result)


def is_on_tick(price: Decimal | int, *, on: date | datetime | None = None, table: str = "A") -> bool:
    """True when HKEX would accept ``price`` as a limit: in range and a multiple of its band's tick.

    Out-of-range prices (<= 0, above the top) are not on the ladder and give False; floats raise.
    """
    p = as_price(price)
    try:
        _low, inc = _band_of(p, _bands_for(on, table), table)
    except PriceOutOfRangeError:
        return False
    return _CTX.remainder(p, inc) == 0


def require_on_tick(price: Decimal | int, *, on: date | datetime | None = None, table: str = "A") -> Decimal:
    """Return ``price`` if it is on the ladder, else raise OffTickError naming the two nearest ticks."""
    p = as_price(price)
    if is_on_tick(p, on=on, table=table):
        return p
    tick = tick_size(p, on=on, table=table)
    raise OffTickError(
        f"price {p} is off tick for spread table {table} on {as_hk_date(on)} (tick {tick}); "
        f"nearest valid prices are {snap_to_tick(p, 'down', on=on, table=table)} and "
        f"{snap_to_tick(p, 'up', on=on, table=table)}"
    )


#: (entry side, role) -> snapping direction. See the module docstring for the reasoning.
ROLE_DIRECTIONS: dict[tuple[str, str], Direction] = {
    ("BUY", "entry"): "down",
    ("BUY", "stop"): "up",
    ("BUY", "target"): "down",
    ("SELL", "entry"): "up",
    ("SELL", "stop"): "down",
    ("SELL", "target"): "up",
}


def direction_for_role(role: str, side: str) -> Direction:
    """The safe snapping direction for a bracket leg; ``side`` is the entry side ("BUY" = long).

    ``side`` may be a :class:`catalyst.domain.Side` (a str enum) or the plain text "BUY"/"SELL".
    """
    key = (str(side), str(role))
    if key not in ROLE_DIRECTIONS:
        raise UnknownRoleError(
            f"no snapping rule for role {role!r} of a {side!r} entry; roles are entry/stop/target "
            "and sides BUY/SELL"
        )
    return ROLE_DIRECTIONS[key]


def snap_for_role(
    price: Decimal | int,
    role: Role,
    side: str,
    *,
    on: date | datetime | None = None,
    table: str = "A",
) -> Decimal:
    """Snap a bracket leg's price in the direction that never adds risk (see the module docstring)."""
    return snap_to_tick(price, direction_for_role(role, side), on=on, table=table)
