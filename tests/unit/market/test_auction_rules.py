"""HKEX's auctions as pure rules, at their edges (hkex-rules.md §3, §5; catalyst/market/auction.py)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from catalyst.market import HK_TZ, AuctionPriceError, TradingDay, session_for, tick_up
from catalyst.market.auction import (
    AuctionOrder,
    band,
    band_problem,
    carried_into_cas,
    cas_close_time,
    cas_input_open,
    match,
    pos_input_open,
    pos_match_time,
    reference_price,
    reference_snapshot_times,
    require_within_band,
    within_band,
)

D = Decimal
FULL = date(2026, 11, 24)  # a Tuesday
HALF = date(2026, 12, 24)  # Christmas Eve: morning only, CAS 12:00-12:10


def hk(day: date, h: int, m: int, s: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, h, m, s, tzinfo=HK_TZ)


def td(day: date) -> TradingDay:
    t = session_for(day)
    assert t is not None
    return t


# --- the +-5 % band ------------------------------------------------------------------------------


def test_exactly_five_percent_either_side_is_in_and_one_tick_beyond_is_out() -> None:
    ref = D("100")
    assert within_band(D("105"), ref) and within_band(D("95"), ref)
    assert not within_band(tick_up(D("105"), on=FULL), ref)  # 105.10
    assert not within_band(D("94.95"), ref)  # one tick below 95 (band 50-100: 0.05)


def test_the_band_of_a_reference_price_is_five_percent_exact() -> None:
    assert band(D("600")) == (D("570"), D("630"))
    assert within_band(D("630.0"), D("600")) and not within_band(D("630.5"), D("600"))


def test_an_at_auction_limit_outside_the_band_is_refused_with_the_band_named() -> None:
    text = band_problem(D("630.5"), D("600"))
    assert text is not None and "630.5" in text and "+/-5%" in text and "570 to 630" in text
    with pytest.raises(AuctionPriceError, match="reference price 600"):
        require_within_band(D("569.5"), D("600"))
    require_within_band(D("570"), D("600"))


def test_the_pos_band_is_fifteen_percent_of_the_previous_close() -> None:
    assert within_band(D("115"), D("100"), D("0.15"))
    assert not within_band(D("115.1"), D("100"), D("0.15"))
    text = band_problem(D("84.95"), D("100"), D("0.15"))
    assert text is not None and "previous close 100" in text


def test_only_limits_within_the_band_are_carried_into_the_closing_auction() -> None:
    assert carried_into_cas(D("95"), D("100")) and not carried_into_cas(D("94.95"), D("100"))


def test_a_non_positive_reference_price_is_an_error() -> None:
    with pytest.raises(AuctionPriceError, match="positive"):
        band(D("0"))


# --- the reference price --------------------------------------------------------------------------


def test_the_reference_price_is_the_median_of_the_five_snapshots() -> None:
    assert reference_price([D("10"), D("12"), D("11"), D("30"), D("9")]) == D("11")
    assert reference_price([D("600")] * 5) == D("600")


def test_an_even_count_takes_the_lower_middle_and_none_is_an_error() -> None:
    assert reference_price([D("10"), D("11"), D("12"), D("13")]) == D("11")
    with pytest.raises(AuctionPriceError, match="snapshot"):
        reference_price([])


def test_the_snapshots_are_taken_every_15_seconds_of_the_last_minute() -> None:
    assert reference_snapshot_times(td(FULL)) == [
        hk(FULL, 15, 59, 0),
        hk(FULL, 15, 59, 15),
        hk(FULL, 15, 59, 30),
        hk(FULL, 15, 59, 45),
        hk(FULL, 16, 0, 0),
    ]
    assert reference_snapshot_times(td(HALF))[0] == hk(HALF, 11, 59, 0)


# --- times -----------------------------------------------------------------------------------------


def test_the_random_close_lies_between_1608_and_1610() -> None:
    assert cas_close_time(td(FULL), 0.0) == hk(FULL, 16, 8, 0)
    assert cas_close_time(td(FULL), 0.5) == hk(FULL, 16, 9, 0)
    assert cas_close_time(td(FULL), 0.999999) == hk(FULL, 16, 9, 59)


def test_on_a_half_day_the_random_close_lies_between_1208_and_1210() -> None:
    assert cas_close_time(td(HALF), 0.0) == hk(HALF, 12, 8, 0)
    assert cas_close_time(td(HALF), 0.999999) == hk(HALF, 12, 9, 59)


def test_a_draw_outside_zero_to_one_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        cas_close_time(td(FULL), 1.0)


def test_the_pos_matches_between_0920_and_0922() -> None:
    assert pos_match_time(td(FULL), 0.0) == hk(FULL, 9, 20, 0)
    assert pos_match_time(td(FULL), 0.999999) == hk(FULL, 9, 21, 59)


def test_the_input_periods_are_0900_to_0915_and_1601_to_1610() -> None:
    t = td(FULL)
    assert pos_input_open(t, hk(FULL, 9, 0)) and pos_input_open(t, hk(FULL, 9, 14, 59))
    assert not pos_input_open(t, hk(FULL, 9, 15)) and not pos_input_open(t, hk(FULL, 8, 59, 59))
    assert not cas_input_open(t, hk(FULL, 16, 0, 59)) and cas_input_open(t, hk(FULL, 16, 1))
    assert cas_input_open(t, hk(FULL, 16, 9, 59)) and not cas_input_open(t, hk(FULL, 16, 10))
    assert cas_input_open(td(HALF), hk(HALF, 12, 1)) and not cas_input_open(td(HALF), hk(HALF, 16, 1))


# --- one price ------------------------------------------------------------------------------------


def buy(key: str, qty: int, limit: str | None, priority: float = 0) -> AuctionOrder:
    return AuctionOrder(key, "BUY", qty, None if limit is None else D(limit), priority)


def sell(key: str, qty: int, limit: str | None, priority: float = 0) -> AuctionOrder:
    return AuctionOrder(key, "SELL", qty, None if limit is None else D(limit), priority)


def test_the_price_is_the_one_that_trades_the_most_shares() -> None:
    book = [buy("b1", 300, "101"), buy("b2", 200, "100"), sell("s1", 100, "99"), sell("s2", 400, "100.5")]
    result = match(book, D("100"))
    # at 100: buy 500, sell 100 -> 100; at 100.5: buy 300, sell 500 -> 300; at 101: 300/500 -> 300
    assert result.price == D("100.5") and result.volume == 300
    assert result.fills == {"b1": 300, "s1": 100, "s2": 200}


def test_equal_volumes_go_to_the_smaller_imbalance() -> None:
    book = [buy("b", 100, "101"), buy("b2", 100, "100"), sell("s", 100, "100"), sell("s2", 50, "101")]
    # at 100: buy 200, sell 100 -> 100 (imbalance 100); at 101: buy 100, sell 150 -> 100 (imbalance 50)
    assert match(book, D("100")).price == D("101")


def test_buyers_left_over_at_every_tied_price_take_the_highest() -> None:
    book = [buy("b", 300, None), sell("s1", 100, "100"), sell("s2", 0 + 100, "101")]
    # at 100: 300/100; at 101: 300/200 -> max volume 200 at 101 only
    assert match(book, D("100")).price == D("101")
    tied = [buy("b", 300, "102"), sell("s", 100, "100"), buy("b2", 0 + 100, "101")]
    # at 100, 101, 102 one seller of 100: volume 100 everywhere; imbalances 300, 300, 200 -> 102
    assert match(tied, D("100")).price == D("102")


def test_sellers_left_over_at_every_tied_price_take_the_lowest() -> None:
    book = [sell("s", 300, "98"), buy("b", 100, "100"), sell("s2", 100, "99")]
    # volume 100 at 98, 99, 100; imbalances 200, 300, 300 -> 98 (smallest imbalance)
    assert match(book, D("99")).price == D("98")
    even = [sell("s", 300, "98"), buy("b", 100, "99")]
    # volume 100 at 98 and 99, imbalance 200 at both, sellers over at both -> the lowest
    assert match(even, D("99")).price == D("98")


def test_a_balanced_tie_goes_to_the_price_nearest_the_reference_then_the_higher() -> None:
    book = [buy("b", 100, "101"), sell("s", 100, "99")]
    # volume 100 and imbalance 0 at 99 and 101 -> nearest to the reference
    assert match(book, D("100.8")).price == D("101")
    assert match(book, D("99.2")).price == D("99")
    assert match(book, D("100")).price == D("101")  # as near: the higher


def test_with_nothing_crossing_the_reference_price_stands() -> None:
    result = match([buy("b", 100, "99"), sell("s", 100, "101")], D("100"))
    assert result.price == D("100") and result.volume == 0 and result.fills == {}
    only_market = match([buy("b", 100, None), sell("s", 300, None)], D("100"))
    assert only_market.price == D("100") and only_market.fills == {"b": 100, "s": 100}


def test_at_auction_orders_go_first_then_price_then_time() -> None:
    book = [
        buy("late", 100, "101", priority=2),
        buy("early", 100, "101", priority=1),
        buy("best", 100, "102", priority=3),
        buy("market", 100, None, priority=4),
        sell("s", 300, "100"),
    ]
    result = match(book, D("100"))
    assert result.price == D("101")  # 400 wanted at 100, 300 at 101 and 300 offered: 101 balances
    assert result.fills == {"market": 100, "best": 100, "early": 100, "s": 300}


def test_a_limit_worse_than_the_auction_price_does_not_trade() -> None:
    result = match(
        [buy("crowd", 1000, "100"), sell("crowd_s", 1000, "100"), buy("us", 100, "99.95")], D("100")
    )
    assert result.price == D("100") and "us" not in result.fills


def test_an_order_without_shares_is_an_error() -> None:
    with pytest.raises(AuctionPriceError, match="positive quantity"):
        match([buy("b", 0, "100")], D("100"))
