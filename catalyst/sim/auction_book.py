"""The simulator's two auctions: their times, their reference prices and the crowd on the other side.

The rules are :mod:`catalyst.market.auction`'s; this module supplies what only a simulator has to
make up, deterministically from the seed and the price model (:mod:`catalyst.sim.prices`):

* **Times.** One random CAS close (16:08:00-16:09:59, 12:08-12:09:59 on a half day) and one POS
  match (09:20:00-09:21:59) per day for the whole market, drawn from ``(seed, day)``.
* **Reference prices.** CAS: the median of the five nominal-price snapshots of the last minute,
  read from the price model's prints (the last print at each snapshot time stands for the nominal
  price). POS: the previous day's closing print.
* **The crowd.** Everybody else's orders are one buy and one sell at-auction limit of
  :func:`crowd_shares` each, both at the crowd's price: in the CAS the reference price moved by up
  to :data:`CROWD_TICKS` ticks (from the seed; kept inside the +-5 % band), in the POS the day's
  first continuous print (kept inside the +-15 % band). The crowd stands behind the client's orders
  at the same price, so a client limit at or better than the auction price fills (up to the
  crowd's size; a bigger order moves the price, as it would at HKEX). Its size is
  :data:`CROWD_SHARE` of the day's continuous volume, at least :data:`CROWD_MIN_LOTS` board lots.
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal

from catalyst.market import snap_to_tick
from catalyst.market.auction import (
    CAS_BAND,
    POS_BAND,
    AuctionOrder,
    band,
    cas_close_time,
    pos_match_time,
    reference_price,
    reference_snapshot_times,
    within_band,
)
from catalyst.market.calendar import TradingDay
from catalyst.sim.prices import PriceModel, price_from_milli, unit_hash

CROWD_SHARE = 0.03
CROWD_MIN_LOTS = 20
CROWD_TICKS = 2
_CAS_SALT = 0xCA5
_POS_SALT = 0x905
CROWD_PRIORITY = math.inf  # behind every client order at the same price


def cas_close_at(seed: int, td: TradingDay) -> datetime:
    """This day's random close of the closing auction (the same second for every security)."""
    return cas_close_time(td, unit_hash(seed, td.day.toordinal(), _CAS_SALT))


def pos_match_at(seed: int, td: TradingDay) -> datetime:
    """This day's random matching moment of the pre-opening session."""
    return pos_match_time(td, unit_hash(seed, td.day.toordinal(), _POS_SALT))


def cas_reference(prices: PriceModel, symbol: str, td: TradingDay) -> Decimal:
    """The CAS reference price of ``symbol`` on ``td``: the median of the last minute's snapshots."""
    return reference_price([prices.last_price(symbol, t.timestamp()) for t in reference_snapshot_times(td)])


def pos_reference(prices: PriceModel, symbol: str, td: TradingDay) -> Decimal:
    """The POS reference: the previous trading day's close (the last close standing before 09:30)."""
    return prices.last_price(symbol, td.pre_open.timestamp())


def _inside(price: Decimal, reference: Decimal, fraction: Decimal, *, td: TradingDay, table: str) -> Decimal:
    """``price``, or the band's nearest edge on the ladder when it lies outside the band."""
    if within_band(price, reference, fraction):
        return price
    low, high = band(reference, fraction)
    if price > high:
        return snap_to_tick(high, "down", on=td.day, table=table)
    return snap_to_tick(low, "up", on=td.day, table=table)


def cas_crowd_price(prices: PriceModel, symbol: str, td: TradingDay, reference: Decimal) -> Decimal:
    """The price the crowd's closing auction would set: the reference moved by a few seeded ticks."""
    stock = prices.listing(symbol)
    u = unit_hash(prices.seed, stock.con_id, td.day.toordinal(), _CAS_SALT)
    ticks = round((2 * u - 1) * CROWD_TICKS)
    price = reference
    for _ in range(abs(ticks)):
        price = (prices.next_up if ticks > 0 else prices.next_down)(symbol, price, td.day)
    return _inside(price, reference, CAS_BAND, td=td, table=stock.spread_table)


def pos_crowd_price(prices: PriceModel, symbol: str, td: TradingDay, reference: Decimal) -> Decimal:
    """The price the crowd's pre-opening session would set: the day's first continuous print."""
    path = prices.path(symbol, td.day)
    stock = prices.listing(symbol)
    first = price_from_milli(int(path.price[0])) if path is not None else reference
    return _inside(first, reference, POS_BAND, td=td, table=stock.spread_table)


def crowd_shares(prices: PriceModel, symbol: str, td: TradingDay) -> int:
    """Shares on each side of the crowd: a share of the day's continuous volume, in whole lots."""
    lot = prices.listing(symbol).board_lot
    path = prices.path(symbol, td.day)
    day_volume = int(path.cum_volume[-1]) if path is not None and len(path.ts) else 0
    return max(CROWD_MIN_LOTS, int(day_volume * CROWD_SHARE) // lot) * lot


def crowd_orders(price: Decimal, shares: int) -> list[AuctionOrder]:
    """The crowd as one buy and one sell at-auction limit at ``price``, behind every client order."""
    return [
        AuctionOrder("crowd-buy", "BUY", shares, price, CROWD_PRIORITY),
        AuctionOrder("crowd-sell", "SELL", shares, price, CROWD_PRIORITY),
    ]


__all__ = [
    "CROWD_MIN_LOTS",
    "CROWD_SHARE",
    "CROWD_TICKS",
    "cas_close_at",
    "cas_crowd_price",
    "cas_reference",
    "crowd_orders",
    "crowd_shares",
    "pos_crowd_price",
    "pos_match_at",
    "pos_reference",
]
