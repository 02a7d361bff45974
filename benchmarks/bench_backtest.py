"""Benchmark: catalyst-momentum, 20 stocks x a year of one-minute bars: Catalyst, backtrader, vectorbt.

Run: ``.venv/bin/python -m benchmarks.bench_backtest`` (needs the ``bench`` extra:
``.venv/bin/pip install -e '.[bench]'``, i.e. backtrader and vectorbt).

Data: every 2025 session of the 20 stocks of the universe, one-minute bars from the simulator's
deterministic price model (``catalyst.sim.engine.prices.PriceModel``, seed 7: the same prices the
simulated gateway serves), cached in ``state/bench/`` after the first run (generation takes a few
minutes; the timings never include it).

The same strategy runs three ways, each from raw bars to trades, timed side by side in one run:

* **Catalyst** ``run_backtest``: vectorised signals, event-driven bracket fills with the HKEX rules
  (spread table, board lots, fees to the cent, lunch, DAY expiry, OCA, gaps) and the live
  pre-trade limits;
* **backtrader** (event-driven peer): the rule computed bar by bar in a ``bt.Strategy`` over 20
  feeds, bracket orders (``buy_bracket``) closed at the session's last bar;
* **vectorbt** (vectorised peer): the rule computed with pandas on time x symbol matrices,
  ``Portfolio.from_signals`` with stop/target as fractions, exit at the session's last bar.

Where the semantics agree, the entries are compared: the (session, symbol) pairs each engine
decides to enter at 10:00 (before sizing and risk limits, which only Catalyst applies).
Writes its section of BENCHMARKS.md between its own markers.
"""

from __future__ import annotations

import platform
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.benchmarks_md import write_section

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "state" / "bench"
SEED = 7
YEAR = 2025


def load_bench_bars(seed: int = SEED, year: int = YEAR) -> pd.DataFrame:
    """20 symbols x every session of ``year``, one-minute bars from the simulator's price model."""
    from catalyst.market import HK_TZ, universe
    from catalyst.research.bar_import import bars_from_records

    path = CACHE / f"sim_bars_{year}_seed{seed}.parquet"
    if path.exists():
        frame = pd.read_parquet(path)
        frame["time"] = frame["time"].dt.tz_convert(HK_TZ).dt.as_unit("ns")
        return frame
    from catalyst.sim.engine.prices import PriceModel

    model = PriceModel(seed)
    start = datetime(year, 1, 1, tzinfo=HK_TZ).timestamp()
    end = datetime(year + 1, 1, 1, tzinfo=HK_TZ).timestamp()
    records = {}
    for sym in universe():
        t0 = time.perf_counter()
        records[sym] = model.bars_between(sym, start, end, 60)
        print(f"generated {sym}: {len(records[sym])} bars in {time.perf_counter() - t0:.1f} s", flush=True)
    frame, report = bars_from_records(records, seconds_per_bar=60)
    print(report.summary())
    CACHE.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
    return frame


# --- the strategy's parameters, shared by the three engines --------------------------------------

PARAMS: dict[str, Any] = {"min_gap_pct": 0.01, "min_rvol": 1.05}  # looser than the defaults: more trades


def _params() -> Any:
    from catalyst.research.momentum import MomentumParams

    return MomentumParams(**PARAMS)


# --- Catalyst ------------------------------------------------------------------------------------


def run_catalyst(bars: pd.DataFrame) -> tuple[float, set[tuple[date, str]], Any]:
    from catalyst.research import BacktestConfig, get_strategy, run_backtest

    strategy = get_strategy("catalyst-momentum", **PARAMS)
    t0 = time.perf_counter()
    result = run_backtest(bars, strategy, BacktestConfig(max_hold_sessions=1))
    seconds = time.perf_counter() - t0
    signals = strategy.signals(bars)
    entries = {
        (pd.Timestamp(a).date(), str(s)) for a, s in zip(signals["at"], signals["symbol"], strict=True)
    }
    return seconds, entries, result


# --- vectorbt: the same rule on time x symbol matrices -------------------------------------------


