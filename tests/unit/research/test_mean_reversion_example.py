"""The example strategy shipped in strategies/ (mean-reversion): a stock stretched below its recent mean
is bought with the mean as target; a calm one is left alone; shorts only when allowed; it backtests."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from catalyst.domain import Side
from catalyst.research import run_backtest
from catalyst.research.strategy_contract import contract_bars
from catalyst.research.strategy_registry import get_strategy, strategy_info, use_search
from tests.unit.research.own_strategy_files import SHIPPED
from tests.unit.research.research_fixtures import bars, hk, session_minutes


@pytest.fixture(autouse=True)
def _shipped_folder() -> Iterator[None]:
    use_search(SHIPPED)
    yield
    use_search(None)


def history(last_day_move: float) -> Any:
    """15 sessions of 700 closing at 100, 101, 100, 101...; on the 16th it opens at 100 and moves
    ``last_day_move`` HKD by 10:00, then stays there."""
    from datetime import date

    from catalyst.market.calendar import sessions_between

    days = sessions_between(date(2025, 3, 3), date(2025, 3, 24))[-16:]
    rows: list[tuple[Any, ...]] = []
    for k, d in enumerate(days[:-1]):
        px = 100.0 + (k % 2)
        for t in session_minutes(d.isoformat()):
            rows.append(("700", t, px, px + 0.5, px - 0.5, px))
    for i, t in enumerate(session_minutes(days[-1].isoformat())):
        px = 100.0 + (last_day_move if i >= 20 else 0.0)
        rows.append(("700", t, px, px + 0.1, px - 0.1, px))
    return bars(rows)


def test_it_is_found_in_the_shipped_strategies_folder() -> None:
    assert strategy_info("mean-reversion").origin.endswith("strategies/mean_reversion.py")


def test_a_stock_stretched_below_its_mean_is_bought_with_the_mean_as_target() -> None:
    [cand] = get_strategy("mean-reversion", target_atr=10).scan(history(-6.0), hk("2025-03-24 10:30"))
    assert (cand.symbol, cand.side) == ("700", Side.BUY)
    assert cand.entry == Decimal("94")
    assert cand.target == Decimal("100.5")  # the 10-session mean close (100/101 alternating)
    assert cand.stop == Decimal("92.5")  # one ATR (1.5: each day's range and its alternating close)
    assert "sd from the 100.500 mean close" in cand.reason


def test_the_target_is_never_further_than_target_atr() -> None:
    [cand] = get_strategy("mean-reversion", target_atr=2).scan(history(-6.0), hk("2025-03-24 10:30"))
    assert cand.target == Decimal("97")  # 94 + 2 x 1.5, short of the 100.5 mean


def test_a_calm_stock_is_left_alone() -> None:
    assert get_strategy("mean-reversion").scan(history(-0.2), hk("2025-03-24 10:30")) == []


def test_a_stock_stretched_above_is_shorted_only_when_shorts_are_allowed() -> None:
    stretched = history(+6.0)
    assert get_strategy("mean-reversion").scan(stretched, hk("2025-03-24 10:30")) == []
    short = get_strategy("mean-reversion", allow_shorts=True, target_atr=10)
    [cand] = short.scan(stretched, hk("2025-03-24 10:30"))
    assert cand.side is Side.SELL and cand.target == Decimal("100.5") and cand.stop > cand.entry


def test_it_backtests_under_the_live_rules() -> None:
    result = run_backtest(contract_bars(sessions=30), get_strategy("mean-reversion", min_z=1.0))
    assert result.stats["trades"] > 0
    assert set(result.trades["symbol"]) <= {"700", "5", "941"}
