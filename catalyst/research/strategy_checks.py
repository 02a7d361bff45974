"""What a strategy returned, checked before any of it reaches sizing or the pre-trade checks.

:func:`call_signals` runs ``strategy.signals`` under a time limit and turns anything it raises into
a :class:`StrategyOutputError`; :func:`check_signals` refuses a frame that breaks the contract of
``SIGNAL_COLUMNS``. Both name the strategy and what it returned, so a trader's bug reads as one
line in the cycle report or the backtest, and nothing is sent. The checks, per row:

* ``side`` is BUY or SELL; the prices are finite numbers above zero and on the spread table's range;
* the bracket is on the right side before snapping (a BUY needs stop < entry < target);
* ``symbol`` is a security of the active universe; ``score`` is a finite number;
* no (symbol, at) appears twice.

In-range prices between two ticks are not errors: ``candidates_from_signals`` snaps them for their
role (entry never pays more, stop and target round toward the entry), as documented.
"""

from __future__ import annotations

import math
import threading
from datetime import datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from catalyst.domain import Side
from catalyst.market import security
from catalyst.research.research_errors import StrategyOutputError
from catalyst.research.strategy_base import SIGNAL_COLUMNS, Strategy

#: The highest price of HKEX's spread tables (HKD); a price above it is not on any ladder.
TOP_OF_LADDER = Decimal("9995")


def call_signals(
    strategy: Strategy, bars: pd.DataFrame, *, at: datetime | None, timeout: float | None
) -> pd.DataFrame:
    """``strategy.signals(bars, at=at)``, checked; an error names the strategy, never its traceback."""
    frame = _timed(strategy, bars, at, timeout)
    check_signals(frame, strategy.name)
    return frame


def _timed(strategy: Strategy, bars: pd.DataFrame, at: datetime | None, timeout: float | None) -> Any:
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["out"] = strategy.signals(bars, at=at)
        except BaseException as exc:
            box["exc"] = exc

    if timeout is None:
        run()
    else:
        worker = threading.Thread(target=run, name=f"strategy-{strategy.name}", daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            raise StrategyOutputError(
                f"strategy {strategy.name!r} took longer than {timeout:g} s "
                "(research.strategy_timeout_seconds); nothing was sent"
            )
    exc = box.get("exc")
    if exc is not None:
        if isinstance(exc, StrategyOutputError):
            raise exc
        raise StrategyOutputError(
            f"strategy {strategy.name!r} raised {type(exc).__name__}: {exc}; nothing was sent"
        ) from exc
    return box.get("out")


def check_signals(frame: Any, name: str) -> None:
    """Refuse a signal frame that breaks the contract; the message names the strategy and the row."""
    if not isinstance(frame, pd.DataFrame):
        raise StrategyOutputError(
            f"strategy {name!r} returned {type(frame).__name__}, not a pandas DataFrame of "
            f"{', '.join(SIGNAL_COLUMNS)}"
        )
    missing = [c for c in SIGNAL_COLUMNS if c not in frame.columns]
    if missing:
        raise StrategyOutputError(f"strategy {name!r} returned a frame without column(s) {missing}")
    seen: dict[tuple[str, Any], int] = {}
    records: list[dict[str, Any]] = frame[list(SIGNAL_COLUMNS)].to_dict("records")  # type: ignore[assignment]
    for i, row in enumerate(records):
        problem = _row_problem(row)
        if problem:
            raise StrategyOutputError(
                f"strategy {name!r} row {i} ({_brief(row)}): {problem}; nothing was sent"
            )
        key = (str(row["symbol"]), pd.Timestamp(row["at"]))
        if key in seen:
            raise StrategyOutputError(
                f"strategy {name!r} proposed {key[0]} twice at {key[1]} (rows {seen[key]} and {i}); "
                "one candidate per symbol and decision time; nothing was sent"
            )
        seen[key] = i


def _row_problem(row: dict[str, Any]) -> str:
    try:
        side = Side.parse(str(row["side"]))
    except ValueError:
        return f"side {row['side']!r} is neither BUY nor SELL"
    prices: dict[str, float] = {}
    for role in ("entry", "stop", "target"):
        value = row[role]
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            return f"{role} {value!r} is not a number"
        x = float(value)
        if not math.isfinite(x):
            return f"{role} is {x} (not a finite price)"
        if x <= 0 or Decimal(str(x)) > TOP_OF_LADDER:
            return f"{role} {x:g} is off the spread table (prices lie between 0.01 and {TOP_OF_LADDER})"
        prices[role] = x
    lo, hi = ("stop", "target") if side is Side.BUY else ("target", "stop")
    if not prices[lo] < prices["entry"] < prices[hi]:
        return (
            f"a {side.value} bracket needs {lo} < entry < {hi}, got entry {prices['entry']:g} "
            f"stop {prices['stop']:g} target {prices['target']:g} (wrong side)"
        )
    score = row["score"]
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(float(score)):
        return f"score {score!r} is not a finite number"
    try:
        security(str(row["symbol"]))
    except Exception as exc:  # the market's error names the symbol and the universe
        return f"unknown symbol: {exc}"
    try:
        pd.Timestamp(row["at"]).tz_convert("Asia/Hong_Kong")
    except (TypeError, ValueError):
        return f"at {row['at']!r} is not a time-zone-aware time"
    return ""


def _brief(row: dict[str, Any]) -> str:
    return f"{row.get('symbol')!r} {row.get('side')!r} entry {row.get('entry')!r}"
