"""How resting orders fill against bars: the backtester's exchange, as pure functions.

The rules (each has a known-answer test in ``tests/unit/research/test_fill_rules.py``):

* **Entry limit (DAY)** fills only on a bar that *trades through* its price (a buy needs a low
  strictly below the limit, a sell a high strictly above): touching is not enough, because the
  queue ahead of us at that price may absorb all the volume. A bar that opens beyond the limit
  fills at the open (the better price). The order may fill only on bars of the session it was
  placed in, never at lunch or on a later day.
* **Closing auction** (:func:`auction_fill`, ``catalyst.market.auction``): a DAY entry still
  unfilled after the last continuous bar of a day that runs to the close (16:00, or 12:00 on a
  half day) is carried into the CAS of a CAS-eligible security when its limit lies within +-5 % of
  the reference price, and fills there when the auction price is at or better than its limit
  (touching is enough: an auction trades everything at one price). The bars hold only continuous
  trading, so there is no auction bar: the auction price is the **reference price** estimated
  from the last continuous bar (:func:`bar_reference_price`), and the fill is booked at the end of
  that bar. Otherwise the entry expires (DAY).
* **Protective legs (OCA)**: a stop and a target, one cancels the other. On each later bar the
  open is looked at first: an open at or through the stop fills the stop *at the open* (a gap
  through a stop, after lunch, overnight or between bars, is not filled at the stop price); an
  open through the target fills the target at the open. Otherwise a low at or below a long's stop
  triggers it at the stop price; a high strictly above the target fills it at the target price.
  When one bar reaches both, the stop is assumed to have come first (the conservative reading of
  a bar whose path is unknown), and the OCA group cancels the target.
* **Bar of the entry fill**: only the stop is checked (the fill may have come at the bar's
  extreme, and the rest of the path is unknown); the target waits for the next bar. After a
  closing-auction entry both legs wait for the next bar (the auction came after its bar).
* **Stop slippage**: ``slippage_ticks`` whole ticks worse than the trigger price (IB simulates
  SEHK stops and sends a marketable order when triggered), 0 by default.

Bars hold only continuous trading (``bar_frame``), so no fill can happen at lunch or in an
auction: the first bar after lunch is 13:00, and a gap across lunch is handled by the open rule.
Prices come out as Decimals on the spread table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np

from catalyst.domain import Side
from catalyst.market import snap_to_tick, tick_size
from catalyst.market.auction import Action, carried_into_cas, fills_at, reference_price

_EPOCH = date(1970, 1, 1).toordinal()
#: ``Fill.reason`` of an entry filled in the closing auction.
AUCTION_REASON = "closing_auction"


@dataclass(frozen=True)
class BarPath:
    """One symbol's bars as arrays (index = bar number), as the fill rules read them."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    day: np.ndarray
    """Session date of each bar as days since 1970-01-01 (picks the dated spread table)."""

    def date_of(self, index: int) -> date:
        return date.fromordinal(_EPOCH + int(self.day[index]))


@dataclass(frozen=True)
class Fill:
    """A fill at bar ``index`` (into the BarPath) at ``price``; ``reason`` names the rule."""

    index: int
    price: Decimal
    reason: str


def bar_price(value: float, *, on: date, table: str) -> Decimal:
    """A bar's float price as the Decimal on the ladder it stands for (nearest tick)."""
    return snap_to_tick(Decimal(f"{value:.6f}"), "nearest", on=on, table=table)


def _first(mask: np.ndarray) -> int:
    """Index of the first True, or -1."""
    if mask.size == 0:
        return -1
    i = int(np.argmax(mask))
    return i if mask[i] else -1


def entry_fill(path: BarPath, side: Side, limit: Decimal, start: int, end: int, *, table: str) -> Fill | None:
    """The DAY entry limit's fill on bars ``start .. end-1`` (one session), or None if it expires."""
    lim = float(limit)
    lo, hi, op = path.low[start:end], path.high[start:end], path.open[start:end]
    i = _first(lo < lim) if side is Side.BUY else _first(hi > lim)
    if i < 0:
        return None
    k = start + i
    opened_through = op[i] < lim if side is Side.BUY else op[i] > lim
    if opened_through:
        return Fill(k, bar_price(float(op[i]), on=path.date_of(k), table=table), "entry_at_open")
    return Fill(k, limit, "entry")


