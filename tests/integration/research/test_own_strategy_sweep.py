"""A sweep of a strategy from a temporary strategies/ folder runs on a Dask LocalCluster (worker
processes started fresh, with none of this process's registry) and on a process pool: every worker
resolves the name to the same file, and a worker that would resolve it to other code refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalyst.research import sweep
from catalyst.research.errors import StrategyLoadError
from catalyst.research.strategy_contract import contract_bars
from catalyst.research.strategy_registry import strategy_info
from catalyst.research.sweeps import StrategyRef, same_strategy
from tests.unit.research.own_strategy_files import own_folder, write_strategy

__all__ = ["own_folder"]

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GRID = {"lookback": [2, 3]}


def test_a_sweep_of_an_own_strategy_runs_on_a_dask_local_cluster(own_folder: Path) -> None:
    from dask.distributed import Client, LocalCluster

    write_strategy(own_folder, "swept", "swept-idea")
    bars = contract_bars(sessions=6)
    with (
        LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        table = sweep(bars, "swept-idea", GRID, executor="dask", client=client, progress=False)
        imported = client.run(_imported_own_files)
    assert sorted(table["lookback"]) == [2, 3]
    assert (table["trades"] > 0).all()  # it traded, so the workers really ran the file's code
    assert [sorted(v) for v in imported.values()] == [["swept"]]  # the worker imported the file itself


def _imported_own_files() -> list[str]:
    import sys

    return [k.rsplit(".", 1)[1] for k in sys.modules if k.startswith("catalyst_strategies.")]


def test_a_sweep_of_an_own_strategy_runs_on_a_process_pool(own_folder: Path) -> None:
    write_strategy(own_folder, "swept", "swept-idea")
    table = sweep(
        contract_bars(sessions=6), "swept-idea", GRID, executor="process", workers=2, progress=False
    )
    assert sorted(table["lookback"]) == [2, 3] and (table["trades"] > 0).all()


def test_a_worker_that_resolves_the_name_to_other_code_refuses(own_folder: Path) -> None:
    write_strategy(own_folder, "swept", "swept-idea")
    ref = StrategyRef.here("swept-idea")
    assert ref.fingerprint == strategy_info("swept-idea").fingerprint()
    same_strategy(ref)  # the same code: fine
    write_strategy(own_folder, "swept", "swept-idea", params="lookback: int = 4")  # edited since
    with pytest.raises(StrategyLoadError, match="resolves strategy 'swept-idea' to different code"):
        same_strategy(ref)
