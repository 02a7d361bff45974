"""The securities the simulator lists: identities, descriptions and the numbers behind their prices.

The simulator lists every tradable security of the *active* universe (``catalyst.market``, the one
source of board lots, spread tables and stamp-duty flags; the gateway process applies the same
settings as the client, so an imported HKEX list is what it serves). This module adds what only the
simulator needs: a conId, a long name marked " (SIM)" so synthetic data is visible wherever a
contract is shown, IB-style industry fields, and the parameters of the synthetic price process
(daily volatility, daily turnover).

The shipped 20 keep their hand-set descriptions below. Any other security gets the universe's name,
HKEX's category as IB-style fields, :data:`DEFAULT_DAILY_VOL` and :data:`DEFAULT_TURNOVER_HKD_M`,
and a **seed price** from :func:`seed_price` when the universe has no reference price for it: a
whole-dollar level between HK$2 and HK$200, log-uniform, chosen by the SHA-256 of the stock code.
It is deterministic (the same code always starts from the same level, in every process and run),
independent of the simulator's seed and of the rest of the universe, and a whole dollar is on
every ladder of tables A and D at any date, so it is a valid price wherever it is quoted.

ConIds are made up (``SIM_CONID_BASE + stock code``); real IB conIds are different numbers, so
nothing should ever hard-code them.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from catalyst.market import HK_TZ, ActiveUniverse, CalendarRangeError, Security, active_universe
from catalyst.market.calendar import session_for

SIM_CONID_BASE = 900_000_000
#: Market-rule ids served for each spread table (IB's real SEHK ids are unknown [U]; opaque here).
MARKET_RULE_IDS: dict[str, int] = {"A": 3201, "D": 3204}
SYNTHETIC_LABEL = " (SIM)"
#: Price-process parameters of a security outside the shipped 20.
DEFAULT_DAILY_VOL = 0.025
DEFAULT_TURNOVER_HKD_M = 200.0
#: Range of :func:`seed_price` (whole HK dollars).
SEED_PRICE_RANGE = (2, 200)


@dataclass(frozen=True)
class ListedStock:
    """One simulated listing: identity plus the parameters of its synthetic price process."""

    symbol: str
    con_id: int
    long_name: str
    industry: str
    category: str
    subcategory: str
    stock_type: str
    daily_vol: float  # standard deviation of daily log returns
    turnover_hkd_m: float  # typical daily turnover, HKD millions
    board_lot: int
    spread_table: str
    ref_price: Decimal
    cas_eligible: bool = True  # takes part in the closing auction (HKEX's list, "CAS Eligible")
    pos_eligible: bool = True  # takes part in the pre-opening session ("POS Eligible")

    @property
    def market_rule_id(self) -> int:
        return MARKET_RULE_IDS[self.spread_table]


# symbol: (long name, industry, category, subcategory, daily vol, turnover HKD m)
_TABLE: dict[str, tuple[str, str, str, str, float, float]] = {
    "700": ("TENCENT HOLDINGS LTD", "Communications", "Internet", "Internet Content", 0.020, 15000),
    "5": ("HSBC HOLDINGS PLC", "Financial", "Banks", "Diversified Banking Inst", 0.013, 4000),
    "941": ("CHINA MOBILE LTD", "Communications", "Telecommunications", "Cellular Telecom", 0.012, 2500),
    "1299": ("AIA GROUP LTD", "Financial", "Insurance", "Life/Health Insurance", 0.018, 3000),
    "9988": ("ALIBABA GROUP HOLDING LTD", "Communications", "Internet", "E-Commerce/Products", 0.028, 12000),
    "3690": ("MEITUAN-CLASS B", "Communications", "Internet", "E-Commerce/Services", 0.030, 6000),
    "388": (
        "HONG KONG EXCHANGES & CLEAR",
        "Financial",
        "Diversified Finan Serv",
        "Finance-Other Services",
        0.018,
        2500,
    ),
    "2318": ("PING AN INSURANCE GROUP CO-H", "Financial", "Insurance", "Multi-line Insurance", 0.020, 3000),
    "1810": ("XIAOMI CORP-CLASS B", "Technology", "Computers", "Computers", 0.030, 10000),
    "883": ("CNOOC LTD", "Energy", "Oil&Gas", "Oil Comp-Explor&Prodtn", 0.018, 1500),
    "939": ("CHINA CONSTRUCTION BANK-H", "Financial", "Banks", "Commer Banks Non-US", 0.013, 3000),
    "1398": ("IND & COMM BK OF CHINA-H", "Financial", "Banks", "Commer Banks Non-US", 0.013, 2000),
    "3988": ("BANK OF CHINA LTD-H", "Financial", "Banks", "Commer Banks Non-US", 0.012, 1500),
    "2800": ("TRACKER FUND OF HONG KONG", "Funds", "Equity Fund", "Growth-Large Cap", 0.012, 3000),
    "1211": (
        "BYD CO LTD-H",
        "Consumer, Cyclical",
        "Auto Manufacturers",
        "Auto-Cars/Light Trucks",
        0.028,
        5000,
    ),
    "9618": ("JD.COM INC-CLASS A", "Communications", "Internet", "E-Commerce/Products", 0.028, 2000),
    "1024": ("KUAISHOU TECHNOLOGY", "Communications", "Internet", "Internet Content", 0.032, 2500),
    "27": ("GALAXY ENTERTAINMENT GROUP L", "Consumer, Cyclical", "Lodging", "Casino Hotels", 0.022, 800),
    "16": ("SUN HUNG KAI PROPERTIES", "Financial", "Real Estate", "Real Estate Oper/Develop", 0.016, 700),
    "2388": ("BOC HONG KONG HOLDINGS LTD", "Financial", "Banks", "Commer Banks Non-US", 0.014, 900),
}


def seed_price(symbol: str) -> Decimal:
    """The deterministic starting level of a security without a reference price (module docstring)."""
    digest = hashlib.sha256(f"catalyst-sim-seed-price:{symbol}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    low, high = SEED_PRICE_RANGE
    return Decimal(round(math.exp(math.log(low) + u * (math.log(high) - math.log(low)))))


def _stock_type(sec: Security) -> str:
    if sec.is_etf:
        return "ETF"
    return "REIT" if sec.kind == "reit" else "COMMON"


def listed_stock(sec: Security) -> ListedStock:
    """The simulator's listing of one universe security."""
    known = _TABLE.get(sec.symbol)
    if known is not None:
        name, industry, category, sub, vol, turnover = known
    else:
        name, vol, turnover = sec.name, DEFAULT_DAILY_VOL, DEFAULT_TURNOVER_HKD_M
        industry = "Funds" if sec.is_etf or sec.kind == "reit" else "Unclassified"
        category, sub = sec.category, sec.sub_category or sec.category
    return ListedStock(
        symbol=sec.symbol,
        con_id=SIM_CONID_BASE + int(sec.symbol),
        long_name=name + SYNTHETIC_LABEL,
        industry=industry,
        category=category,
        subcategory=sub,
        stock_type=_stock_type(sec),
        daily_vol=vol,
        turnover_hkd_m=turnover,
        board_lot=sec.board_lot,
        spread_table=sec.spread_table,
        ref_price=sec.ref_price if sec.ref_price is not None else seed_price(sec.symbol),
        cas_eligible=sec.cas_eligible,
        pos_eligible=sec.pos_eligible,
    )


