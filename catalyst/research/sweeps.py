"""Parameter sweeps and walk-forward runs, in parallel on local cores or on a Dask cluster.

``sweep(bars, "catalyst-momentum", {"stop_atr": [1, 1.5], "target_atr": [2, 3]})`` backtests every
combination of the grid and returns one row per parameter set with its summary figures, best
first by ``metric``. ``executor``:

* ``"process"`` (default): a ``concurrent.futures.ProcessPoolExecutor`` over local cores; the bars
  go to each worker once (pool initializer), not once per job;
* ``"serial"``: in this process (debugging, tiny grids);
* ``"dask"``: on a ``dask.distributed`` cluster, for grids larger than one machine. Pass
  ``client=Client("tcp://scheduler:8786")`` (or a ``LocalCluster``'s client), or the scheduler's
  address as a string; with no client a ``LocalCluster`` of ``workers`` processes (default: the
  cores, at most one per parameter set) is started for the sweep and closed after it. The bars are
  scattered to every worker once (``broadcast=True``) and each parameter set is one task; the
  workers need the ``catalyst`` package installed (same version) and no broker or gateway.
  Example::

      from dask.distributed import Client, LocalCluster
      with LocalCluster(n_workers=8, processes=True) as cluster, Client(cluster) as client:
          table = sweep(bars, "catalyst-momentum", grid, executor="dask", client=client)

A tqdm progress bar counts finished parameter sets in every mode (``progress=False`` hides it).
``walk_forward`` splits the sessions into rolling train/test windows, picks the best parameter
set on each train window by sweeping it, and backtests that set on the following test window.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd
import structlog
from tqdm.auto import tqdm

from catalyst.research.backtest_result import BacktestResult
from catalyst.research.backtester import BacktestConfig, run_backtest
from catalyst.research.bar_frame import NS_PER_DAY, local_ns, require_bars
from catalyst.research.errors import BacktestConfigError, StrategyLoadError
from catalyst.research.strategy_loader import StrategySearch
from catalyst.research.strategy_registry import (
    current_search,
    current_timeout,
    get_strategy,
    strategy_info,
    use_search,
)

Executor = Literal["process", "serial", "dask"]
log = structlog.get_logger(__name__)

#: How long a sweep waits for a Dask scheduler named by its address.
DASK_CONNECT_SECONDS = 20.0

#: Summary figures kept per parameter set.
SWEEP_STATS: tuple[str, ...] = (
    "total_return",
    "max_drawdown",
    "sharpe",
    "trades",
    "win_rate",
    "net_pnl",
    "fees",
    "turnover",
    "exposure",
)

_WORKER_BARS: pd.DataFrame | None = None
_WORKER_REF: StrategyRef | None = None
_EPOCH = date(1970, 1, 1).toordinal()


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, in a stable order."""
    if not grid:
        return [{}]
    names = list(grid)
    for name in names:
        if isinstance(grid[name], (str, bytes)) or not isinstance(grid[name], Sequence) or not grid[name]:
            raise BacktestConfigError(
                f"grid[{name!r}] must be a non-empty list of values, got {grid[name]!r}"
            )
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(grid[n] for n in names))]


def backtest_params(
    bars: pd.DataFrame,
    strategy: str,
    params: Mapping[str, Any],
    config: BacktestConfig | None = None,
    base: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One sweep job: backtest ``strategy`` with ``base`` updated by ``params``; the point and its figures."""
    result = run_backtest(bars, get_strategy(strategy, **{**(base or {}), **params}), config)
    return {**params, **{k: result.stats[k] for k in SWEEP_STATS}}


@dataclass(frozen=True)
class StrategyRef:
    """What a worker needs to resolve a name to the parent's code: where to look, and its fingerprint."""

    name: str
    search: StrategySearch
    fingerprint: str
    timeout: float | None = None

    @classmethod
    def here(cls, name: str) -> StrategyRef:
        return cls(name, current_search(), strategy_info(name).fingerprint(), current_timeout())


def same_strategy(ref: StrategyRef) -> None:
    """In a worker: search where the parent did; refuse a name that resolves to other code."""
    if current_search() != ref.search:
        use_search(ref.search, timeout=ref.timeout)
    info = strategy_info(ref.name)
    if info.fingerprint() != ref.fingerprint:
        raise StrategyLoadError(
            f"this worker resolves strategy {ref.name!r} to different code ({info.origin}, sources "
            f"{info.sha256}) than the process that started the sweep; install the same code on every worker"
        )


def _init_worker(bars: pd.DataFrame, ref: StrategyRef) -> None:
    global _WORKER_BARS, _WORKER_REF
    _WORKER_BARS, _WORKER_REF = bars, ref
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))  # warnings only


