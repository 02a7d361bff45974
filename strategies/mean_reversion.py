""" "mean-reversion": buy a stock stretched far below its recent mean, aim for the mean again.

An example of a strategy in the trader's own code (this folder, ``strategies/`` at the project
root, is searched by Catalyst; nothing in ``catalyst/`` is edited). It is of another kind than the
built-in ``catalyst-momentum``: it buys weakness instead of strength.

At ``entry_time`` each session (10:30 HK by default), using only bars complete by then:

* ``mean`` and ``std``: the mean and standard deviation of the previous ``lookback_days`` daily
  closes; ``z`` = (last price - mean) / std;
* a long candidate when ``z <= -min_z`` (stretched below the mean) and the last price is at least
  ``min_price``; with ``allow_shorts`` the mirror image (``z >= min_z``) is a short candidate;
* entry at the last price, stop ``stop_atr`` ATRs (of ``atr_days`` daily ranges) beyond it, target
  at the mean but never further than ``target_atr`` ATRs; ranked by ``|z|``, best
  ``max_candidates`` per session.

Try it: ``catalyst research -p strategy mean-reversion -p params '{}'``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import ClassVar

import numpy as np
import pandas as pd

from catalyst.market import HK_TZ, to_hk
from catalyst.research import Strategy
from catalyst.research.bar_frame import bar_seconds, require_bars
from catalyst.research.errors import StrategyParamError
from catalyst.research.strategy_base import SIGNAL_COLUMNS


@dataclass(frozen=True)
class MeanReversionParams:
    """Parameters of mean-reversion (HK times of day; ATR multiples; z in standard deviations)."""

    entry_time: time = time(10, 30)
    """Decision time of day in backtests; bars complete by then are used."""
    lookback_days: int = 10
    """Daily closes in the mean and standard deviation (a symbol needs this many sessions)."""
    min_z: float = 2.0
    """How many standard deviations below (or above, for shorts) the mean the last price must be."""
    atr_days: int = 14
    """Sessions in the average true range that sizes the stop and caps the target."""
    stop_atr: float = 1.0
    """Stop distance from the entry, in ATRs."""
    target_atr: float = 2.0
    """The target is the mean, but at most this many ATRs from the entry."""
    min_price: float = 1.0
    """Stocks below this price (HKD) are skipped."""
    max_candidates: int = 5
    """At most this many candidates per session, most stretched first."""
    allow_shorts: bool = False
    """Also short stocks stretched above their mean (risk.allow_shorts must agree)."""

    def __post_init__(self) -> None:
        checks = [
            (self.lookback_days >= 2, "lookback_days must be at least 2"),
            (self.min_z > 0, "min_z must be positive"),
            (self.atr_days >= 1, "atr_days must be at least 1"),
            (self.stop_atr > 0, "stop_atr must be positive"),
            (self.target_atr > 0, "target_atr must be positive"),
            (self.min_price > 0, "min_price must be positive"),
            (self.max_candidates >= 1, "max_candidates must be at least 1"),
        ]
        for ok, text in checks:
            if not ok:
                raise StrategyParamError(f"mean-reversion: {text} (got {self})")


class MeanReversionStrategy(Strategy):
    """Buy (or short) a stock more than ``min_z`` standard deviations away from its recent mean."""

    name: ClassVar[str] = "mean-reversion"
    params_type: ClassVar[type[MeanReversionParams]] = MeanReversionParams
    params: MeanReversionParams

    def signals(self, bars: pd.DataFrame, *, at: datetime | None = None) -> pd.DataFrame:
        require_bars(bars)
        p = self.params
        if len(bars) == 0:
            return _empty()
        step = bar_seconds(bars)
        if step >= 86_400:
            raise StrategyParamError("mean-reversion needs intraday bars; got daily bars")
        cutoff = p.entry_time if at is None else to_hk(at).timetz().replace(tzinfo=None)
        days = _sessions(bars, step, cutoff, p)
        if at is not None:
            days = days.loc[days["day"] == to_hk(at).date()]
        return _to_signals(_pick(days, p), cutoff)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in SIGNAL_COLUMNS})


def _sessions(bars: pd.DataFrame, step: int, cutoff: time, p: MeanReversionParams) -> pd.DataFrame:
    """One row per (symbol, session): the last price known by the cutoff, and the previous sessions'
    mean close, standard deviation and ATR (shifted a session: nothing of today's close leaks in)."""
    local = bars["time"].dt.tz_convert(HK_TZ)
    frame = bars.assign(day=local.dt.date, tod=(local - local.dt.normalize()).dt.total_seconds())
    seconds = cutoff.hour * 3600 + cutoff.minute * 60 + cutoff.second
    known = frame.loc[frame["tod"] + step <= seconds].groupby(["symbol", "day"])["close"].last()
    daily = frame.groupby(["symbol", "day"]).agg(
        high=("high", "max"), low=("low", "min"), close=("close", "last")
    )
    daily["last"] = known
    daily = daily.reset_index()
    by_symbol = daily.groupby("symbol", sort=False)
    prev = by_symbol["close"].shift(1)
    true_range = pd.concat(
        [daily["high"] - daily["low"], (daily["high"] - prev).abs(), (daily["low"] - prev).abs()], axis=1
    ).max(axis=1)  # the first session has no previous close: its range alone
    closes = by_symbol["close"]
    daily["mean"] = closes.transform(lambda c: c.rolling(p.lookback_days).mean().shift(1))
    daily["std"] = closes.transform(lambda c: c.rolling(p.lookback_days).std().shift(1))
    daily["atr"] = true_range.groupby(daily["symbol"]).transform(
        lambda r: r.rolling(p.atr_days).mean().shift(1)
    )
    return daily


def _pick(days: pd.DataFrame, p: MeanReversionParams) -> pd.DataFrame:
    """The stretched symbols of each session with their brackets, most stretched first."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (days["last"] - days["mean"]) / days["std"]
    ok = np.isfinite(z) & (days["atr"] > 0) & (days["last"] >= p.min_price)
    sign = np.where(ok & (z <= -p.min_z), 1.0, np.where(ok & (z >= p.min_z) & p.allow_shorts, -1.0, 0.0))
    picked = days.assign(z=z, sign=sign).loc[sign != 0].copy()
    reach = np.minimum((picked["mean"] - picked["last"]).abs(), p.target_atr * picked["atr"])
    picked["entry"] = picked["last"]
    picked["stop"] = picked["entry"] - picked["sign"] * p.stop_atr * picked["atr"]
    picked["target"] = picked["entry"] + picked["sign"] * reach
    picked["score"] = picked["z"].abs()
    picked = picked.sort_values(["day", "score", "symbol"], ascending=[True, False, True], kind="mergesort")
    return picked.groupby("day", sort=False).head(p.max_candidates).reset_index(drop=True)


def _to_signals(picked: pd.DataFrame, cutoff: time) -> pd.DataFrame:
    if picked.empty:
        return _empty()
    ats = [datetime.combine(d, cutoff, tzinfo=HK_TZ) for d in picked["day"]]
    reasons = [
        f"last {last:g} is {z:+.2f} sd from the {mean:.3f} mean close; ATR {atr:.3f}"
        for last, z, mean, atr in zip(picked["last"], picked["z"], picked["mean"], picked["atr"], strict=True)
    ]
    return pd.DataFrame(
        {
            "symbol": picked["symbol"].to_numpy(),
            "at": pd.DatetimeIndex(ats).as_unit("ns"),
            "side": np.where(picked["sign"].to_numpy() > 0, "BUY", "SELL"),
            "entry": picked["entry"].to_numpy(float),
            "stop": picked["stop"].to_numpy(float),
            "target": picked["target"].to_numpy(float),
            "score": picked["score"].to_numpy(float),
            "reason": reasons,
        }
    )