@dataclass
class _Served:
    """The listings of one active universe, and the ones served so far (see :data:`LISTINGS`)."""

    active: ActiveUniverse
    every: dict[str, ListedStock]
    by_con_id: dict[int, ListedStock]
    served: dict[str, ListedStock]

    def serve(self, stock: ListedStock) -> ListedStock:
        self.served.setdefault(stock.symbol, stock)
        return stock


_current: _Served | None = None


def _listings() -> _Served:
    """Listings of the active universe, rebuilt when another universe becomes active."""
    global _current
    active = active_universe()
    if _current is None or _current.active is not active:
        every = {code: listed_stock(sec) for code, sec in active.tradable.items()}
        first = {code: stock for code, stock in every.items() if code in _TABLE}
        _current = _Served(active, every, {s.con_id: s for s in every.values()}, first)
    return _current


class _BySymbol(Mapping[str, ListedStock]):
    """symbol -> listing, of the active universe (read-only).

    Every tradable security of the active universe can be looked up. Iteration (which the exchange
    does every tick, to push changed quotes) covers the securities *served* so far: the shipped 20
    from the start, any other one from its first lookup (contract details, a quote, bars, an order).
    A full HKEX list has about 2,900 tradable securities and a quote costs about 10 ms to build, so
    pushing quotes for every one each tick would stall the simulator; IB too streams only what
    someone asked for.
    """

    def __getitem__(self, key: str) -> ListedStock:
        current = _listings()
        return current.serve(current.every[key])

    def __contains__(self, key: object) -> bool:
        return key in _listings().every

    def __iter__(self) -> Iterator[str]:
        return iter(list(_listings().served))

    def __len__(self) -> int:
        return len(_listings().served)


