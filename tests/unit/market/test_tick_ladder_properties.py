"""Properties of snapping that must hold for every price, table and date (hypothesis)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from catalyst.market import PriceOutOfRangeError, is_on_tick, snap_to_tick, tick_size, top_price
from catalyst.market.spread_table import bands

DATES = st.one_of(
    st.sampled_from([date(2025, 8, 3), date(2025, 8, 4), date(2026, 8, 2), date(2026, 8, 3)]),
    st.dates(min_value=date(2020, 1, 1), max_value=date(2028, 12, 31)),
)
TABLES = st.sampled_from(["A", "D"])
DIRECTIONS = st.sampled_from(["up", "down", "nearest"])
EPS = D("1e-9")


@st.composite
def priced(draw: st.DrawFn) -> tuple[D, date, str]:
    """A price anywhere on a table (often right at or next to a band edge), with its date and table."""
    day, table = draw(DATES), draw(TABLES)
    top = top_price(on=day, table=table)
    edges = [b.high for b in bands(on=day, table=table)]  # every band edge, the top included
    near_edge = st.builds(
        lambda e, off: e + off,
        st.sampled_from(edges),
        st.decimals(min_value=D("-0.02"), max_value=D("0.02"), places=4),
    )
    anywhere = st.builds(lambda n, places: D(n).scaleb(-places), st.integers(1, 10**9), st.integers(0, 6))
    price = draw(st.one_of(near_edge, anywhere).filter(lambda p: D("0.001") <= p <= top))
    return price, day, table


@settings(max_examples=200, deadline=None)
@given(priced(), DIRECTIONS)
def test_every_snapped_price_is_on_the_ladder(case: tuple[D, date, str], direction: str) -> None:
    price, day, table = case
    snapped = snap_to_tick(price, direction, on=day, table=table)  # type: ignore[arg-type]
    assert is_on_tick(snapped, on=day, table=table)


@settings(max_examples=200, deadline=None)
@given(priced(), DIRECTIONS, DIRECTIONS)
def test_snapping_is_idempotent(case: tuple[D, date, str], first: str, second: str) -> None:
    price, day, table = case
    once = snap_to_tick(price, first, on=day, table=table)  # type: ignore[arg-type]
    assert snap_to_tick(once, second, on=day, table=table) == once  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(priced())
def test_direction_is_respected_and_down_and_up_are_the_neighbouring_ticks(case: tuple[D, date, str]) -> None:
    price, day, table = case
    down = snap_to_tick(price, "down", on=day, table=table)
    up = snap_to_tick(price, "up", on=day, table=table)
    assert down <= price <= up
    # nothing on the ladder lies strictly between them and the price
    if down != price:
        assert snap_to_tick(down + EPS, "up", on=day, table=table) >= price
    if up != price:
        assert snap_to_tick(up - EPS, "down", on=day, table=table) <= price


@settings(max_examples=200, deadline=None)
@given(priced())
def test_nearest_is_within_half_a_tick(case: tuple[D, date, str]) -> None:
    price, day, table = case
    nearest = snap_to_tick(price, "nearest", on=day, table=table)
    assert abs(nearest - price) <= tick_size(price, on=day, table=table) / 2
    assert nearest in (
        snap_to_tick(price, "down", on=day, table=table),
        snap_to_tick(price, "up", on=day, table=table),
    )


@settings(max_examples=200, deadline=None)
@given(priced())
def test_on_tick_means_snapping_changes_nothing(case: tuple[D, date, str]) -> None:
    price, day, table = case
    assert is_on_tick(price, on=day, table=table) == (
        snap_to_tick(price, "down", on=day, table=table) == price
    )


@settings(max_examples=100, deadline=None)
@given(DATES, TABLES, st.decimals(min_value=D("0.0001"), max_value=D("1000"), places=4), DIRECTIONS)
def test_prices_above_the_top_always_raise(day: date, table: str, excess: D, direction: str) -> None:
    top = top_price(on=day, table=table)
    try:
        snap_to_tick(top + excess, direction, on=day, table=table)  # type: ignore[arg-type]
    except PriceOutOfRangeError:
        return
    raise AssertionError("a price above the table's top was snapped")
