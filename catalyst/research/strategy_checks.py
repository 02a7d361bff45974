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

import numpy as np
import pandas as pd

from catalyst.domain import Side
from catalyst.domain.side import SIDE_TABLE
from catalyst.market import security
from catalyst.research.errors import StrategyOutputError
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
    if len(frame) == 0:
        return
    columns = frame[list(SIGNAL_COLUMNS)].reset_index(drop=True)
    for i in np.flatnonzero(_suspect_rows(columns)):  # vectorised first; each suspect row explained
        row: dict[str, Any] = {str(k): v for k, v in columns.iloc[int(i)].items()}
        problem = _row_problem(row)
        if problem:
            raise StrategyOutputError(
                f"strategy {name!r} row {int(i)} ({_brief(row)}): {problem}; nothing was sent"
            )
    keys = pd.DataFrame({"symbol": columns["symbol"].astype(str), "at": columns["at"]})
    twice = keys.duplicated(keep=False).to_numpy()
    if twice.any():
        first = int(np.flatnonzero(twice)[0])
        same = keys.eq(keys.iloc[first]).all(axis=1).to_numpy()
        a, b = (int(j) for j in np.flatnonzero(same)[:2])
        raise StrategyOutputError(
            f"strategy {name!r} proposed {keys['symbol'][a]} twice at {pd.Timestamp(keys['at'][a])} "
            f"(rows {a} and {b}); one candidate per symbol and decision time; nothing was sent"
        )


def _suspect_rows(frame: pd.DataFrame) -> np.ndarray:
    """True for every row that may break the contract (all rows when the columns are not plain
    numbers, so that each is looked at one by one)."""
    n = len(frame)
    everything = np.ones(n, dtype=bool)
    numeric = ("entry", "stop", "target", "score")
    if any(
        not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]) for c in numeric
    ):
        return everything
    if not isinstance(frame["at"].dtype, pd.DatetimeTZDtype):
        return everything
    entry, stop, target, score = (frame[c].to_numpy(np.float64) for c in numeric)
    sides = frame["side"].astype(str).str.strip().str.lower().map(SIDE_TABLE)
    buy = (sides == Side.BUY).to_numpy()
    sell = (sides == Side.SELL).to_numpy()
    prices = np.vstack([entry, stop, target])
    top = float(TOP_OF_LADDER)
    on_table = np.isfinite(prices).all(axis=0) & (prices > 0).all(axis=0) & (prices <= top).all(axis=0)
    ordered = (buy & (stop < entry) & (entry < target)) | (sell & (target < entry) & (entry < stop))
    known = {str(sym): _known(str(sym)) for sym in pd.unique(frame["symbol"])}
    listed = frame["symbol"].astype(str).map(known).to_numpy(dtype=bool)
    ok = on_table & ordered & np.isfinite(score) & listed
    return ~ok


def _known(symbol: str) -> bool:
    try:
        security(symbol)
    except Exception:
        return False
    return True


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