def run_vectorbt(bars: pd.DataFrame) -> tuple[float, set[tuple[date, str]], int]:
    import vectorbt as vbt

    p = _params()
    t0 = time.perf_counter()
    wide = bars.pivot(index="time", columns="symbol")
    o, h, lo, c, v = (wide[k] for k in ("open", "high", "low", "close", "volume"))
    idx = pd.DatetimeIndex(o.index)
    day = pd.Index(idx.date)
    tod = idx.hour * 3600 + idx.minute * 60 + idx.second
    cutoff = p.entry_time.hour * 3600 + p.entry_time.minute * 60
    pre = np.broadcast_to(np.asarray(tod + 60 <= cutoff)[:, None], o.shape)
    typical = (h + lo + c) / 3.0
    vol_pre = v.where(pre, 0.0).groupby(day).sum()
    pv_pre = (typical * v).where(pre, 0.0).groupby(day).sum()
    last_pre = c.where(pre).groupby(day).last()
    d_open, d_high, d_low, d_close = (
        o.groupby(day).first(),
        h.groupby(day).max(),
        lo.groupby(day).min(),
        c.groupby(day).last(),
    )
    prev_close = d_close.shift(1)
    tr = np.maximum(d_high - d_low, np.maximum((d_high - prev_close).abs(), (d_low - prev_close).abs()))
    tr = tr.where(prev_close.notna(), d_high - d_low)
    atr = tr.rolling(p.atr_days).mean().shift(1)
    rvol = vol_pre / vol_pre.rolling(p.rvol_lookback_days).mean().shift(1)
    gap = d_open / prev_close - 1.0
    vwap = pv_pre / vol_pre
    ok = (
        (gap >= p.min_gap_pct)
        & (gap <= p.max_gap_pct)
        & (rvol >= p.min_rvol)
        & (last_pre > vwap)
        & (last_pre > d_open)
        & (last_pre >= p.min_price)
        & (atr > 0)
    )
    score = (gap.abs() * rvol).where(ok)
    rank = score.rank(axis=1, ascending=False, method="first")
    chosen = ok & (rank <= p.max_candidates)
    entry = last_pre + p.entry_buffer_atr * atr
    sl = (p.stop_atr * atr / entry).where(chosen)
    tp = (p.target_atr * atr / entry).where(chosen)
    # entries on the first bar at or after the decision time; exits on each session's last bar
    first_after = pd.Series(np.arange(len(idx)), index=idx)[np.asarray(tod >= cutoff)]
    first_after = first_after.groupby(first_after.index.date).first()
    entries = pd.DataFrame(False, index=idx, columns=o.columns)
    sl_full = pd.DataFrame(np.nan, index=idx, columns=o.columns)
    tp_full = pd.DataFrame(np.nan, index=idx, columns=o.columns)
    rows = first_after.reindex(chosen.index).dropna().astype(int)
    entries.iloc[rows.to_numpy()] = chosen.loc[rows.index].to_numpy()
    sl_full.iloc[rows.to_numpy()] = sl.loc[rows.index].to_numpy()
    tp_full.iloc[rows.to_numpy()] = tp.loc[rows.index].to_numpy()
    last_bar = pd.Series(day, index=idx).ne(pd.Series(day, index=idx).shift(-1)).to_numpy()
    exits = pd.DataFrame(np.repeat(last_bar[:, None], o.shape[1], axis=1), index=idx, columns=o.columns)
    pf = vbt.Portfolio.from_signals(
        c,
        entries,
        exits,
        price=o,
        sl_stop=sl_full,
        tp_stop=tp_full,
        open=o,
        high=h,
        low=lo,
        init_cash=1e9,
        size=100,
        freq="1min",
    )
    n_trades = int(pf.trades.count().sum())
    seconds = time.perf_counter() - t0
    chosen_pairs = {(d, str(s)) for (d, s), flag in chosen.stack().items() if flag}
    return seconds, chosen_pairs, n_trades


# --- backtrader: the same rule bar by bar ----------------------------------------------------------


