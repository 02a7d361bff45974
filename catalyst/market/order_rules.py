"""HKEX's order rules in one place: the quotation rule, price limits, the lot maximum, and the
cancel and amend windows (``hkex-rules.md`` §1, §3, §5).

Pre-trade, the bracket plan and the simulator all call these functions, so what Catalyst plans,
what it checks and what the simulated exchange accepts cannot drift apart. Prices are Decimal on
the dated spread tables of :mod:`catalyst.market.spread_table`; times are tz-aware.

Quotation rule (24 spreads) [V3]
================================

In continuous trading a sell may not be priced 24 spreads or more above the best ask, nor a buy
24 spreads or more below the best bid; with no order on that side the count starts from the
nominal price. So the farthest accepted price is 23 spreads away, counted tick by tick along the
ladder (band edges respected). A sell at or below the best ask (or a buy at or above the best bid)
is never limited by this rule. Whether IB rejects, forwards or holds such an order is [U]; the
simulator's ``SimBehaviour.quotation_rule_breach`` chooses.

Price limits [V]
================

No order may be priced at 9 times the nominal price or more, nor at one-ninth of it or less.

Order size [V]
==============

At most :data:`MAX_LOTS_PER_ORDER` (3,000) board lots per order, in every session.

Cancel and amend windows (HK time) [V3]
=======================================

===================  ================  ==================  ======================================
window               full day          half day            what is refused
===================  ================  ==================  ======================================
POS no-cancel,       09:15-09:30       09:15-09:30         cancel and amend (no-cancellation
matching, blocking                                         period, random matching, blocking)
lunch, first half    12:00-12:30       (no lunch)          cancel and amend
lunch, second half   12:30-13:00       (no lunch)          amend only (cancels allowed)
CAS no-cancel and    16:06-16:10       12:06-12:10         cancel and amend
random close
===================  ================  ==================  ======================================

Each window includes its first second and excludes its end (09:15:00 refuses, 09:29:59 refuses,
09:30:00 allows). Outside these windows, including when HKEX is closed (IB then holds the order
itself), cancels and amendments are allowed. The CAS reference-price minute (16:00-16:01) is not
listed as a no-cancel window in the fact sheet, so it is allowed here [U].
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from catalyst.market.calendar import CONTINUOUS_PHASES, Phase, TradingDay, next_session_open, session_for
from catalyst.market.errors import (
    OrderSizeError,
    PriceLimitError,
    PriceOutOfRangeError,
    QuotationRuleError,
)
from catalyst.market.hk_timezone import to_hk
from catalyst.market.spread_table import Band, as_price, bands

#: A limit this many spreads or more beyond the best price on its side is rejected.
QUOTATION_SPREADS = 24
#: HKEX's maximum order size, in board lots, in every session.
MAX_LOTS_PER_ORDER = 3000
#: Orders may not be priced at this multiple of the nominal price or more (or at its inverse or less).
PRICE_LIMIT_MULTIPLE = 9

OrderAction = Literal["cancel", "amend"]
ORDER_ACTIONS: tuple[str, ...] = ("cancel", "amend")

POS_NO_CANCEL_FROM = timedelta(minutes=15)  # after the pre-open start (09:00 -> 09:15)
LUNCH_CANCELS_FROM = timedelta(minutes=30)  # after the break start (12:00 -> 12:30)
CAS_NO_CANCEL_FROM = timedelta(minutes=6)  # after the close (16:00 -> 16:06)


# --- ticks along the ladder -----------------------------------------------------------------------


def _step(p: Decimal, direction: str, table_bands: list[Band]) -> Decimal | None:
    """One tick from ``p`` up or down along ``table_bands``; None past either end of the table."""
    for b in table_bands:
        if direction == "up" and b.low <= p < b.high:
            return p + b.increment
        if direction == "down" and b.low < p <= b.high:
            return p - b.increment if p - b.increment > 0 else None
    return None


def tick_up(price: Decimal, *, on: date | datetime | None = None, table: str = "A") -> Decimal:
    """The next price above ``price`` on the ladder (a band's top steps by the next band's tick)."""
    p = as_price(price)
    nxt = _step(p, "up", bands(on=on, table=table))
    if nxt is None:
        raise PriceOutOfRangeError(f"price {p} is at or above the top of spread table {table}; no tick above")
    return nxt


def tick_down(price: Decimal, *, on: date | datetime | None = None, table: str = "A") -> Decimal:
    """The next price below ``price`` on the ladder; the lowest tick has none."""
    p = as_price(price)
    nxt = _step(p, "down", bands(on=on, table=table))
    if nxt is None:
        raise PriceOutOfRangeError(f"price {p} is the lowest tick of spread table {table} or outside it")
    return nxt


def ticks_from(
    price: Decimal,
    n: int,
    direction: Literal["up", "down"],
    *,
    on: date | datetime | None = None,
    table: str = "A",
) -> Decimal:
    """``price`` moved ``n`` ticks along the ladder, stopping at the table's top or lowest tick."""
    out = as_price(price)
    table_bands = bands(on=on, table=table)
    for _ in range(n):
        nxt = _step(out, direction, table_bands)
        if nxt is None:
            break
        out = nxt
    return out


