"""The simulator's two auctions: their times, their reference prices and the crowd on the other side.

The rules are :mod:`catalyst.market.auction`'s; this module supplies what only a simulator has to
make up, deterministically from the seed and the price model (:mod:`catalyst.sim.engine.prices`):

* **Who takes part** (:func:`takes_part`, :func:`carried`): an at-auction order (TIF ``AUC``)
  waiting for its auction, and in the CAS a DAY limit still working at 16:00 whose limit lies
  within +-5 % of the reference price, of a security whose universe record has that auction.
* **Which at-auction orders are taken** (:func:`entry_problem`): 09:00-09:15 for the POS (a limit
  within +-15 % of the previous close), from 16:01 (12:01) to the random close for the CAS (within
  +-5 % of the reference price), a LMT or MKT and never a bracket child.
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
    band_problem,
    carried_into_cas,
    cas_close_time,
    cas_input_open,
    pos_input_open,
    pos_match_time,
    reference_price,
    reference_snapshot_times,
    within_band,
)
from catalyst.market.calendar import TradingDay
from catalyst.sim.engine.contracts import ListedStock
from catalyst.sim.engine.model import PENDING_CANCEL, SUBMITTED, OrderRequest, SimOrder
from catalyst.sim.engine.order_rules import AUCTION_TIF, AUCTION_TYPES
from catalyst.sim.engine.prices import PriceModel, price_from_milli, unit_hash
from catalyst.sim.engine.state import OrderExt

CROWD_SHARE = 0.03
CROWD_MIN_LOTS = 20
CROWD_TICKS = 2
_CAS_SALT = 0xCA5
_POS_SALT = 0x905
CROWD_PRIORITY = math.inf  # behind every client order at the same price
#: Time in force of the orders that end with the day (an at-auction order is a day order).
EXPIRING_TIFS = ("DAY", AUCTION_TIF)


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


# --- who takes part ----------------------------------------------------------------------------------


def waiting_for_auction(o: SimOrder, ext: OrderExt) -> bool:
    """An at-auction order that has not yet met its auction (it never works on continuous prints)."""
    return o.tif == AUCTION_TIF and not ext.working


def auction_limit(o: SimOrder, ext: OrderExt) -> Decimal | None:
    """The price ``o`` carries into the auction (None: an at-auction order, at any price)."""
    if ext.working:
        return ext.limit
    return o.lmt_price if o.order_type == "LMT" else None


def takes_part(o: SimOrder, ext: OrderExt, stock: ListedStock, *, closing: bool) -> bool:
    """Whether ``o`` is in the book of the CAS (``closing``) or the POS of ``stock``."""
    if o.is_done or o.status not in (SUBMITTED, PENDING_CANCEL):
        return False
    if waiting_for_auction(o, ext):
        return stock.cas_eligible if closing else stock.pos_eligible
    if not closing or not stock.cas_eligible:
        return False
    return o.tif in EXPIRING_TIFS and ext.working and ext.limit is not None


def carried(o: SimOrder, ext: OrderExt, reference: Decimal) -> bool:
    """At-auction orders are in the CAS; a limit working since continuous trading only within +-5 %."""
    if waiting_for_auction(o, ext):
        return True
    limit = auction_limit(o, ext)
    return limit is not None and carried_into_cas(limit, reference)


def entry_problem(
    prices: PriceModel,
    req: OrderRequest,
    stock: ListedStock,
    when: datetime,
    td: TradingDay | None,
    *,
    seed: int,
) -> str | None:
    """Why an at-auction order ``req`` cannot join an auction at ``when``, or None."""
    if req.order_type not in AUCTION_TYPES or req.parent_id:
        return (
            "An at-auction order is a LMT (at-auction limit) or MKT (at-auction order) with TIF AUC, "
            "and not a bracket child"
        )
    if td is not None and pos_input_open(td, when):
        if not stock.pos_eligible:
            return f"{stock.symbol} does not take part in HKEX's pre-opening session"
        fraction, reference = POS_BAND, pos_reference(prices, stock.symbol, td)
    elif td is not None and cas_input_open(td, when) and when < cas_close_at(seed, td):
        if not stock.cas_eligible:
            return f"{stock.symbol} is not a closing-auction (CAS) security: it closes at {td.close:%H:%M}"
        fraction, reference = CAS_BAND, cas_reference(prices, stock.symbol, td)
    else:
        return (
            "At-auction orders are accepted only in HKEX's auction input periods: 09:00-09:15 "
            "(pre-opening session) and from 16:01 (12:01 on a half day) to the closing auction's "
            "random close"
        )
    limit = req.lmt_price if req.order_type == "LMT" else None
    return band_problem(limit, reference, fraction) if limit is not None else None


# --- the crowd -----------------------------------------------------------------------------------------


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
    "EXPIRING_TIFS",
    "auction_limit",
    "carried",
    "cas_close_at",
    "cas_crowd_price",
    "cas_reference",
    "crowd_orders",
    "crowd_shares",
    "entry_problem",
    "pos_crowd_price",
    "pos_match_at",
    "pos_reference",
    "takes_part",
    "waiting_for_auction",
]