def run_backtrader(bars: pd.DataFrame) -> tuple[float, set[tuple[date, str]], int]:
    import backtrader as bt

    p = _params()
    cutoff = p.entry_time.hour * 60 + p.entry_time.minute
    chosen: set[tuple[date, str]] = set()

    class Momentum(bt.Strategy):  # type: ignore[misc]
        def __init__(self) -> None:
            self.state: dict[str, dict[str, Any]] = {
                d._name: {"day": None, "vols": [], "trs": [], "close": None} for d in self.datas
            }
            self.trades_opened = 0

        def _roll(self, st: dict[str, Any]) -> None:
            if st["day"] is None:
                return
            pc = st["prev_close"]
            hi, lo = st["high"], st["low"]
            st["trs"].append(hi - lo if pc is None else max(hi - lo, abs(hi - pc), abs(lo - pc)))
            st["vols"].append(st["vol_pre"])
            st["prev_close"] = st["close"]

        def next(self) -> None:
            candidates = []
            for d in self.datas:
                if len(d) == 0:
                    continue
                dt = d.datetime.datetime(0)
                st = self.state[d._name]
                if st["day"] != dt.date():
                    self._roll(st)
                    if st["day"] is None:
                        st["prev_close"] = None
                    st.update(
                        day=dt.date(),
                        open=d.open[0],
                        high=d.high[0],
                        low=d.low[0],
                        vol_pre=0.0,
                        pv_pre=0.0,
                        last_pre=None,
                        decided=False,
                    )
                st["high"] = max(st["high"], d.high[0])
                st["low"] = min(st["low"], d.low[0])
                st["close"] = d.close[0]
                minute = dt.hour * 60 + dt.minute
                if minute + 1 <= cutoff:
                    st["vol_pre"] += d.volume[0]
                    st["pv_pre"] += (d.high[0] + d.low[0] + d.close[0]) / 3.0 * d.volume[0]
                    st["last_pre"] = d.close[0]
                if minute + 1 == cutoff and not st["decided"]:
                    st["decided"] = True
                    vols, trs, pc = st["vols"], st["trs"], st["prev_close"]
                    if pc is None or len(vols) < p.rvol_lookback_days or len(trs) < p.atr_days:
                        continue
                    atr = sum(trs[-p.atr_days :]) / p.atr_days
                    avg = sum(vols[-p.rvol_lookback_days :]) / p.rvol_lookback_days
                    rvol = st["vol_pre"] / avg if avg > 0 else 0.0
                    gap = st["open"] / pc - 1.0
                    last = st["last_pre"]
                    vwap = st["pv_pre"] / st["vol_pre"] if st["vol_pre"] > 0 else float("inf")
                    if (
                        p.min_gap_pct <= gap <= p.max_gap_pct
                        and rvol >= p.min_rvol
                        and last > vwap
                        and last > st["open"]
                        and last >= p.min_price
                        and atr > 0
                    ):
                        candidates.append((-abs(gap) * rvol, d._name, d, last, atr))
            for _score, name, d, last, atr in sorted(candidates)[: p.max_candidates]:
                chosen.add((d.datetime.date(0), name))
                entry = last + p.entry_buffer_atr * atr
                self.buy_bracket(
                    data=d,
                    size=100,
                    price=entry,
                    stopprice=entry - p.stop_atr * atr,
                    limitprice=entry + p.target_atr * atr,
                    exectype=bt.Order.Limit,
                    valid=None,
                )
                self.trades_opened += 1
            for d in self.datas:  # leave at the last bar of the session
                if (
                    len(d)
                    and self.getposition(d).size
                    and d.datetime.time(0).hour == 15
                    and d.datetime.time(0).minute == 58
                ):
                    self.close(data=d)

    t0 = time.perf_counter()
    cerebro = bt.Cerebro(stdstats=False)
    for sym, part in bars.groupby("symbol", sort=True):
        frame = part.set_index(part["time"].dt.tz_localize(None))[["open", "high", "low", "close", "volume"]]
        cerebro.adddata(bt.feeds.PandasData(dataname=frame, timeframe=bt.TimeFrame.Minutes), name=str(sym))
    cerebro.broker.setcash(1e12)
    cerebro.addstrategy(Momentum)
    [strat] = cerebro.run(runonce=False, preload=True)
    seconds = time.perf_counter() - t0
    return seconds, chosen, int(strat.trades_opened)


# --- the run ---------------------------------------------------------------------------------------


