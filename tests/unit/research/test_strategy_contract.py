"""Every strategy Catalyst lists keeps the contract (declared parameters, checked output, deterministic,
no look-ahead); so does the file `catalyst strategy new` writes; and the check catches a strategy that
peeks at later bars."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalyst.research.strategy_contract import contract_bars, contract_problems
from catalyst.research.strategy_registry import get_strategy, list_strategies
from catalyst.research.strategy_template import template_source, write_template
from tests.unit.research.own_strategy_files import own_folder, shipped, shipped_names, write_strategy

__all__ = ["own_folder", "shipped"]

BARS = contract_bars()


@pytest.mark.parametrize("name", shipped_names())
def test_every_listed_strategy_keeps_the_contract(shipped: None, name: str) -> None:
    params = {"min_gap_pct": 0.001, "min_rvol": 0.5} if name == "catalyst-momentum" else {}
    assert contract_problems(get_strategy(name, **params), BARS) == []


def test_the_shipped_strategies_folder_holds_the_mean_reversion_example(shipped: None) -> None:
    assert "mean-reversion" in list_strategies()
    assert not get_strategy("mean-reversion", min_z=1.0).signals(BARS).empty  # it finds something to test


def test_the_starting_file_of_strategy_new_keeps_the_contract_and_proposes_trades(own_folder: Path) -> None:
    write_template(own_folder, "my-first-idea")
    strategy = get_strategy("my-first-idea", min_move_pct=0.002)
    assert contract_problems(strategy, BARS) == []
    assert len(strategy.signals(BARS)) > 0


def test_the_starting_file_is_lint_clean_at_the_project_line_length() -> None:
    assert max(len(line) for line in template_source("abc").splitlines()) <= 110


PEEKING = """
require_bars(bars)
rows = []
local = bars["time"].dt.tz_convert(HK_TZ)
for day, g in bars.loc[bars["symbol"] == "700"].assign(day=local.dt.date).groupby("day"):
    at_ = datetime.combine(day, time(10, 0), tzinfo=HK_TZ)
    if at is not None and at_ != to_hk(at):
        continue
    px = float(g["close"].iloc[-1])  # the session's LAST close: not known at 10:00
    rows.append(dict(symbol="700", at=pd.Timestamp(at_), side="BUY", entry=px, stop=px * 0.99,
                     target=px * 1.02, score=1.0, reason="peek"))
return pd.DataFrame(rows, columns=list(SIGNAL_COLUMNS))
"""


def test_the_contract_catches_a_strategy_that_looks_ahead(own_folder: Path) -> None:
    write_strategy(own_folder, "peek", "peeker", PEEKING)
    problems = contract_problems(get_strategy("peeker"), BARS)
    assert problems and problems[0].startswith("look-ahead: at ")


def test_the_contract_names_undeclared_parameters(own_folder: Path) -> None:
    write_strategy(own_folder, "nodefault", "no-default", params="lookback: int")
    from catalyst.research.strategy_contract import _declaration_problems
    from catalyst.research.strategy_registry import strategy_info

    assert "parameter lookback has no default" in _declaration_problems(strategy_info("no-default").cls)
