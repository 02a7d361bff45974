"""The securities the simulator lists: identities, descriptions and the numbers behind their prices.

Board lots, spread tables and stamp-duty flags come from ``catalyst.market`` (the one source of
those facts); this table adds what only the simulator needs: a conId, a long name marked
" (SIM)" so synthetic data is visible wherever a contract is shown, IB-style industry fields, and
the parameters of the synthetic price process (daily volatility, daily turnover).

ConIds are made up (``SIM_CONID_BASE + stock code``); real IB conIds are different numbers, so
nothing should ever hard-code them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from catalyst.market import HK_TZ, CalendarRangeError, security
from catalyst.market.market_phase import session_for

SIM_CONID_BASE = 900_000_000
#: Market-rule ids served for each spread table (IB's real SEHK ids are unknown [U]; opaque here).
MARKET_RULE_IDS: dict[str, int] = {"A": 3201, "D": 3204}
SYNTHETIC_LABEL = " (SIM)"


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


def _build() -> dict[str, ListedStock]:
    out: dict[str, ListedStock] = {}
    for symbol, (name, industry, category, sub, vol, turnover) in _TABLE.items():
        sec = security(symbol)
        out[symbol] = ListedStock(
            symbol=symbol,
            con_id=SIM_CONID_BASE + int(symbol),
            long_name=name + SYNTHETIC_LABEL,
            industry=industry,
            category=category,
            subcategory=sub,
            stock_type="ETF" if sec.is_etf else "COMMON",
            daily_vol=vol,
            turnover_hkd_m=turnover,
            board_lot=sec.board_lot,
            spread_table=sec.spread_table,
            ref_price=sec.ref_price,
        )
    return out


LISTINGS: dict[str, ListedStock] = _build()
BY_CON_ID: dict[int, ListedStock] = {s.con_id: s for s in LISTINGS.values()}


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
