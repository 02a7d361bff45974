"""The strategy interface shared by research and the trading cycle.

A strategy is a pure, deterministic function of bars: ``scan(bars, at) -> list[Candidate]``.
The trading cycle calls it with the bars it has at ``at``; the backtester calls the vectorised
``signals(bars)`` once for the whole history and turns each session's rows into candidates with
the same :func:`candidates_from_signals`, so a backtest and a live cycle see identical candidates
for identical bars (``scan`` is ``signals`` restricted to one decision time).

``signals`` returns a frame with :data:`SIGNAL_COLUMNS`: one row per candidate, with raw float
prices. :func:`candidates_from_signals` snaps every price for its role with
``catalyst.market.snap_for_role`` on the security's own dated spread table (entry never pays more,
stop and target round toward the entry), and drops a row whose bracket does not survive snapping.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Final

import pandas as pd
import structlog

from catalyst.domain import Candidate, Side
from catalyst.market import HK_TZ, security, snap_for_role, to_hk
from catalyst.market.errors import PriceOutOfRangeError
from catalyst.research.bar_frame import bar_seconds, require_bars
from catalyst.research.errors import StrategyParamError

log = structlog.get_logger(__name__)

#: Columns of the frame ``Strategy.signals`` returns (prices are raw floats, not yet snapped).
SIGNAL_COLUMNS: Final[tuple[str, ...]] = (
    "symbol",
    "at",
    "side",
    "entry",
    "stop",
    "target",
    "score",
    "reason",
)


def _dec(x: float) -> Decimal:
    return Decimal(f"{x:.6f}")


def candidates_from_signals(signals: pd.DataFrame, *, strategy: str = "") -> list[Candidate]:
    """Snap a signal frame's rows into Candidates, in the frame's order.

    A row whose stop or target lands on (or across) the entry after snapping, or whose prices fall
    off the spread table, is dropped and logged (``research.candidate.dropped``).
    """
    out: list[Candidate] = []
    for row in signals.to_dict("records"):
        side = Side.parse(str(row["side"]))
        at = to_hk(pd.Timestamp(row["at"]).to_pydatetime())
        sec = security(str(row["symbol"]))
        try:
            entry = snap_for_role(_dec(row["entry"]), "entry", side, on=at, table=sec.spread_table)
            stop = snap_for_role(_dec(row["stop"]), "stop", side, on=at, table=sec.spread_table)
            target = snap_for_role(_dec(row["target"]), "target", side, on=at, table=sec.spread_table)
            cand = Candidate(
                symbol=sec.symbol,
                side=side,
                entry=entry,
                stop=stop,
                target=target,
                score=float(row["score"]),
                reason=str(row["reason"]),
                at=at,
                strategy=strategy,
            )
        except (ValueError, PriceOutOfRangeError) as exc:
            log.info(
                "research.candidate.dropped",
                symbol=str(row["symbol"]),
                at=at.isoformat(),
                side=side.value,
                reason=str(exc),
            )
            continue
        out.append(cand)
    return out


def visible_bars(bars: pd.DataFrame, at: datetime) -> pd.DataFrame:
    """The bars complete by ``at``: a bar starting at t is visible once t + bar length <= at."""
    length = pd.Timedelta(seconds=bar_seconds(bars))
    cutoff = pd.Timestamp(to_hk(at))
    return bars.loc[bars["time"] + length <= cutoff].reset_index(drop=True)


def last_prices(bars: pd.DataFrame, at: datetime, symbols: Iterable[str]) -> dict[str, Decimal]:
    """Each symbol's last traded price at ``at``: the close of its last bar complete by then (what the
    strategy saw). The decision plans take-profits from it; the cycle and the backtester use this
    same definition, so they plan the same target."""
    wanted = set(symbols)
    seen = visible_bars(bars, at)
    seen = seen.loc[seen["symbol"].astype(str).isin(wanted)]
    last = seen.sort_values("time", kind="mergesort").groupby("symbol", observed=True)["close"].last()
    return {str(sym): _dec(float(close)) for sym, close in last.items()}


class Strategy(ABC):
    """Base of every strategy. Subclasses set ``name``, ``params_type`` and implement ``signals``.

    ``params`` is an instance of ``params_type``: a frozen dataclass whose fields are the
    strategy's documented parameters with their defaults.
    """

    name: ClassVar[str] = ""
    params_type: ClassVar[type[Any]]
    #: Seconds ``signals`` may take before it is an error (``get_strategy`` sets the setting's value).
    signal_timeout: float | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for final in ("scan", "checked_signals"):
            if final in cls.__dict__:
                raise TypeError(
                    f"{cls.__qualname__} overrides Strategy.{final}; a strategy implements `signals` only, "
                    "so the cycle and the backtest check its output the same way"
                )

    def __init__(self, params: Any | None = None, **overrides: Any) -> None:
        base = params if params is not None else self.params_type()
        if not isinstance(base, self.params_type):
            raise StrategyParamError(
                f"{self.name} takes {self.params_type.__name__} parameters, got {type(base).__name__}"
            )
        self.params = replace_params(base, overrides) if overrides else base

    @abstractmethod
    def signals(self, bars: pd.DataFrame, *, at: datetime | None = None) -> pd.DataFrame:
        """Candidates for every session in ``bars`` (or only at ``at``), as :data:`SIGNAL_COLUMNS`.

        Must be pure and deterministic; rows sorted by (at, score descending, symbol).
        """

    def checked_signals(self, bars: pd.DataFrame, *, at: datetime | None = None) -> pd.DataFrame:
        """``signals`` under ``signal_timeout``, its frame checked (``strategy_checks``): what the
        backtester and ``scan`` use, so a bad strategy is an error before anything is sized."""
        from catalyst.research.strategy_checks import call_signals

        return call_signals(self, bars, at=at, timeout=self.signal_timeout)

    def scan(self, bars: pd.DataFrame, at: datetime) -> list[Candidate]:
        """The candidates at ``at``, from the bars complete by then (later bars are ignored)."""
        require_bars(bars)
        at_hk = to_hk(at)
        frame = self.checked_signals(visible_bars(bars, at_hk), at=at_hk)
        frame = frame.loc[frame["at"] == pd.Timestamp(at_hk)]
        cands = candidates_from_signals(frame, strategy=self.name)
        log.info(
            "research.scan",
            strategy=self.name,
            at=at_hk.isoformat(),
            candidates=len(cands),
            symbols=[c.symbol for c in cands],
        )
        return cands

    def describe(self) -> dict[str, Any]:
        """Name and parameter values, for notebooks and run manifests."""
        return {"strategy": self.name, **{f.name: getattr(self.params, f.name) for f in fields(self.params)}}


def replace_params(params: Any, overrides: Mapping[str, Any]) -> Any:
    """A copy of the frozen ``params`` with ``overrides``; unknown names raise StrategyParamError.

    Values are coerced to the field's type where papermill hands strings or ints ("10:00" for a
    time, 2 for a float), then the dataclass validates ranges in ``__post_init__``.
    """
    known = {f.name: f for f in fields(params)}
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise StrategyParamError(
            f"unknown parameter(s) {unknown} for {type(params).__name__}; known: {sorted(known)}"
        )
    values = {name: getattr(params, name) for name in known}
    for name, value in overrides.items():
        values[name] = _coerce(value, getattr(params, name), name)
    try:
        return type(params)(**values)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, StrategyParamError):
            raise
        raise StrategyParamError(f"{type(params).__name__}: {exc}") from exc


def _coerce(value: Any, default: Any, name: str) -> Any:
    from datetime import time

    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                return {"true": True, "false": False}[value.strip().lower()]
            return bool(value)
        if isinstance(default, time) and isinstance(value, str):
            return time.fromisoformat(value)
        if isinstance(default, float) and isinstance(value, (int, float, str)):
            return float(value)
        if isinstance(default, int) and isinstance(value, (int, str)):
            return int(value)
    except (KeyError, ValueError) as exc:
        raise StrategyParamError(
            f"parameter {name}={value!r} cannot be read as {type(default).__name__}"
        ) from exc
    return value


def session_decision_time(day: Any, at_time: Any) -> datetime:
    """The tz-aware HK datetime of ``at_time`` on ``day`` (a date)."""
    return datetime.combine(day, at_time, tzinfo=HK_TZ)


__all__ = [
    "SIGNAL_COLUMNS",
    "Candidate",
    "Strategy",
    "candidates_from_signals",
    "replace_params",
    "session_decision_time",
    "visible_bars",
]
