"""A cycle's parameters: universe and limit overrides are checked, with errors that name the value."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from catalyst.cycle.errors import CycleParameterError
from catalyst.cycle.request import CycleRequest, as_universe, limits_with_overrides
from catalyst.market import use_universe
from catalyst.market.hkex_list_layout import ListRow, sheet, write_csv
from catalyst.market.universe_import import import_document
from catalyst.market.universe_store import write_universe
from catalyst.risk.limits import RiskLimits


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


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"max_positions": "abc"}, "max_positions='abc' is not a whole number"),
        ({"max_positions": 2.5}, "max_positions=2.5 is not a whole number"),
        ({"max_positions": True}, "max_positions=True is not a whole number"),
        ({"no_entry_minutes_before_close": "15"}, "no_entry_minutes_before_close='15' is not a whole"),
        ({"allow_shorts": "yes"}, "allow_shorts='yes' is not true or false"),
        ({"allow_shorts": 1}, "allow_shorts=1 is not true or false"),
        ({"missing_protection": 3}, "missing_protection=3 is not text"),
        ({"daily_loss_limit": [1000]}, r"daily_loss_limit=\[1000\] is not a number"),
        ({"daily_loss_limit": "nan"}, "daily_loss_limit='nan' is not a finite number"),
        ({"max_risk_fraction": None}, "max_risk_fraction=None is not a number"),
        ({"max_positions": -1}, "max_positions must be >= 0"),
        ({"missing_protection": "ignore"}, "must be 'recreate' or 'flatten'"),
    ],
)
def test_a_limit_override_of_the_wrong_type_or_value_is_refused_naming_it(
    overrides: dict[str, object], named: str
) -> None:
    with pytest.raises(CycleParameterError, match=named):
        limits_with_overrides(RiskLimits(), overrides)


def test_optional_limits_may_be_switched_off_and_whole_numbers_stay_whole() -> None:
    limits = limits_with_overrides(
        RiskLimits(), {"daily_loss_fraction": None, "no_entry_minutes_before_close": 0, "allow_shorts": True}
    )
    assert limits.daily_loss_fraction is None and limits.no_entry_minutes_before_close == 0
    assert limits.allow_shorts is True


def test_with_a_whole_hkex_list_imported_a_cycle_must_name_what_it_scans(tmp_path: Path) -> None:
    """Scanning thousands of securities would be thousands of bar requests against IB's pacing."""
    rows = [ListRow(code=10_000 + n, name=f"STOCK {n}", board_lot=1000) for n in range(60)]
    listed = write_csv(tmp_path / "ListOfSecurities.csv", sheet(date(2026, 11, 30), rows))
    target = tmp_path / "state" / "universe.json"
    write_universe(import_document(listed), target)
    use_universe(target)
    with pytest.raises(CycleParameterError, match=r"60 tradable securities.*-p universe"):
        CycleRequest(run_id="r").symbols()
    assert CycleRequest(run_id="r", universe=("10001", "10002")).symbols() == ["10001", "10002"]


def test_the_shipped_universe_is_scanned_whole_when_none_is_named() -> None:
    assert len(CycleRequest(run_id="r").symbols()) == 20
