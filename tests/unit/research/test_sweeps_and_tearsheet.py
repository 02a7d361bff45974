"""Parameter sweeps (serial, local process pool, Dask), walk-forward, the tear sheet, backtest_day."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import plotly.graph_objects as go
import pytest
from research_fixtures import hk, momentum_history

from catalyst.research.backtester import BacktestConfig, backtest_day, run_backtest
from catalyst.research.errors import BacktestConfigError, StrategyParamError
from catalyst.research.strategy_registry import get_strategy
from catalyst.research.sweeps import grid_points, sweep, walk_forward
from catalyst.research.tearsheet import compare_equity, tearsheet

GRID = {"stop_atr": [1.0, 2.0], "target_atr": [2.0, 3.0]}


def test_grid_points_are_every_combination_in_a_stable_order() -> None:
    assert grid_points({"a": [1, 2], "b": ["x"]}) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]


def test_a_bad_parameter_in_the_grid_fails_before_any_backtest_runs() -> None:
    with pytest.raises(StrategyParamError):
        sweep(momentum_history(), "catalyst-momentum", {"stop_atr": [0.0]}, executor="serial", progress=False)


def test_serial_sweep_gives_one_row_per_parameter_set_best_first() -> None:
    table = sweep(momentum_history(), "catalyst-momentum", GRID, executor="serial", progress=False)
    assert len(table) == 4
    assert table["sharpe"].is_monotonic_decreasing


def test_process_pool_sweep_matches_the_serial_sweep() -> None:
    bars = momentum_history()
    serial = sweep(bars, "catalyst-momentum", GRID, executor="serial", progress=False)
    pooled = sweep(bars, "catalyst-momentum", GRID, executor="process", workers=2, progress=False)
    assert serial[["stop_atr", "target_atr", "net_pnl"]].equals(pooled[["stop_atr", "target_atr", "net_pnl"]])


@pytest.mark.slow
def test_dask_sweep_on_a_local_cluster_matches_the_serial_sweep() -> None:
    from dask.distributed import Client, LocalCluster

    bars = momentum_history()
    grid = {"stop_atr": [1.0, 2.0]}
    serial = sweep(bars, "catalyst-momentum", grid, executor="serial", progress=False)
    with (
        LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        distributed = sweep(bars, "catalyst-momentum", grid, executor="dask", client=client, progress=False)
    assert serial[["stop_atr", "net_pnl"]].equals(distributed[["stop_atr", "net_pnl"]])


@pytest.mark.slow
def test_dask_sweep_without_a_client_runs_on_a_local_cluster_of_its_own() -> None:
    bars = momentum_history()
    grid = {"stop_atr": [1.0, 2.0]}
    serial = sweep(bars, "catalyst-momentum", grid, executor="serial", progress=False)
    own = sweep(bars, "catalyst-momentum", grid, executor="dask", workers=1, progress=False)
    assert serial[["stop_atr", "net_pnl"]].equals(own[["stop_atr", "net_pnl"]])


def test_dask_sweep_on_a_scheduler_address_that_is_not_one_names_it() -> None:
    with pytest.raises(BacktestConfigError, match="no Dask scheduler answers at 'scheduler-without-port'"):
        sweep(
            momentum_history(),
            "catalyst-momentum",
            {"stop_atr": [1.0]},
            executor="dask",
            client="scheduler-without-port",
            progress=False,
        )


def test_walk_forward_picks_on_train_windows_and_reports_each_test_window() -> None:
    table = walk_forward(
        momentum_history(),
        "catalyst-momentum",
        {"stop_atr": [1.0, 2.0]},
        train_sessions=12,
        test_sessions=4,
        executor="serial",
        progress=False,
    )
    assert len(table) == 1
    assert {"train_start", "test_start", "test_end", "stop_atr", "test_return"} <= set(table.columns)


def test_tearsheet_is_a_plotly_figure_with_equity_and_summary() -> None:
    result = run_backtest(momentum_history(), get_strategy("catalyst-momentum"))
    fig = tearsheet(result)
    assert isinstance(fig, go.Figure)
    assert {"equity", "drawdown", "exposure"} <= {t.name for t in fig.data}


def test_compare_equity_draws_one_line_per_parameter_set() -> None:
    bars = momentum_history()
    results = {
        f"stop {s}": run_backtest(bars, get_strategy("catalyst-momentum", stop_atr=s)) for s in (1.0, 2.0)
    }
    assert [t.name for t in compare_equity(results).data] == ["stop 1.0", "stop 2.0"]


def test_backtest_day_sends_what_the_backtest_placed_that_day() -> None:
    bars = momentum_history()
    strat = get_strategy("catalyst-momentum")
    at = hk("2025-03-24 10:00")
    [intent] = backtest_day(bars, strat, at, equity=Decimal("1000000"))
    [trade] = run_backtest(bars, strat, BacktestConfig()).trades.to_dict("records")
    assert (intent.symbol, intent.side.value, intent.quantity, intent.entry, intent.stop, intent.target) == (
        trade["symbol"],
        trade["side"],
        trade["quantity"],
        trade["entry_limit"],
        trade["stop"],
        trade["target"],
    )


def test_a_backtest_without_trades_still_gets_a_tearsheet_file(tmp_path: Path) -> None:
    from catalyst.research.tearsheet import write_tearsheet

    result = run_backtest(momentum_history(), get_strategy("catalyst-momentum", min_gap_pct=0.11))
    assert result.stats["trades"] == 0
    path = write_tearsheet(result, tmp_path / "sheet.html")
    assert "plotly" in path.read_text()