def bar_reference_price(path: BarPath, last: int, *, first: int, table: str) -> Decimal:
    """The CAS reference price as the bars show it, ``last`` being the day's last continuous bar.

    HKEX takes the median of five snapshots of the nominal price in the last minute (15:59:00 to
    16:00:00, 15 s apart). A bar shows that minute by its five prices: the close before it (the
    nominal price at its start), its open, high, low and close (the nominal price at 16:00); their
    median stands for the five snapshots. ``first`` is the day's first bar (with no bar before the
    last one the open stands for the previous close). Daily bars give their close.
    """
    on = path.date_of(last)
    before = float(path.close[last - 1]) if last > first else float(path.open[last])
    values = [before, float(path.open[last]), float(path.high[last]), float(path.low[last])]
    values.append(float(path.close[last]))
    return reference_price([bar_price(v, on=on, table=table) for v in values])


def auction_fill(
    path: BarPath, side: Side, limit: Decimal, last: int, *, first: int, table: str
) -> Fill | None:
    """A DAY entry's fill in the closing auction after bar ``last`` (the module docstring), or None.

    The caller decides that the security is CAS-eligible and that ``last`` ends at the close.
    """
    price = bar_reference_price(path, last, first=first, table=table)
    action: Action = "BUY" if side is Side.BUY else "SELL"
    if not carried_into_cas(limit, price) or not fills_at(action, limit, price):
        return None
    return Fill(last, price, AUCTION_REASON)


def _slip(price: Decimal, side: Side, ticks: int, *, on: date, table: str) -> Decimal:
    """``ticks`` ticks worse for the closing side of a ``side`` position (long: lower)."""
    for _ in range(ticks):
        step = tick_size(price, on=on, table=table)
        if side is Side.BUY:
            price = snap_to_tick(price - step, "down", on=on, table=table) if price - step > 0 else price
        else:
            price = snap_to_tick(price + step, "up", on=on, table=table)
    return price


def exit_fill(
    path: BarPath,
    side: Side,
    stop: Decimal,
    target: Decimal,
    entry: Fill,
    end: int,
    *,
    table: str,
    slippage_ticks: int = 0,
) -> Fill | None:
    """The first protective-leg fill of a ``side`` position entered at ``entry``, on bars < ``end``.

    None when neither leg fills by ``end`` (the position is still open then).
    """
    st, tg = float(stop), float(target)
    long_ = side is Side.BUY
    k0 = entry.index
    # Bar of the entry: only the stop, at the stop price (or the entry price if that is worse);
    # an entry in the closing auction came after its bar, which then counts for neither leg.
    in_auction = entry.reason == AUCTION_REASON
    if not in_auction and k0 < end and (path.low[k0] <= st if long_ else path.high[k0] >= st):
        worse = min(stop, entry.price) if long_ else max(stop, entry.price)
        return Fill(k0, _slip(worse, side, slippage_ticks, on=path.date_of(k0), table=table), "stop")
    lo, hi, op = path.low[k0 + 1 : end], path.high[k0 + 1 : end], path.open[k0 + 1 : end]
    hit = (lo <= st) | (hi > tg) if long_ else (hi >= st) | (lo < tg)
    i = _first(hit)
    if i < 0:
        return None
    k = k0 + 1 + i
    on = path.date_of(k)
    o = float(op[i])
    if (o <= st) if long_ else (o >= st):
        px = bar_price(o, on=on, table=table)
        return Fill(k, _slip(px, side, slippage_ticks, on=on, table=table), "stop_gap")
    if (o > tg) if long_ else (o < tg):
        return Fill(k, bar_price(o, on=on, table=table), "target_gap")
    if (lo[i] <= st) if long_ else (hi[i] >= st):
        return Fill(k, _slip(stop, side, slippage_ticks, on=on, table=table), "stop")
    return Fill(k, target, "target")


def close_fill(path: BarPath, index: int, reason: str, *, table: str) -> Fill:
    """An exit at bar ``index``'s close (a marketable limit before the close; end of a test)."""
    return Fill(index, bar_price(float(path.close[index]), on=path.date_of(index), table=table), reason)