class _ByConId(Mapping[int, ListedStock]):
    """conId -> listing, of the active universe (read-only; iterates the served ones like LISTINGS)."""

    def __getitem__(self, key: int) -> ListedStock:
        current = _listings()
        return current.serve(current.by_con_id[key])

    def __contains__(self, key: object) -> bool:
        return key in _listings().by_con_id

    def __iter__(self) -> Iterator[int]:
        return iter([s.con_id for s in list(_listings().served.values())])

    def __len__(self) -> int:
        return len(_listings().served)


#: symbol -> listing; see :class:`_BySymbol` for what iteration covers.
LISTINGS: Mapping[str, ListedStock] = _BySymbol()
BY_CON_ID: Mapping[int, ListedStock] = _ByConId()


def listed_codes(limit: int = 30) -> str:
    """The listed codes for a message, shortened when the universe is large."""
    codes = list(_listings().every)
    if len(codes) <= limit:
        return ", ".join(codes)
    return f"the {len(codes):,} tradable securities of the active universe, e.g. {', '.join(codes[:5])}"


def session_hours(first_day: date, days: int = 7) -> tuple[str, str]:
    """IB's ``tradingHours`` and ``liquidHours`` for SEHK from ``first_day`` over ``days`` days.

    Trading hours run from the pre-open (09:00) to the end of the closing auction (16:10, or
    12:10 on a half day), liquid hours over continuous trading; lunch splits a day in two; a
    holiday is ``YYYYMMDD:CLOSED``. The content IB sends for SEHK is [U]; the format is the one
    the IB client library's ``tradingSessions()`` parses. Days past the calendar's end are left out.
    """

    def hm(ts: datetime) -> str:
        return ts.astimezone(HK_TZ).strftime("%Y%m%d:%H%M")

    trading: list[str] = []
    liquid: list[str] = []
    for i in range(days):
        d = first_day + timedelta(days=i)
        try:
            td = session_for(d)
        except CalendarRangeError:
            break
        if td is None:
            trading.append(f"{d:%Y%m%d}:CLOSED")
            liquid.append(f"{d:%Y%m%d}:CLOSED")
        elif td.break_start is not None and td.break_end is not None:
            trading += [f"{hm(td.pre_open)}-{hm(td.break_start)}", f"{hm(td.break_end)}-{hm(td.auction_end)}"]
            liquid += [f"{hm(td.open)}-{hm(td.break_start)}", f"{hm(td.break_end)}-{hm(td.close)}"]
        else:
            trading.append(f"{hm(td.pre_open)}-{hm(td.auction_end)}")
            liquid.append(f"{hm(td.open)}-{hm(td.close)}")
    return ";".join(trading), ";".join(liquid)
