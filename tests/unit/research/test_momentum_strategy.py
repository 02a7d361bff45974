"""catalyst-momentum: what it proposes, that scan equals the vectorised signals, and that it is pure."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from research_fixtures import hk, momentum_history

from catalyst.domain import Side
from catalyst.market import is_on_tick
from catalyst.research.errors import StrategyParamError, UnknownStrategyError
from catalyst.research.strategy_registry import get_strategy, list_strategies


def test_the_default_strategy_is_registered_by_name() -> None:
    assert "catalyst-momentum" in list_strategies()


def test_an_unknown_strategy_name_lists_the_registered_ones() -> None:
    with pytest.raises(UnknownStrategyError, match="catalyst-momentum"):
        get_strategy("no-such-strategy")


def test_an_unknown_parameter_is_refused_with_the_known_names() -> None:
    with pytest.raises(StrategyParamError, match="stop_atr"):
        get_strategy("catalyst-momentum", stop_atrr=2)


def test_parameters_given_as_text_are_read_as_their_types() -> None:
    strat = get_strategy("catalyst-momentum", entry_time="10:30", stop_atr="1.5", allow_shorts="false")
    assert (str(strat.params.entry_time), strat.params.stop_atr, strat.params.allow_shorts) == (
        "10:30:00",
        1.5,
        False,
    )


def test_an_out_of_range_parameter_is_refused() -> None:
    with pytest.raises(StrategyParamError, match="stop_atr"):
        get_strategy("catalyst-momentum", stop_atr=0)


def test_a_gap_with_a_volume_surge_holding_above_vwap_gives_a_long_candidate() -> None:
    bars = momentum_history()
    [cand] = get_strategy("catalyst-momentum").scan(bars, hk("2025-03-24 10:00"))
    assert (cand.symbol, cand.side) == ("700", Side.BUY)
    assert cand.stop < cand.entry < cand.target
    assert "gap +3.90% from prev close 500.5, rvol 3.00x" in cand.reason


def test_candidate_prices_are_decimals_on_the_spread_table() -> None:
    bars = momentum_history()
    [cand] = get_strategy("catalyst-momentum").scan(bars, hk("2025-03-24 10:00"))
    for price in (cand.entry, cand.stop, cand.target):
        assert isinstance(price, Decimal)
        assert is_on_tick(price, on=cand.at, table="A")


def test_scan_ignores_bars_after_the_decision_time() -> None:
    bars = momentum_history()
    strat = get_strategy("catalyst-momentum")
    at = hk("2025-03-24 10:00")
    truncated = bars.loc[bars["time"] < pd.Timestamp(at)].reset_index(drop=True)
    assert strat.scan(bars, at) == strat.scan(truncated, at)


def test_scan_equals_the_vectorised_signals_of_that_session() -> None:
    from catalyst.research.strategy_base import candidates_from_signals

    bars = momentum_history()
    strat = get_strategy("catalyst-momentum")
    at = hk("2025-03-24 10:00")
    signals = strat.signals(bars)
    from_signals = candidates_from_signals(
        signals.loc[signals["at"] == pd.Timestamp(at)], strategy=strat.name
    )
    assert strat.scan(bars, at) == from_signals


def test_no_candidate_without_enough_history_for_relative_volume() -> None:
    bars = momentum_history()
    strat = get_strategy("catalyst-momentum", rvol_lookback_days=30)
    assert strat.scan(bars, hk("2025-03-24 10:00")) == []


def test_a_smaller_gap_than_the_minimum_gives_nothing() -> None:
    bars = momentum_history()
    strat = get_strategy("catalyst-momentum", min_gap_pct=0.05, max_gap_pct=0.10)
    assert strat.scan(bars, hk("2025-03-24 10:00")) == []


def test_signals_are_deterministic() -> None:
    bars = momentum_history()
    strat = get_strategy("catalyst-momentum")
    pd.testing.assert_frame_equal(strat.signals(bars), strat.signals(bars.copy()))


def test_daily_bars_are_refused_with_a_clear_message() -> None:
    from research_fixtures import bars as make

    daily = make([("700", f"2025-03-{d:02d} 00:00", 500, 501, 499, 500) for d in (3, 4, 5)])
    with pytest.raises(StrategyParamError, match="intraday"):
        get_strategy("catalyst-momentum").signals(daily)
