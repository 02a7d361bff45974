"""A cycle's parameters: universe and limit overrides are checked, with errors that name the value."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalyst.cycle.cycle_errors import CycleParameterError
from catalyst.cycle.cycle_request import CycleRequest, as_universe, limits_with_overrides
from catalyst.risk.risk_limits import RiskLimits


def test_universe_text_becomes_a_tuple_of_symbols() -> None:
    assert as_universe(" 700, 5 ,,1299") == ("700", "5", "1299")
    assert as_universe(["700", 5]) == ("700", "5")
    assert as_universe("") == () and as_universe(None) == ()


def test_an_empty_universe_means_every_symbol_of_the_universe() -> None:
    symbols = CycleRequest(run_id="r").symbols()
    assert len(symbols) >= 20 and "700" in symbols


def test_an_unknown_symbol_in_the_universe_is_named() -> None:
    with pytest.raises(CycleParameterError, match="99999"):
        CycleRequest(run_id="r", universe=("700", "99999")).symbols()


def test_limit_overrides_replace_fields_and_make_fractions_decimal() -> None:
    limits = limits_with_overrides(RiskLimits(), {"max_positions": 3, "max_risk_fraction": 0.005})
    assert limits.max_positions == 3
    assert limits.max_risk_fraction == Decimal("0.005")


def test_an_unknown_limit_override_lists_the_known_names() -> None:
    with pytest.raises(CycleParameterError, match="max_positions"):
        limits_with_overrides(RiskLimits(), {"max_position": 3})


def test_a_cycle_needs_a_run_id() -> None:
    with pytest.raises(CycleParameterError, match="run id"):
        CycleRequest(run_id="")