# --- the quotation rule ---------------------------------------------------------------------------


def _side(side: object) -> str:
    s = str(side)
    if s not in ("BUY", "SELL"):
        raise ValueError(f"order side must be BUY or SELL, got {side!r}")
    return s


def quotation_reference(
    side: object, *, best_bid: Decimal | None, best_ask: Decimal | None, nominal: Decimal | None
) -> Decimal:
    """The price the 24 spreads count from: the best ask for a sell, the best bid for a buy, else
    the nominal price when that side of the book is empty."""
    ref = best_ask if _side(side) == "SELL" else best_bid
    if ref is None:
        ref = nominal
    if ref is None:
        raise ValueError("the quotation rule needs the best price on the order's side or the nominal price")
    return as_price(ref)


def quotation_limit(
    side: object,
    *,
    best_bid: Decimal | None,
    best_ask: Decimal | None,
    nominal: Decimal | None = None,
    on: date | datetime | None = None,
    table: str = "A",
) -> Decimal:
    """The farthest price HKEX accepts for a limit on ``side``: 23 spreads above the best ask for a
    sell, 23 below the best bid for a buy (clamped to the table's top and lowest tick)."""
    ref = quotation_reference(side, best_bid=best_bid, best_ask=best_ask, nominal=nominal)
    direction: Literal["up", "down"] = "up" if _side(side) == "SELL" else "down"
    return ticks_from(ref, QUOTATION_SPREADS - 1, direction, on=on, table=table)


def within_quotation_rule(
    side: object,
    price: Decimal,
    *,
    best_bid: Decimal | None,
    best_ask: Decimal | None,
    nominal: Decimal | None = None,
    on: date | datetime | None = None,
    table: str = "A",
) -> bool:
    """True when a limit at ``price`` on ``side`` is fewer than 24 spreads beyond the best price."""
    p = as_price(price)
    limit = quotation_limit(side, best_bid=best_bid, best_ask=best_ask, nominal=nominal, on=on, table=table)
    return p <= limit if _side(side) == "SELL" else p >= limit


def require_within_quotation_rule(
    side: object,
    price: Decimal,
    *,
    best_bid: Decimal | None,
    best_ask: Decimal | None,
    nominal: Decimal | None = None,
    on: date | datetime | None = None,
    table: str = "A",
) -> Decimal:
    """``price`` if the quotation rule allows it, else QuotationRuleError naming the limit."""
    kw = {"best_bid": best_bid, "best_ask": best_ask, "nominal": nominal, "on": on, "table": table}
    if within_quotation_rule(side, price, **kw):  # type: ignore[arg-type]
        return as_price(price)
    limit = quotation_limit(side, **kw)  # type: ignore[arg-type]
    ref = quotation_reference(side, best_bid=best_bid, best_ask=best_ask, nominal=nominal)
    where = "above the best ask" if _side(side) == "SELL" else "below the best bid"
    raise QuotationRuleError(
        f"a {_side(side)} limit at {price} is {QUOTATION_SPREADS} spreads or more {where} ({ref}); "
        f"HKEX rejects it in continuous trading. The farthest accepted price is {limit}"
    )


# --- the take-profit of a bracket -----------------------------------------------------------------

#: Spreads a bracket's target keeps from the quotation limit when it is planned from the entry:
#: the target is sent when the entry fills, when the best price on its side may be a few spreads
#: nearer than the entry (an entry priced through the touch, or a market that moved).
TARGET_MARGIN_SPREADS = 3


def farthest_target(
    entry_side: object, entry: Decimal, *, on: date | datetime | None = None, table: str = "A"
) -> Decimal:
    """The farthest take-profit the quotation rule lets through when it is sent at the entry's fill.

    Counted from the entry price: a long's target (a sell) at most 20 spreads above the entry, a
    short's (a buy) at most 20 below. While the best price on the target's side is no more than
    three spreads nearer than the entry, the target stays under 24 spreads from it.
    """
    spreads = QUOTATION_SPREADS - 1 - TARGET_MARGIN_SPREADS
    direction: Literal["up", "down"] = "up" if _side(entry_side) == "BUY" else "down"
    return ticks_from(as_price(entry), spreads, direction, on=on, table=table)


def target_inside_quotation_rule(
    entry_side: object,
    entry: Decimal,
    target: Decimal,
    *,
    on: date | datetime | None = None,
    table: str = "A",
) -> Decimal:
    """``target``, or :func:`farthest_target` when ``target`` lies beyond it."""
    t = as_price(target)
    limit = farthest_target(entry_side, entry, on=on, table=table)
    return min(t, limit) if _side(entry_side) == "BUY" else max(t, limit)


# --- price limits and size ------------------------------------------------------------------------


def within_price_limits(price: Decimal, nominal: Decimal) -> bool:
    """True when ``price`` is below 9x the nominal price and above one-ninth of it."""
    p, n = as_price(price), as_price(nominal)
    if n <= 0:
        raise PriceOutOfRangeError(f"nominal price {n} must be above zero")
    return p < n * PRICE_LIMIT_MULTIPLE and p * PRICE_LIMIT_MULTIPLE > n


