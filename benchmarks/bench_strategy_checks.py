"""Benchmark: what checking a strategy's output costs (``research/strategy_checks``), side by side.

In one run: ``check_signals`` on N signal rows against ``candidates_from_signals`` (the snapping
every row goes through anyway), and a momentum backtest on the simulator's prices (5 securities,
one quarter of one-minute bars) with the share of its time spent in the checks. Writes its section
of BENCHMARKS.md. Run: ``.venv/bin/python -m benchmarks.bench_strategy_checks [N]``.
"""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Callable
from datetime import datetime

import pandas as pd
import structlog

from benchmarks.benchmarks_md import write_section
from catalyst.market import HK_TZ


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def signal_rows(n: int) -> pd.DataFrame:
    syms = ["700", "5", "941", "1299", "9988"]
    days = pd.bdate_range("2024-01-02", periods=max(n // len(syms), 1))
    rows = [
        {"symbol": s, "at": pd.Timestamp(d.replace(hour=10), tz=HK_TZ), "side": "BUY", "entry": 100.03,
         "stop": 98.97, "target": 102.11, "score": 1.0, "reason": "bench"}
        for d in days for s in syms
    ]  # fmt: skip
    return pd.DataFrame(rows[:n])


def main() -> int:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))
    from catalyst.research import bars_from_records, get_strategy, run_backtest
    from catalyst.research.strategy_base import candidates_from_signals
    from catalyst.research.strategy_checks import check_signals
    from catalyst.sim.engine.prices import PriceModel

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    frame = signal_rows(n)
    t_check = timed(lambda: check_signals(frame, "bench"))
    t_snap = timed(lambda: candidates_from_signals(frame))

    model = PriceModel(7)
    t0, t1 = (datetime(2025, m, d, tzinfo=HK_TZ).timestamp() for m, d in ((1, 2), (3, 31)))
    symbols = ["700", "5", "941", "1299", "9988"]
    bars, _ = bars_from_records({s: model.bars_between(s, t0, t1, 60) for s in symbols}, seconds_per_bar=60)
    strategy = get_strategy("catalyst-momentum", min_gap_pct=0.0, min_rvol=0.5)
    signals = strategy.signals(bars)
    t_bt = timed(lambda: run_backtest(bars, strategy), repeat=2)
    t_bt_check = timed(lambda: check_signals(signals, strategy.name))

    text = f"""## Checking a strategy's output (`benchmarks/bench_strategy_checks.py`)

Measured side by side in one run on {platform.machine()} / Python {platform.python_version()}.

| measure | time | ratio |
|---|---|---|
| `check_signals`, {n:,} rows | {t_check * 1000:.1f} ms | {t_check / t_snap:.2f} x the snapping |
| `candidates_from_signals` (snapping), {n:,} rows | {t_snap * 1000:.1f} ms | 1.00 x |
| momentum backtest, {len(bars):,} 1-min bars, {len(signals)} signals | {t_bt:.3f} s | 1.00 x |
| of which the checks | {t_bt_check * 1000:.1f} ms | {t_bt_check / t_bt:.3f} x the backtest |

Reproduce: `.venv/bin/python -m benchmarks.bench_strategy_checks {n}`.
"""
    write_section("bench_strategy_checks", text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
