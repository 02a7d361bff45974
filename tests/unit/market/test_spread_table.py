"""Spread tables (hkex-rules.md §1): dated Part A, Part D, exact at every band boundary."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date
from decimal import Decimal as D

import pytest

from catalyst.market import (
    DEFAULT_PHASE2_DATE,
    OffTickError,
    PriceOutOfRangeError,
    UnknownRoleError,
    UnknownSpreadTableError,
    is_on_tick,
    ladder,
    phase2_date,
    require_on_tick,
    set_phase2_date,
    snap_for_role,
    snap_to_tick,
    tick_size,
    top_price,
)

PRE = date(2025, 8, 1)
PHASE1 = date(2025, 8, 4)
LAST_PHASE1 = date(2026, 8, 2)
PHASE2 = date(2026, 8, 3)

# The tables as written in hkex-rules.md: (upper bound inclusive, increment). An independent copy.
SPEC: dict[str, list[tuple[str, str]]] = {
    "A-pre": [("0.25", "0.001"), ("0.50", "0.005"), ("10", "0.01"), ("20", "0.02"), ("50", "0.05"),
              ("100", "0.05"), ("200", "0.1"), ("500", "0.2"), ("1000", "0.5"), ("2000", "1"),
              ("5000", "2"), ("9995", "5")],
    "A-phase1": [("0.25", "0.001"), ("0.50", "0.005"), ("10", "0.01"), ("20", "0.01"), ("50", "0.02"),
                 ("100", "0.05"), ("200", "0.1"), ("500", "0.2"), ("1000", "0.5"), ("2000", "1"),
                 ("5000", "2"), ("9995", "5")],
    "A-phase2": [("0.25", "0.001"), ("0.50", "0.005"), ("10", "0.005"), ("20", "0.01"), ("50", "0.02"),
                 ("100", "0.05"), ("200", "0.1"), ("500", "0.2"), ("1000", "0.5"), ("2000", "1"),
                 ("5000", "2"), ("9995", "5")],
    "D": [("1", "0.001"), ("5", "0.002"), ("10", "0.005"), ("20", "0.01"), ("100", "0.02"),
          ("200", "0.05"), ("500", "0.1"), ("1000", "0.2"), ("2000", "0.5"), ("9999", "1")],
}  # fmt: skip
WHERE: dict[str, tuple[str, list[date]]] = {
    "A-pre": ("A", [date(2020, 1, 2), PRE, date(2025, 8, 3)]),
    "A-phase1": ("A", [PHASE1, LAST_PHASE1]),
    "A-phase2": ("A", [PHASE2, date(2027, 6, 1)]),
    "D": ("D", [PRE, PHASE1, PHASE2]),
}


@pytest.fixture(autouse=True)
def _default_phase2() -> Iterator[None]:
    set_phase2_date(None)
    yield
    set_phase2_date(None)


def _boundary_cases() -> Iterator[tuple[str, date, D, D, D]]:
    """(table, day, boundary, increment below, increment above) for every inner band edge."""
    for name, spec in SPEC.items():
        table, days = WHERE[name]
        for day in days:
            for (high, inc), (_next_high, next_inc) in itertools.pairwise(spec):
                yield table, day, D(high), D(inc), D(next_inc)


BOUNDARIES = list(_boundary_cases())
IDS = [f"{t}-{d}-{b}" for t, d, b, _, _ in BOUNDARIES]


@pytest.mark.parametrize(("table", "day", "edge", "below", "above"), BOUNDARIES, ids=IDS)
def test_a_band_edge_takes_the_increment_of_the_band_below(
    table: str, day: date, edge: D, below: D, above: D
) -> None:
    assert tick_size(edge, on=day, table=table) == below


@pytest.mark.parametrize(("table", "day", "edge", "below", "above"), BOUNDARIES, ids=IDS)
def test_just_above_a_band_edge_takes_the_increment_of_the_band_above(
    table: str, day: date, edge: D, below: D, above: D
) -> None:
    assert tick_size(edge + D("0.0001"), on=day, table=table) == above
    assert tick_size(edge + above, on=day, table=table) == above


@pytest.mark.parametrize(("table", "day", "edge", "below", "above"), BOUNDARIES, ids=IDS)
def test_the_ladder_steps_on_both_sides_of_a_band_edge(
    table: str, day: date, edge: D, below: D, above: D
) -> None:
    assert is_on_tick(edge, on=day, table=table)
    assert is_on_tick(edge - below, on=day, table=table)
    assert is_on_tick(edge + above, on=day, table=table)
    assert snap_to_tick(edge + above / 2, "down", on=day, table=table) == edge
    assert snap_to_tick(edge + above / 2, "up", on=day, table=table) == edge + above
    assert snap_to_tick(edge - below / 2, "up", on=day, table=table) == edge
    assert snap_to_tick(edge - below / 2, "down", on=day, table=table) == edge - below
    if above > below:
        assert not is_on_tick(edge + below, on=day, table=table)


@pytest.mark.parametrize("name", list(SPEC))
def test_ladder_is_the_ib_market_rule_shape_of_the_spec(name: str) -> None:
    """(low_edge, increment) pairs from 0; neighbouring bands with the same increment are one rule."""
    table, days = WHERE[name]
    lows = [D(0)] + [D(h) for h, _ in SPEC[name][:-1]]
    expected: list[tuple[D, D]] = []
    for low, (_h, inc) in zip(lows, SPEC[name], strict=True):
        if not expected or expected[-1][1] != D(inc):
            expected.append((low, D(inc)))
    for day in days:
        assert ladder(on=day, table=table) == expected
        assert top_price(on=day, table=table) == D(SPEC[name][-1][0])


def test_phase1_starts_on_2025_08_04() -> None:
    assert tick_size(D("15"), on=date(2025, 8, 1), table="A") == D("0.02")
    assert tick_size(D("15"), on=PHASE1, table="A") == D("0.01")
    assert tick_size(D("30"), on=date(2025, 8, 1)) == D("0.05")
    assert tick_size(D("30"), on=PHASE1) == D("0.02")


def test_phase2_starts_on_its_default_date() -> None:
    assert phase2_date() == DEFAULT_PHASE2_DATE == date(2026, 8, 3)
    assert tick_size(D("5"), on=LAST_PHASE1) == D("0.01")
    assert tick_size(D("5"), on=PHASE2) == D("0.005")


def test_phase2_date_can_be_moved_by_settings() -> None:
    set_phase2_date(date(2026, 9, 1))
    assert tick_size(D("5"), on=PHASE2) == D("0.01")
    assert tick_size(D("5"), on=date(2026, 9, 1)) == D("0.005")
    set_phase2_date(None)
    assert phase2_date() == DEFAULT_PHASE2_DATE


def test_phase2_date_before_phase1_is_refused() -> None:
    with pytest.raises(ValueError, match="after the Phase 1"):
        set_phase2_date(date(2025, 1, 1))


def test_etf_table_is_not_touched_by_the_phases() -> None:
    assert tick_size(D("25"), on=PRE, table="D") == tick_size(D("25"), on=PHASE2, table="D") == D("0.02")


@pytest.mark.parametrize("table", ["A", "D"])
def test_the_top_of_the_table_is_a_valid_price_and_above_it_raises(table: str) -> None:
    top = top_price(on=PHASE1, table=table)
    assert is_on_tick(top, on=PHASE1, table=table)
    assert snap_to_tick(top - D("0.3"), "up", on=PHASE1, table=table) == top
    with pytest.raises(PriceOutOfRangeError, match="above the top"):
        tick_size(top + D("0.001"), on=PHASE1, table=table)
    with pytest.raises(PriceOutOfRangeError):
        snap_to_tick(top + 1, "down", on=PHASE1, table=table)
    assert not is_on_tick(top + 1, on=PHASE1, table=table)


@pytest.mark.parametrize("price", [D(0), D("-0.01"), D("-5")])
def test_prices_at_or_below_zero_raise(price: D) -> None:
    with pytest.raises(PriceOutOfRangeError, match="above zero"):
        tick_size(price)
    with pytest.raises(PriceOutOfRangeError):
        snap_to_tick(price, "up")
    assert not is_on_tick(price)


def test_snapping_below_the_first_tick_down_raises_instead_of_giving_zero() -> None:
    with pytest.raises(PriceOutOfRangeError, match="lowest price"):
        snap_to_tick(D("0.0004"), "down", on=PHASE1)
    assert snap_to_tick(D("0.0004"), "up", on=PHASE1) == D("0.001")


@pytest.mark.parametrize("price", [D("NaN"), D("Infinity"), D("-Infinity")])
def test_non_finite_prices_raise(price: D) -> None:
    with pytest.raises(PriceOutOfRangeError, match="finite"):
        tick_size(price)


@pytest.mark.parametrize("price", [9.05, 9.050000190734863, "9.05", None])
def test_floats_and_text_are_refused_with_a_type_error(price: object) -> None:
    with pytest.raises(TypeError, match="Decimal"):
        snap_to_tick(price, "nearest")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        is_on_tick(price)  # type: ignore[arg-type]


def test_integers_are_exact_and_accepted() -> None:
    assert tick_size(600, on=PHASE1) == D("0.5")
    assert is_on_tick(600, on=PHASE1)


def test_the_float_that_broke_the_predecessor_snaps_to_a_clean_price() -> None:
    assert snap_to_tick(D("9.050000190734863"), "nearest", on=PHASE1) == D("9.05")
    assert str(snap_to_tick(D("9.050000190734863"), "down", on=PHASE1)) == "9.05"


def test_snapped_prices_have_no_trailing_zeros_or_exponents() -> None:
    assert str(snap_to_tick(D("600.3"), "down", on=PHASE1)) == "600"
    assert str(snap_to_tick(D("9994"), "up", on=PHASE1)) == "9995"
    assert str(snap_to_tick(D("0.1234"), "up", on=PHASE1)) == "0.124"


def test_nearest_rounds_half_a_tick_up() -> None:
    assert snap_to_tick(D("600.25"), "nearest", on=PHASE1) == D("600.5")
    assert snap_to_tick(D("600.24"), "nearest", on=PHASE1) == D("600")


def test_an_on_tick_price_is_returned_unchanged_in_every_direction() -> None:
    for direction in ("up", "down", "nearest"):
        assert snap_to_tick(D("600.5"), direction, on=PHASE1) == D("600.5")


def test_unknown_direction_raises() -> None:
    with pytest.raises(UnknownRoleError, match="direction"):
        snap_to_tick(D("600"), "sideways")  # type: ignore[arg-type]


def test_unknown_table_raises() -> None:
    with pytest.raises(UnknownSpreadTableError, match="'A'"):
        tick_size(D("10"), table="B")


def test_require_on_tick_names_the_nearest_valid_prices() -> None:
    assert require_on_tick(D("600.5"), on=PHASE1) == D("600.5")
    with pytest.raises(OffTickError, match=r"600 and 600.5"):
        require_on_tick(D("600.1"), on=PHASE1)


@pytest.mark.parametrize(
    ("role", "side", "expected"),
    [
        ("entry", "BUY", D("600")),  # a long never pays more
        ("stop", "BUY", D("600.5")),  # a long's stop moves up, toward the entry
        ("target", "BUY", D("600")),  # a long's target moves down, toward the entry
        ("entry", "SELL", D("600.5")),  # a short never sells for less
        ("stop", "SELL", D("600")),  # a short's stop moves down, toward the entry
        ("target", "SELL", D("600.5")),  # a short's target moves up, toward the entry
    ],
)
def test_each_role_snaps_in_the_direction_that_never_adds_risk(role: str, side: str, expected: D) -> None:
    assert snap_for_role(D("600.3"), role, side, on=PHASE1) == expected  # type: ignore[arg-type]


def test_unknown_role_or_side_raises() -> None:
    with pytest.raises(UnknownRoleError):
        snap_for_role(D("600"), "exit", "BUY")  # type: ignore[arg-type]
    with pytest.raises(UnknownRoleError):
        snap_for_role(D("600"), "entry", "LONG")


def test_on_accepts_a_tz_aware_datetime_by_its_hong_kong_date() -> None:
    from datetime import datetime

    # 2025-08-03 20:00 UTC is 2025-08-04 04:00 in Hong Kong: Phase 1 already.
    assert tick_size(D("15"), on=datetime(2025, 8, 3, 20, 0, tzinfo=UTC)) == D("0.01")