def require_within_price_limits(price: Decimal, nominal: Decimal) -> Decimal:
    """``price`` if within the 9x / one-ninth limits of ``nominal``, else PriceLimitError."""
    if within_price_limits(price, nominal):
        return as_price(price)
    raise PriceLimitError(
        f"price {price} is at or beyond {PRICE_LIMIT_MULTIPLE}x or 1/{PRICE_LIMIT_MULTIPLE} of the nominal "
        f"price {nominal}; HKEX accepts only prices strictly between {nominal / PRICE_LIMIT_MULTIPLE:.4f} "
        f"and {nominal * PRICE_LIMIT_MULTIPLE}"
    )


def max_order_shares(board_lot: int) -> int:
    """The most shares one order may carry: 3,000 board lots."""
    if board_lot <= 0:
        raise ValueError(f"board lot must be positive, got {board_lot}")
    return MAX_LOTS_PER_ORDER * board_lot


def require_order_size(quantity: int, board_lot: int) -> int:
    """``quantity`` if within 3,000 board lots, else OrderSizeError naming the maximum."""
    cap = max_order_shares(board_lot)
    if quantity > cap:
        raise OrderSizeError(
            f"order of {quantity} shares exceeds HKEX's maximum of {MAX_LOTS_PER_ORDER} board lots "
            f"({cap} shares at a lot of {board_lot}); split it"
        )
    return quantity


# --- cancel and amend windows ---------------------------------------------------------------------


@dataclass(frozen=True)
class WindowVerdict:
    """Whether a cancel or amendment is allowed at a moment, and if not, when it next will be."""

    allowed: bool
    opens_at: datetime | None  # None when allowed now
    reason: str  # empty when allowed


def _closed_windows(td: TradingDay, action: str) -> list[tuple[datetime, datetime, str]]:
    out = [(td.pre_open + POS_NO_CANCEL_FROM, td.open, "pre-opening no-cancellation, matching and blocking")]
    if td.break_start is not None and td.break_end is not None:
        if action == "amend":
            out.append((td.break_start, td.break_end, "lunch break (no amendments)"))
        else:
            out.append((td.break_start, td.break_start + LUNCH_CANCELS_FROM, "lunch break before 12:30"))
    out.append(
        (td.close + CAS_NO_CANCEL_FROM, td.auction_end, "closing auction no-cancellation and random close")
    )
    return out


def order_action_window(action: OrderAction, ts: datetime) -> WindowVerdict:
    """Whether HKEX lets an order be cancelled (``"cancel"``) or amended (``"amend"``) at ``ts``."""
    if action not in ORDER_ACTIONS:
        raise ValueError(f"order action must be 'cancel' or 'amend', got {action!r}")
    t = to_hk(ts)
    td = session_for(t.date())
    if td is None:
        return WindowVerdict(True, None, "")
    for start, end, what in _closed_windows(td, action):
        if start <= t < end:
            return WindowVerdict(
                False,
                end,
                f"HKEX allows no {'cancellation' if action == 'cancel' else 'amendment'} during the {what} "
                f"({start:%H:%M}-{end:%H:%M} HK); it will be possible from {end:%H:%M:%S}",
            )
    return WindowVerdict(True, None, "")


def continuous_trading_from(ts: datetime) -> datetime:
    """When an order sent at ``ts`` can first trade: ``ts`` itself during continuous trading, else
    the next start of continuous trading (13:00 from the lunch break, 09:30 from the pre-opening
    session, the next trading day's 09:30 from the closing auction, a holiday or the night).

    An exit sent at lunch is accepted and held (``PreSubmitted`` with a 399) until then.
    """
    t = to_hk(ts)
    td = session_for(t.date())
    if td is not None:
        p = td.phase_at(t)
        if p in CONTINUOUS_PHASES:
            return t
        if p is Phase.LUNCH and td.break_end is not None:
            return td.break_end
    return next_session_open(t)


def may_cancel(ts: datetime) -> WindowVerdict:
    """:func:`order_action_window` for a cancel."""
    return order_action_window("cancel", ts)


def may_amend(ts: datetime) -> WindowVerdict:
    """:func:`order_action_window` for an amendment."""
    return order_action_window("amend", ts)


__all__ = [
    "MAX_LOTS_PER_ORDER",
    "ORDER_ACTIONS",
    "PRICE_LIMIT_MULTIPLE",
    "QUOTATION_SPREADS",
    "TARGET_MARGIN_SPREADS",
    "OrderAction",
    "WindowVerdict",
    "continuous_trading_from",
    "farthest_target",
    "max_order_shares",
    "may_amend",
    "may_cancel",
    "order_action_window",
    "quotation_limit",
    "quotation_reference",
    "require_order_size",
    "require_within_price_limits",
    "require_within_quotation_rule",
    "target_inside_quotation_rule",
    "tick_down",
    "tick_up",
    "ticks_from",
    "within_price_limits",
    "within_quotation_rule",
]