def _agreement(a: set[tuple[date, str]], b: set[tuple[date, str]]) -> str:
    both = len(a & b)
    return f"{both} of {len(a)} / {len(b)} ({'identical' if a == b else 'differ'})"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    args = argv if argv is not None else sys.argv[1:]
    bars = load_bench_bars()
    n = len(bars)
    days = bars["time"].dt.date.nunique()
    print(f"{n:,} bars, {bars['symbol'].nunique()} symbols, {days} sessions")
    warm = bars.loc[bars["time"] < pd.Timestamp("2025-02-01", tz="Asia/Hong_Kong")].reset_index(drop=True)
    run_catalyst(warm)  # calendar and imports, outside the timing
    cat_s, cat_entries, result = min((run_catalyst(bars) for _ in range(3)), key=lambda r: r[0])
    print(f"catalyst: {cat_s:.2f} s, {n / cat_s:,.0f} bars/s, {result.stats['trades']} trades")
    vbt_s = vbt_pairs = vbt_trades = None
    try:
        run_vectorbt(warm)  # numba compilation, outside the timing
        vbt_s, vbt_pairs, vbt_trades = min((run_vectorbt(bars) for _ in range(3)), key=lambda r: r[0])
        print(f"vectorbt: {vbt_s:.2f} s, {n / vbt_s:,.0f} bars/s, {vbt_trades} trades")
    except ImportError as exc:
        print(f"vectorbt unavailable: {exc}")
    bt_s = bt_pairs = bt_trades = None
    try:
        bt_s, bt_pairs, bt_trades = run_backtrader(bars)
        print(f"backtrader: {bt_s:.2f} s, {n / bt_s:,.0f} bars/s, {bt_trades} brackets")
    except ImportError as exc:
        print(f"backtrader unavailable: {exc}")
    rows = [
        f"| Catalyst `run_backtest` (HKEX rules, risk limits, fees) | {cat_s:.2f} s | {n / cat_s:,.0f} | "
        f"{len(cat_entries)} signals, {result.stats['trades']} trades after limits | - |"
    ]
    if vbt_s is not None and vbt_pairs is not None:
        rows.append(
            f"| vectorbt {_version('vectorbt')} `from_signals` | {vbt_s:.2f} s | {n / vbt_s:,.0f} | "
            f"{len(vbt_pairs)} signals, {vbt_trades} trades | {_agreement(cat_entries, vbt_pairs)} |"
        )
    if bt_s is not None and bt_pairs is not None:
        rows.append(
            f"| backtrader {_version('backtrader')} (event-driven) | {bt_s:.2f} s | {n / bt_s:,.0f} | "
            f"{len(bt_pairs)} signals, {bt_trades} brackets | {_agreement(cat_entries, bt_pairs)} |"
        )
    goals = []
    if bt_s is not None:
        ratio = bt_s / cat_s
        goals.append(
            f"vs backtrader: Catalyst is **{ratio:.1f}x** faster (goal >= 20x: "
            f"**{'met' if ratio >= 20 else 'MISSED'}**)"
        )
    if vbt_s is not None:
        ratio = cat_s / vbt_s
        goals.append(
            f"vs vectorbt: Catalyst takes **{ratio:.2f}x** vectorbt's time (goal <= 3x: "
            f"**{'met' if ratio <= 3 else 'MISSED'}**)"
        )
    text = f"""## Backtester (`benchmarks/bench_backtest.py`)

catalyst-momentum ({", ".join(f"{k}={v}" for k, v in PARAMS.items())}, leave at the session close) on
{n:,} one-minute bars: {bars["symbol"].nunique()} stocks x {days} sessions of {YEAR}, from the simulator's
deterministic price model (seed {SEED}). Each engine goes from the raw bars to trades; best of 3 runs
(backtrader: one run), measured side by side in one run on {platform.machine()} / Python
{platform.python_version()} / pandas {pd.__version__} / numpy {np.__version__}, after a warm-up (calendar,
numba compilation). Load average at the end of the run: {_load()} (2 cores shared with other work:
absolute figures vary, the ratios are what the run measures).

| engine | time | bars/s | entries | same (session, symbol) entries as Catalyst's signals |
|---|---|---|---|---|
{chr(10).join(rows)}

{"; ".join(goals)}.

Semantics: all three compute the same rule (gap, relative volume at 10:00, price above VWAP and the
open, ATR bracket, top {_params().max_candidates} by score) and decide at the bar ending 10:00. Only
Catalyst then sizes in board lots by risk, applies the live pre-trade limits (10 positions, one per
symbol, buying power), snaps prices to the spread table, charges HK fees and exits at the last
continuous bar, so trade counts and P&L are not comparable; the entry decisions are. Reproduce:
`.venv/bin/python -m benchmarks.bench_backtest` (the first run also generates and caches the bars).
"""
    print(text)
    if "--no-write" not in args:
        write_section("bench_backtest", text)
    return {"catalyst_s": cat_s, "vectorbt_s": vbt_s, "backtrader_s": bt_s, "bars": n}


def _load() -> str:
    import os

    try:
        return ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on every platform
        return "n/a"


def _version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:  # pragma: no cover - a missing distribution only loses the label
        return "?"


if __name__ == "__main__":
    main()
