"""The commented starting file ``catalyst strategy new NAME`` writes into the trader's ``strategies/``.

The file is a working strategy (it keeps the contract of :mod:`catalyst.research.strategy_contract`):
a long when the price at the decision time has moved ``min_move_pct`` above the session's open, with
a stop and a target a fixed fraction away. The trader replaces the idea and keeps the shape.
"""

from __future__ import annotations

import re
from pathlib import Path

from catalyst.research.errors import StrategyLoadError

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

_TEMPLATE = '''""" "{name}": your strategy (written by `catalyst strategy new {name}`; edit freely).

Catalyst finds every Strategy subclass in this folder by its `name`, and the research notebook, the
backtester, sweeps, the trading cycle and the schedule all use the same code for that name:

    catalyst strategy list                                   # is it found? with which parameters?
    catalyst research -p strategy {name} -p params '{{}}'      # backtest it in the research notebook
    catalyst cycle -p strategy {name}                        # one trading cycle (sim by default)

The contract (tests/unit/research/test_strategy_contract.py checks it for every strategy listed):
`signals` is a pure, deterministic function of the bars, uses only bars complete by each decision
time, and returns one row per candidate with the columns of SIGNAL_COLUMNS. Prices are plain
floats: Catalyst snaps them onto the security's spread table (the entry never pays more). A row
with NaN, a non-positive price, a stop or target on the wrong side, an unknown symbol or a second
row for the same symbol and time is an error naming this strategy, and nothing is sent.

The idea here, to be replaced by yours: at `entry_time` buy a stock whose last price is at least
`min_move_pct` above the session's open; stop `stop_pct` below the entry, target `target_pct` above.
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
class {params_class}:
    """The parameters, each with its default (notebooks override them: params = {{"stop_pct": 0.02}})."""

    entry_time: time = time(10, 0)
    """Decision time of day (HK) in backtests; in a live cycle it is the cycle's own time."""
    min_move_pct: float = 0.01
    """How far above the session's open the last price must be (0.01 = 1 %)."""
    stop_pct: float = 0.01
    """Stop distance below the entry, as a fraction of the entry."""
    target_pct: float = 0.02
    """Target distance above the entry, as a fraction of the entry."""
    max_candidates: int = 3
    """At most this many candidates per session, strongest move first."""

    def __post_init__(self) -> None:
        # Refuse values that make no sense with a message naming the parameter.
        if not 0 < self.stop_pct < 1 or self.target_pct <= 0 or self.min_move_pct < 0:
            raise StrategyParamError(
                f"{name}: need 0 < stop_pct < 1, target_pct > 0 and min_move_pct >= 0 (got {{self}})"
            )
        if self.max_candidates < 1:
            raise StrategyParamError(f"{name}: max_candidates must be at least 1 (got {{self}})")


class {class_name}(Strategy):
    """Long when the price has moved above the session's open by the decision time."""

    name: ClassVar[str] = "{name}"
    params_type: ClassVar[type[{params_class}]] = {params_class}
    params: {params_class}

    def signals(self, bars: pd.DataFrame, *, at: datetime | None = None) -> pd.DataFrame:
        """Candidates for every session of `bars` (or only at `at`), as SIGNAL_COLUMNS."""
        require_bars(bars)  # the documented bar schema: symbol, time (HK, tz-aware), open..volume
        p = self.params
        if len(bars) == 0:
            return pd.DataFrame({{c: pd.Series([], dtype=object) for c in SIGNAL_COLUMNS}})
        # 1. The decision time: the parameter in a backtest, the cycle's time when `at` is given.
        cutoff = p.entry_time if at is None else to_hk(at).timetz().replace(tzinfo=None)
        seconds = cutoff.hour * 3600 + cutoff.minute * 60 + cutoff.second
        # 2. Only bars complete by the cutoff (a bar starting at t is complete at t + its length).
        local = bars["time"].dt.tz_convert(HK_TZ)
        frame = bars.assign(day=local.dt.date, tod=(local - local.dt.normalize()).dt.total_seconds())
        known = frame.loc[frame["tod"] + bar_seconds(bars) <= seconds]
        if at is not None:
            known = known.loc[known["day"] == to_hk(at).date()]
        # 3. Per symbol and session: the open and the last price known at the cutoff.
        day = known.groupby(["symbol", "day"]).agg(open=("open", "first"), last=("close", "last"))
        day = day.reset_index()
        day["move"] = day["last"] / day["open"] - 1.0
        picked = day.loc[day["move"] >= p.min_move_pct].copy()
        # 4. The bracket, as raw floats (Catalyst snaps them onto the spread table).
        picked["entry"] = picked["last"]
        picked["stop"] = picked["entry"] * (1 - p.stop_pct)
        picked["target"] = picked["entry"] * (1 + p.target_pct)
        picked["score"] = picked["move"]
        # 5. Best first, at most max_candidates per session; rows sorted by (at, score desc, symbol).
        picked = picked.sort_values(
            ["day", "score", "symbol"], ascending=[True, False, True], kind="mergesort"
        )
        picked = picked.groupby("day", sort=False).head(p.max_candidates)
        ats = [datetime.combine(d, cutoff, tzinfo=HK_TZ) for d in picked["day"]]
        return pd.DataFrame(
            {{
                "symbol": picked["symbol"].to_numpy(),
                "at": pd.DatetimeIndex(ats, tz=HK_TZ).as_unit("ns"),
                "side": np.full(len(picked), "BUY"),
                "entry": picked["entry"].to_numpy(float),
                "stop": picked["stop"].to_numpy(float),
                "target": picked["target"].to_numpy(float),
                "score": picked["score"].to_numpy(float),
                "reason": [
                    f"up {{m:+.2%}} from the open {{o:g}}"
                    for m, o in zip(picked["move"], picked["open"], strict=True)
                ],
            }}
        )
'''


def module_stem(name: str) -> str:
    """The file name (without ``.py``) for a strategy name: ``my-idea`` -> ``my_idea``."""
    return name.replace("-", "_")


def template_source(name: str) -> str:
    """The starting file's text for strategy ``name`` (lowercase words joined by hyphens)."""
    if not NAME_PATTERN.match(name):
        raise StrategyLoadError(
            f"strategy name {name!r} must be lowercase letters and digits in words joined by hyphens "
            "(e.g. my-breakout), starting with a letter"
        )
    camel = "".join(part.capitalize() for part in name.split("-"))
    return _TEMPLATE.format(name=name, class_name=f"{camel}Strategy", params_class=f"{camel}Params")


def write_template(folder: Path, name: str) -> Path:
    """Write the starting file for ``name`` into ``folder`` (created); an existing file is refused."""
    text = template_source(name)
    path = folder / f"{module_stem(name)}.py"
    if path.exists():
        raise StrategyLoadError(f"{path} exists already; pick another name or edit that file")
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