def _worker_job(
    strategy: str, params: dict[str, Any], config: BacktestConfig | None, base: dict[str, Any]
) -> dict[str, Any]:
    assert _WORKER_BARS is not None and _WORKER_REF is not None, "pool initializer did not run"
    same_strategy(_WORKER_REF)
    return backtest_params(_WORKER_BARS, strategy, params, config, base)


def _dask_job(
    bars: pd.DataFrame,
    ref: StrategyRef,
    params: dict[str, Any],
    config: BacktestConfig | None,
    base: dict[str, Any],
) -> dict[str, Any]:
    same_strategy(ref)
    return backtest_params(bars, ref.name, params, config, base)


def sweep(
    bars: pd.DataFrame,
    strategy: str,
    grid: Mapping[str, Sequence[Any]],
    config: BacktestConfig | None = None,
    *,
    executor: Executor = "process",
    workers: int | None = None,
    client: Any | None = None,
    metric: str = "sharpe",
    params: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Backtest every point of ``grid`` (on top of ``params``); one row per point, best ``metric`` first."""
    require_bars(bars)
    base = dict(params or {})
    get_strategy(strategy, **base)  # unknown names and parameters fail here, not in a worker
    points = grid_points(grid)
    for p in points:
        get_strategy(strategy, **{**base, **p})  # bad grid values fail before any work starts
    rows = list(
        tqdm(
            _run(bars, strategy, points, config, executor, workers, client, base),
            total=len(points),
            desc=f"sweep {strategy}",
            disable=not progress,
        )
    )
    table = pd.DataFrame(rows)
    if metric not in table.columns:
        raise BacktestConfigError(f"metric {metric!r} is not a sweep figure; use one of {SWEEP_STATS}")
    order = list(grid) if grid else []
    return table.sort_values(
        [metric, *order], ascending=[False] + [True] * len(order), kind="mergesort"
    ).reset_index(drop=True)


def _run(
    bars: pd.DataFrame,
    strategy: str,
    points: list[dict[str, Any]],
    config: BacktestConfig | None,
    executor: Executor,
    workers: int | None,
    client: Any | None,
    base: dict[str, Any],
) -> Iterator[dict[str, Any]]:
    if executor == "serial":
        for p in points:
            yield backtest_params(bars, strategy, p, config, base)
    elif executor == "process":
        n = max(1, min(workers or os.cpu_count() or 1, len(points)))
        ref = StrategyRef.here(strategy)
        with ProcessPoolExecutor(max_workers=n, initializer=_init_worker, initargs=(bars, ref)) as pool:
            futures = [pool.submit(_worker_job, strategy, p, config, base) for p in points]
            for fut in as_completed(futures):
                yield fut.result()
    elif executor == "dask":
        from dask.distributed import as_completed as dask_completed

        with _dask_client(client, max(1, min(workers or os.cpu_count() or 1, len(points)))) as dask:
            shared = dask.scatter(bars, broadcast=True)
            ref = StrategyRef.here(strategy)
            futures = [dask.submit(_dask_job, shared, ref, p, config, base, pure=False) for p in points]
            for fut in dask_completed(futures):
                yield fut.result()
    else:
        raise BacktestConfigError(f"executor must be 'process', 'serial' or 'dask', got {executor!r}")


@contextmanager
def _dask_client(client: Any | None, workers: int) -> Iterator[Any]:
    """The trader's client, a client of the scheduler at an address, or a LocalCluster's for this sweep."""
    from dask.distributed import Client, LocalCluster

    if client is not None and not isinstance(client, str):
        yield client
        return
    if isinstance(client, str):
        try:
            remote = Client(client, timeout=DASK_CONNECT_SECONDS)
        except (OSError, TimeoutError, ValueError) as exc:
            raise BacktestConfigError(f"no Dask scheduler answers at {client!r}: {exc}") from exc
        with remote:
            yield remote
        return
    local = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    with local, Client(local) as own:
        log.info("research.sweep.local_cluster", workers=workers, scheduler=str(local.scheduler_address))
        yield own


def compare_sets(
    bars: pd.DataFrame,
    strategy: str,
    sets: Sequence[Mapping[str, Any]],
    config: BacktestConfig | None = None,
    *,
    params: Mapping[str, Any] | None = None,
) -> dict[str, BacktestResult]:
    """Backtest each parameter set (on top of ``params``), labelled "k=v, ..."; none given, none run.

    Every set is checked against the strategy before the first backtest starts."""
    base = dict(params or {})
    built = {_label(p): get_strategy(strategy, **{**base, **p}) for p in sets}
    return {label: run_backtest(bars, strat, config) for label, strat in built.items()}


def compare_table(results: Mapping[str, BacktestResult]) -> pd.DataFrame:
    """One row of summary figures per labelled result (an empty table with the columns for none)."""
    rows = {label: {k: r.stats.get(k) for k in SWEEP_STATS} for label, r in results.items()}
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(SWEEP_STATS))


def _label(point: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in point.items()) or "defaults"


def session_days(bars: pd.DataFrame) -> np.ndarray:
    """Distinct session days of ``bars`` (days since the epoch, HK), ascending."""
    return np.unique(local_ns(bars["time"]) // NS_PER_DAY)


def walk_forward(
    bars: pd.DataFrame,
    strategy: str,
    grid: Mapping[str, Sequence[Any]],
    config: BacktestConfig | None = None,
    *,
    train_sessions: int = 60,
    test_sessions: int = 20,
    metric: str = "sharpe",
    params: Mapping[str, Any] | None = None,
    executor: Executor = "process",
    workers: int | None = None,
    client: Any | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Rolling windows: best ``grid`` point on ``train_sessions``, then tested on the next ``test_sessions``.

    One row per window: its dates, the chosen parameters, the in-sample figure and the
    out-of-sample summary figures (prefixed ``test_``). The test run reads the train window's bars
    for its indicators but places orders only from the test window's first session on
    (``BacktestConfig.trade_from``), with the initial capital.
    """
    if train_sessions < 1 or test_sessions < 1:
        raise BacktestConfigError("train_sessions and test_sessions must be at least 1")
    days = session_days(bars)
    day_of_bar = local_ns(bars["time"]) // NS_PER_DAY
    rows = []
    starts = range(0, max(len(days) - train_sessions - test_sessions + 1, 0), test_sessions)
    for s in tqdm(starts, desc=f"walk-forward {strategy}", disable=not progress):
        train_days = days[s : s + train_sessions]
        test_days = days[s + train_sessions : s + train_sessions + test_sessions]
        train = bars.loc[np.isin(day_of_bar, train_days)].reset_index(drop=True)
        test = bars.loc[(day_of_bar >= train_days[0]) & (day_of_bar <= test_days[-1])].reset_index(drop=True)
        table = sweep(
            train,
            strategy,
            grid,
            config,
            executor=executor,
            workers=workers,
            client=client,
            metric=metric,
            params=params,
            progress=False,
        )
        best = {k: table.iloc[0][k] for k in grid}
        best = {k: (v.item() if hasattr(v, "item") else v) for k, v in best.items()}
        test_config = replace(config or BacktestConfig(), trade_from=_day(test_days[0]))
        full = run_backtest(test, get_strategy(strategy, **{**dict(params or {}), **best}), test_config)
        rows.append(
            {
                "train_start": _day(train_days[0]),
                "test_start": _day(test_days[0]),
                "test_end": _day(test_days[-1]),
                **best,
                f"train_{metric}": float(table.iloc[0][metric]),
                "test_trades": full.stats["trades"],
                "test_net_pnl": full.stats["net_pnl"],
                "test_return": full.stats["total_return"],
                "test_max_drawdown": full.stats["max_drawdown"],
            }
        )
    return pd.DataFrame(rows)


def _day(days_since_epoch: Any) -> date:
    return date.fromordinal(_EPOCH + int(days_since_epoch))
