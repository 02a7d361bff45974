"""The contract every strategy keeps, as one check a test (or the trader) can run on any strategy.

:func:`contract_problems` returns what is wrong (empty: the contract holds) on ``bars``
(:func:`contract_bars` by default: deterministic one-minute bars of three shipped securities):

1. ``name`` is set and ``params_type`` is a frozen dataclass whose every field has a default;
2. ``signals`` returns a frame that passes :func:`~catalyst.research.strategy_checks.check_signals`
   (columns, sides, finite prices on the ladder, known symbols, no duplicates), for the whole
   history and for no bars at all;
3. it is deterministic: a second call returns the same frame;
4. it does not look ahead: at every decision time of the whole-history frame, ``scan`` (which sees
   only the bars complete by then) proposes the very same candidates.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from catalyst.market import HK_TZ
from catalyst.research.errors import ResearchError
from catalyst.research.strategy_base import SIGNAL_COLUMNS, Strategy, candidates_from_signals
from catalyst.research.strategy_checks import check_signals

CONTRACT_SYMBOLS: tuple[str, ...] = ("700", "5", "941")


def contract_bars(sessions: int = 30, seed: int = 11) -> pd.DataFrame:
    """``sessions`` weekdays of one-minute bars (09:30-12:00, 13:00-16:00 HK) of three securities:
    random walks with a few sharp moves, so both trend and reversion strategies find candidates."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2025-03-03", periods=sessions)
    minutes = [m for m in range(9 * 60 + 30, 16 * 60) if not 12 * 60 <= m < 13 * 60]
    frames = []
    for symbol, base in zip(CONTRACT_SYMBOLS, (400.0, 60.0, 80.0), strict=True):
        steps = rng.normal(0, 0.0008, size=len(days) * len(minutes))
        jumps = np.zeros_like(steps)
        jumps[:: len(minutes) * 7] = rng.choice([-0.05, 0.05], size=jumps[:: len(minutes) * 7].size)
        close = base * np.exp(np.cumsum(steps + jumps))
        opens = np.r_[close[0], close[:-1]]
        times = [
            datetime(d.year, d.month, d.day, m // 60, m % 60, tzinfo=HK_TZ) for d in days for m in minutes
        ]
        frames.append(
            pd.DataFrame(
                {
                    "symbol": symbol,
                    "time": pd.DatetimeIndex(times).as_unit("ns"),
                    "open": opens,
                    "high": np.maximum(opens, close) * 1.0005,
                    "low": np.minimum(opens, close) * 0.9995,
                    "close": close,
                    "volume": rng.integers(500, 5000, size=close.size).astype(float),
                }
            )
        )
    return (
        pd.concat(frames, ignore_index=True)
        .sort_values(["symbol", "time"], kind="mergesort")
        .reset_index(drop=True)
    )


def contract_problems(
    strategy: Strategy, bars: pd.DataFrame | None = None, *, max_times: int = 8
) -> list[str]:
    """What breaks the contract for ``strategy`` (an instance); empty when it holds."""
    problems = _declaration_problems(type(strategy))
    bars = contract_bars() if bars is None else bars
    try:
        whole = strategy.signals(bars)
        check_signals(whole, strategy.name)
        check_signals(strategy.signals(bars.iloc[0:0]), strategy.name)
    except Exception as exc:
        return [*problems, f"signals: {type(exc).__name__}: {exc}"]
    again = strategy.signals(bars)
    if not whole.reset_index(drop=True).equals(again.reset_index(drop=True)):
        problems.append("signals is not deterministic: two calls on the same bars differ")
    problems += _look_ahead_problems(strategy, bars, whole, max_times)
    return problems


def _declaration_problems(cls: type[Strategy]) -> list[str]:
    out = []
    if not isinstance(getattr(cls, "name", None), str) or not cls.name.strip():
        out.append("the class attribute `name` is not set")
    params: Any = getattr(cls, "params_type", None)
    if params is None or not dataclasses.is_dataclass(params):
        out.append("params_type is not a dataclass")
    else:
        if not getattr(params, "__dataclass_params__").frozen:  # noqa: B009 - typed as Any for mypy
            out.append(f"{getattr(params, '__name__', params)} is not frozen (@dataclass(frozen=True))")
        for f in dataclasses.fields(params):
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                out.append(f"parameter {f.name} has no default")
    return out


def _look_ahead_problems(
    strategy: Strategy, bars: pd.DataFrame, whole: pd.DataFrame, max_times: int
) -> list[str]:
    times = sorted(pd.unique(whole["at"]))[:max_times] if len(whole) else []
    out = []
    for at in times:
        expected = candidates_from_signals(whole.loc[whole["at"] == at], strategy=strategy.name)
        try:
            got = strategy.scan(bars, pd.Timestamp(at).to_pydatetime())
        except ResearchError as exc:
            return [f"scan at {at}: {exc}"]
        if got != expected:
            out.append(
                f"look-ahead: at {at} the whole-history signals give {[c.symbol for c in expected]} "
                f"but scan on the bars complete by then gives {[c.symbol for c in got]}"
            )
    return out


__all__ = ["CONTRACT_SYMBOLS", "SIGNAL_COLUMNS", "contract_bars", "contract_problems"]
