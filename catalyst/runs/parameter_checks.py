"""The values of a run's parameters, checked the way its notebook will use them, before it starts.

A type check (:mod:`catalyst.runs.parameters`) lets ``-p universe 99999`` through (it is text);
the notebook would then start, connect and fail in its third cell. Here the same validators the
notebook calls (the cycle's request and limits, the strategy registry, the review's period, the
market's universe) run first, so a bad value is refused with its name before any folder exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from catalyst.errors import CatalystError
from catalyst.runs.errors import BadRunParameterError

Check = Callable[[Mapping[str, Any], Any], None]

_SWEEP_EXECUTORS = ("serial", "process", "dask")


def _cycle(values: Mapping[str, Any], settings: Any) -> None:
    from catalyst.cycle.request import CycleRequest, as_universe, limits_with_overrides
    from catalyst.research.strategy_registry import get_strategy
    from catalyst.risk.limits import RiskLimits

    request = CycleRequest(
        run_id="parameter-check",
        strategy=values["strategy"],
        strategy_params=values["strategy_params"],
        universe=as_universe(values["universe"]),
        limit_overrides=values["limit_overrides"],
        dry_run=values["dry_run"],
        lookback_days=values["lookback_days"],
    )
    request.symbols()
    get_strategy(request.strategy, **dict(request.strategy_params))
    limits_with_overrides(RiskLimits.from_settings(settings), request.limit_overrides)


def _review(values: Mapping[str, Any], settings: Any) -> None:
    from catalyst.runs.review_report import review_period

    review_period(values["day"], values["days"])


def _research(values: Mapping[str, Any], settings: Any) -> None:
    from catalyst.market import security
    from catalyst.research.bar_sources import DATA_SOURCES
    from catalyst.research.strategy_registry import get_strategy

    for raw in str(values["symbols"]).split(","):
        if raw.strip():
            security(raw.strip())
    for name in ("start", "end"):
        try:
            date.fromisoformat(values[name])
        except ValueError:
            raise BadRunParameterError(f"{name} must be YYYY-MM-DD, got {values[name]!r}") from None
    if values["start"] > values["end"]:
        raise BadRunParameterError(f"start {values['start']} is after end {values['end']}")
    if values["data_source"] not in DATA_SOURCES:
        raise BadRunParameterError(
            f"data_source must be one of {', '.join(DATA_SOURCES)}, got {values['data_source']!r}"
        )
    if values["data_source"] == "file" and not values["bars_file"]:
        raise BadRunParameterError("data_source file needs -p bars_file PATH")
    if values["sweep_executor"] not in _SWEEP_EXECUTORS:
        raise BadRunParameterError(
            f"sweep_executor must be one of {', '.join(_SWEEP_EXECUTORS)}, got {values['sweep_executor']!r}"
        )
    _research_parameter_sets(values)


def _research_parameter_sets(values: Mapping[str, Any]) -> None:
    """The strategy with its ``params``, and with each ``compare`` set and ``grid`` point on top."""
    from catalyst.research.strategy_registry import get_strategy
    from catalyst.research.sweeps import grid_points

    base = dict(values["params"])
    get_strategy(values["strategy"], **base)
    sets = values.get("compare") or []
    if not isinstance(sets, list) or not all(isinstance(p, dict) for p in sets):
        raise BadRunParameterError(f"compare must be a list of parameter sets (JSON objects), got {sets!r}")
    grid = values.get("grid") or {}
    if not isinstance(grid, dict):
        raise BadRunParameterError(f"grid must map parameter names to lists of values, got {grid!r}")
    for where, point in [*(("compare", p) for p in sets), *(("grid", p) for p in grid_points(grid))]:
        try:
            get_strategy(values["strategy"], **{**base, **point})
        except CatalystError as exc:
            raise BadRunParameterError(f"{where} set {point}: {exc}") from exc


#: Per run kind: the check, and the names it reads (a notebook that lacks one is not checked).
CHECKS: dict[str, tuple[Check, frozenset[str]]] = {
    "cycle": (
        _cycle,
        frozenset({"strategy", "strategy_params", "universe", "limit_overrides", "dry_run", "lookback_days"}),
    ),
    "review": (_review, frozenset({"day", "days"})),
    "research": (
        _research,
        frozenset(
            {"symbols", "start", "end", "data_source", "bars_file", "sweep_executor", "strategy", "params"}
        ),
    ),
}


def check_values(
    kind: str, given: Mapping[str, Any], defaults: Mapping[str, Any], settings: Any, *, notebook: str
) -> None:
    """Refuse values the notebook would refuse (only when something was given: defaults are trusted)."""
    found = CHECKS.get(kind)
    if found is None or not given:
        return
    check, names = found
    values = {**defaults, **given}
    if not names <= set(values):  # another notebook (--notebook): its own cells judge its values
        return
    try:
        check(values, settings)
    except BadRunParameterError:
        raise
    except CatalystError as exc:
        raise BadRunParameterError(f"{notebook}: {exc}") from exc
