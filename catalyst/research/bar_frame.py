"""The bars table every part of research speaks: its schema, a cheap check, and time helpers.

Schema (one row per bar, a plain ``pandas.DataFrame`` with a default RangeIndex):

==========  ===================================  ==============================================
column      dtype                                meaning
==========  ===================================  ==============================================
symbol      str                                  IB-style HKEX code without leading zeros ("700")
time        datetime64, tz ``Asia/Hong_Kong``    **start** of the bar (IB's convention); a daily
                                                 bar is stamped 00:00 HK of its session date
open        float64                              first trade price of the bar (HKD)
high        float64                              highest trade price
low         float64                              lowest trade price
close       float64                              last trade price
volume      float64                              shares traded in the bar (>= 0)
==========  ===================================  ==============================================

Rows are sorted by ``(symbol, time)`` with no duplicate ``(symbol, time)`` pair. Intraday bars lie
inside continuous trading only (09:30-12:00 and 13:00-16:00, 09:30-12:00 on half days): no
pre-open, lunch or closing-auction bars, so nothing can be filled there (``bar_import`` drops such
bars and reports them). Bar prices are floats because they are observations to compute signals
from; every price Catalyst *sends* is a Decimal snapped to the spread table (see ``strategy_base``).
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np
import pandas as pd

from catalyst.market import HK_TZ
from catalyst.research.errors import BarDataError

BAR_COLUMNS: Final[tuple[str, ...]] = ("symbol", "time", "open", "high", "low", "close", "volume")
PRICE_COLUMNS: Final[tuple[str, ...]] = ("open", "high", "low", "close")
NS_PER_SECOND: Final[int] = 1_000_000_000
NS_PER_DAY: Final[int] = 86_400 * NS_PER_SECOND

Frequency = Literal["intraday", "daily"]


def require_bars(bars: pd.DataFrame) -> None:
    """Raise BarDataError unless ``bars`` follows the schema above (cheap: no per-row Python)."""
    if not isinstance(bars, pd.DataFrame):
        raise BarDataError(f"bars must be a pandas DataFrame, got {type(bars).__name__}")
    missing = [c for c in BAR_COLUMNS if c not in bars.columns]
    if missing:
        raise BarDataError(
            f"bars lack the columns {missing}; the schema is {list(BAR_COLUMNS)} "
            "(load files through catalyst.research.bar_import.import_bars)"
        )
    tz = getattr(bars["time"].dtype, "tz", None)
    if tz is None or str(tz) != str(HK_TZ):
        raise BarDataError(
            f"bars.time must be tz-aware in Asia/Hong_Kong, got dtype {bars['time'].dtype}; "
            "convert with bars['time'].dt.tz_convert('Asia/Hong_Kong')"
        )
    for col in (*PRICE_COLUMNS, "volume"):
        if not pd.api.types.is_float_dtype(bars[col].dtype):
            raise BarDataError(f"bars.{col} must be float64, got {bars[col].dtype}")
    if len(bars) == 0:
        return
    codes, names = symbol_runs(bars)
    ns = time_ns(bars["time"])
    same = codes[1:] == codes[:-1]
    if len(set(names)) != len(names):
        raise BarDataError("bars must be sorted by (symbol, time); use bars.sort_values(['symbol', 'time'])")
    if np.any(same & (ns[1:] <= ns[:-1])):
        raise BarDataError(
            "bars must be sorted by (symbol, time) without duplicate (symbol, time) rows; "
            "import_bars drops duplicates and reports them"
        )


def symbol_runs(bars: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Run codes of the symbol column (0, 0, ..., 1, 1, ...) and each run's symbol.

    For bars sorted by symbol each run is one symbol, so this is a factorisation at the cost of one
    vectorised comparison of neighbours (much cheaper than ``pd.factorize`` on strings).
    """
    col = bars["symbol"]
    if len(col) == 0:
        return np.zeros(0, dtype=np.int64), []
    change = col.ne(col.shift()).to_numpy(dtype=bool, copy=True)
    change[0] = True
    codes = np.cumsum(change) - 1
    names = [str(x) for x in col.iloc[np.flatnonzero(change)]]
    return codes, names


def time_ns(times: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """UTC nanoseconds since the epoch (int64) of a tz-aware time column, whatever its unit."""
    values = times.dt.tz_convert("UTC") if isinstance(times, pd.Series) else times.tz_convert("UTC")
    return np.asarray(values.astype("datetime64[ns, UTC]").astype("int64"), dtype=np.int64)


def local_ns(times: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Hong Kong wall-clock nanoseconds (UTC+8, no DST) of a tz-aware time column."""
    return time_ns(times) + 8 * 3600 * NS_PER_SECOND


def bar_seconds(bars: pd.DataFrame) -> int:
    """Length of one bar in seconds: the smallest step between bars of one symbol and day.

    Bars all stamped at midnight are daily (86,400). Intraday bars too sparse to show their
    length (one bar a day, or steps over an hour) are taken as one-minute bars.
    """
    if len(bars) == 0:
        return 60
    ns = local_ns(bars["time"])
    if not np.any(ns % NS_PER_DAY):
        return 86_400
    codes, _ = symbol_runs(bars)
    day = ns // NS_PER_DAY
    same = (codes[1:] == codes[:-1]) & (day[1:] == day[:-1])
    steps = np.diff(ns)[same]
    steps = steps[steps > 0]
    if steps.size == 0 or steps.min() > 3600 * NS_PER_SECOND:
        return 60
    return int(steps.min() // NS_PER_SECOND)


def frequency(bars: pd.DataFrame) -> Frequency:
    """ "daily" for one bar per symbol and session, else "intraday"."""
    return "daily" if bar_seconds(bars) >= 86_400 else "intraday"


def empty_bars() -> pd.DataFrame:
    """A bars table with no rows and the schema's dtypes."""
    return pd.DataFrame(
        {
            "symbol": pd.Series([], dtype=object),
            "time": pd.Series([], dtype=pd.DatetimeTZDtype("ns", HK_TZ)),
            **{c: pd.Series([], dtype="float64") for c in (*PRICE_COLUMNS, "volume")},
        }
    )
