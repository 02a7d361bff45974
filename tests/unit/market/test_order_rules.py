"""HKEX's order rules at their edges (hkex-rules.md §1, §3, §5): catalyst.market.order_rules."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal as D

import pytest

from catalyst.market import (
    HK_TZ,
    MAX_LOTS_PER_ORDER,
    OrderSizeError,
    PriceLimitError,
    QuotationRuleError,
    max_order_shares,
    may_amend,
    may_cancel,
    quotation_limit,
    require_order_size,
    require_within_price_limits,
    require_within_quotation_rule,
    tick_down,
    tick_up,
    ticks_from,
    within_price_limits,
    within_quotation_rule,
)

TODAY = date(2026, 12, 2)  # Phase 2 in force (default date 2026-08-03)
PRE_2025 = date(2025, 1, 2)


def hk(day: date, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=HK_TZ)


# --- quotation rule -------------------------------------------------------------------------------


def test_a_sell_23_spreads_above_the_best_ask_is_accepted_and_24_is_not() -> None:
    ask = D("600")  # tick 0.50
    at_23, at_24 = ask + 23 * D("0.5"), ask + 24 * D("0.5")
    assert within_quotation_rule("SELL", at_23, best_bid=D("599.5"), best_ask=ask, on=TODAY)
    assert not within_quotation_rule("SELL", at_24, best_bid=D("599.5"), best_ask=ask, on=TODAY)
    assert quotation_limit("SELL", best_bid=D("599.5"), best_ask=ask, on=TODAY) == D("611.5")


def test_a_buy_23_spreads_below_the_best_bid_is_accepted_and_24_is_not() -> None:
    bid = D("600")
    assert within_quotation_rule("BUY", bid - 23 * D("0.5"), best_bid=bid, best_ask=D("600.5"), on=TODAY)
    assert not within_quotation_rule("BUY", bid - 24 * D("0.5"), best_bid=bid, best_ask=D("600.5"), on=TODAY)


def test_spreads_are_counted_tick_by_tick_across_a_band_edge() -> None:
    # Before 2025: 10.10 down to 10.00 is 5 ticks of 0.02, then 0.01 a tick: 18 more = 9.82.
    assert quotation_limit("BUY", best_bid=D("10.10"), best_ask=None, on=PRE_2025) == D("9.82")
    assert within_quotation_rule("BUY", D("9.82"), best_bid=D("10.10"), best_ask=None, on=PRE_2025)
    assert not within_quotation_rule("BUY", D("9.81"), best_bid=D("10.10"), best_ask=None, on=PRE_2025)
    # And up: 9.95 + 5 x 0.01 = 10.00, then 18 x 0.02 = 10.36.
    assert quotation_limit("SELL", best_bid=None, best_ask=D("9.95"), on=PRE_2025) == D("10.36")


def test_the_spread_table_in_force_on_the_day_decides_the_distance() -> None:
    # 15.00 sell: 0.02 ticks before 2025-08-04, 0.01 after (Phase 1).
    assert quotation_limit("SELL", best_bid=None, best_ask=D("15"), on=PRE_2025) == D("15.46")
    assert quotation_limit("SELL", best_bid=None, best_ask=D("15"), on=TODAY) == D("15.23")


def test_with_no_order_on_its_side_the_count_starts_from_the_nominal_price() -> None:
    assert quotation_limit("SELL", best_bid=D("599"), best_ask=None, nominal=D("600"), on=TODAY) == D("611.5")
    with pytest.raises(ValueError, match="nominal"):
        quotation_limit("SELL", best_bid=D("599"), best_ask=None, on=TODAY)


def test_an_order_on_the_near_side_of_the_best_price_is_never_limited() -> None:
    assert within_quotation_rule("SELL", D("500"), best_bid=D("599.5"), best_ask=D("600"), on=TODAY)
    assert within_quotation_rule("BUY", D("700"), best_bid=D("599.5"), best_ask=D("600"), on=TODAY)


def test_a_breach_raises_an_error_naming_the_farthest_accepted_price() -> None:
    with pytest.raises(QuotationRuleError, match=r"24 spreads or more above the best ask \(600\).*611\.5"):
        require_within_quotation_rule("SELL", D("612"), best_bid=None, best_ask=D("600"), on=TODAY)
    assert require_within_quotation_rule("SELL", D("611.5"), best_bid=None, best_ask=D("600"), on=TODAY) == D(
        "611.5"
    )


def test_ticks_step_along_the_ladder_and_stop_at_its_ends() -> None:
    assert tick_up(D("10"), on=PRE_2025) == D("10.02")
    assert tick_down(D("10.02"), on=PRE_2025) == D("10")
    assert tick_down(D("10"), on=PRE_2025) == D("9.99")
    assert ticks_from(D("9995"), 3, "up", on=TODAY) == D("9995")
    assert ticks_from(D("0.002"), 5, "down", on=TODAY) == D("0.001")


# --- price limits and size ------------------------------------------------------------------------


def test_prices_at_nine_times_or_one_ninth_of_the_nominal_are_refused() -> None:
    nominal = D("9")
    assert within_price_limits(D("80.95"), nominal)
    assert not within_price_limits(D("81"), nominal)
    assert within_price_limits(D("1.01"), nominal)
    assert not within_price_limits(D("1"), nominal)
    with pytest.raises(PriceLimitError, match="nominal price 9"):
        require_within_price_limits(D("81"), nominal)


def test_an_order_may_carry_3000_board_lots_and_no_more() -> None:
    assert MAX_LOTS_PER_ORDER == 3000
    assert max_order_shares(400) == 1_200_000
    assert require_order_size(1_200_000, 400) == 1_200_000
    with pytest.raises(OrderSizeError, match="3000 board lots"):
        require_order_size(1_200_400, 400)


def test_position_sizing_uses_the_one_lot_maximum() -> None:
    from catalyst.market import order_rules
    from catalyst.risk import position_sizing

    assert position_sizing.MAX_LOTS_PER_ORDER is order_rules.MAX_LOTS_PER_ORDER


# --- cancel and amend windows ---------------------------------------------------------------------

FULL = date(2026, 12, 2)
HALF = date(2026, 12, 24)  # Christmas Eve: morning only, closing auction 12:00-12:10


@pytest.mark.parametrize(
    ("start", "end"),
    [((9, 15), (9, 30)), ((12, 0), (12, 30)), ((16, 6), (16, 10))],
    ids=["pre-open", "lunch-first-half", "closing-auction"],
)
def test_no_cancel_from_the_first_to_the_last_second_of_each_window(
    start: tuple[int, int], end: tuple[int, int]
) -> None:
    first, opens = hk(FULL, *start), hk(FULL, *end)
    last = opens - timedelta(seconds=1)
    assert may_cancel(first - timedelta(seconds=1)).allowed
    for t in (first, last):
        verdict = may_cancel(t)
        assert not verdict.allowed
        assert verdict.opens_at == opens
        assert f"{opens:%H:%M:%S}" in verdict.reason
    assert may_cancel(opens).allowed
    assert may_cancel(opens).opens_at is None


def test_cancels_are_allowed_in_the_second_half_of_lunch_but_amendments_wait_for_1300() -> None:
    assert may_cancel(hk(FULL, 12, 30)).allowed
    assert may_cancel(hk(FULL, 12, 59, 59)).allowed
    for t in (hk(FULL, 12, 0), hk(FULL, 12, 30), hk(FULL, 12, 59, 59)):
        verdict = may_amend(t)
        assert not verdict.allowed and verdict.opens_at == hk(FULL, 13, 0)
    assert may_amend(hk(FULL, 11, 59, 59)).allowed
    assert may_amend(hk(FULL, 13, 0)).allowed


@pytest.mark.parametrize(("start", "end"), [((9, 15), (9, 30)), ((16, 6), (16, 10))])
def test_no_amendment_in_the_auction_windows(start: tuple[int, int], end: tuple[int, int]) -> None:
    assert not may_amend(hk(FULL, *start)).allowed
    assert may_amend(hk(FULL, *end) - timedelta(seconds=1)).opens_at == hk(FULL, *end)
    assert may_amend(hk(FULL, *end)).allowed


def test_a_half_day_has_no_lunch_window_and_its_auction_window_is_1206_to_1210() -> None:
    assert may_cancel(hk(HALF, 12, 5, 59)).allowed
    assert may_amend(hk(HALF, 12, 5, 59)).allowed
    for t in (hk(HALF, 12, 6), hk(HALF, 12, 9, 59)):
        assert may_cancel(t).opens_at == hk(HALF, 12, 10)
        assert may_amend(t).opens_at == hk(HALF, 12, 10)
    assert may_cancel(hk(HALF, 12, 10)).allowed
    assert not may_cancel(hk(HALF, 9, 15)).allowed  # the pre-opening window is the same on a half day


def test_cancels_are_allowed_whenever_hkex_is_closed() -> None:
    assert may_cancel(hk(date(2026, 12, 25), 12, 10)).allowed  # holiday
    assert may_cancel(hk(FULL, 8, 0)).allowed
    assert may_amend(hk(FULL, 17, 0)).allowed


def test_an_unknown_action_or_a_naive_time_is_refused() -> None:
    from catalyst.market import NaiveDatetimeError, order_action_window

    with pytest.raises(ValueError, match="'cancel' or 'amend'"):
        order_action_window("modify", hk(FULL, 10, 0))  # type: ignore[arg-type]
    with pytest.raises(NaiveDatetimeError):
        may_cancel(datetime(2026, 12, 2, 12, 10))


# --- a bracket's target ---------------------------------------------------------------------------


def test_a_target_is_kept_at_most_20_spreads_beyond_the_entry() -> None:
    from catalyst.market import farthest_target, target_inside_quotation_rule

    assert farthest_target("BUY", D("600"), on=TODAY) == D("610")
    assert farthest_target("SELL", D("600"), on=TODAY) == D("590")
    assert target_inside_quotation_rule("BUY", D("600"), D("620"), on=TODAY) == D("610")
    assert target_inside_quotation_rule("BUY", D("600"), D("605"), on=TODAY) == D("605")
    assert target_inside_quotation_rule("SELL", D("600"), D("550"), on=TODAY) == D("590")
    # a target planned so, sent when the best ask is three spreads below the entry, is still accepted
    assert within_quotation_rule("SELL", D("610"), best_bid=None, best_ask=D("598.5"), on=TODAY)
    assert not within_quotation_rule("SELL", D("610"), best_bid=None, best_ask=D("598"), on=TODAY)


def test_an_order_sent_outside_continuous_trading_can_first_trade_when_it_resumes() -> None:
    from catalyst.market import continuous_trading_from

    for t in (hk(FULL, 9, 30), hk(FULL, 11, 59, 59), hk(FULL, 13, 0), hk(FULL, 15, 59, 59)):
        assert continuous_trading_from(t) == t
    for t in (hk(FULL, 12, 0), hk(FULL, 12, 10), hk(FULL, 12, 59, 59)):
        assert continuous_trading_from(t) == hk(FULL, 13, 0)
    assert continuous_trading_from(hk(FULL, 9, 15)) == hk(FULL, 9, 30)
    assert continuous_trading_from(hk(FULL, 9, 29, 59)) == hk(FULL, 9, 30)
    after_close = continuous_trading_from(hk(FULL, 16, 0))
    assert after_close > hk(FULL, 16, 0) and (after_close.hour, after_close.minute) == (9, 30)
    assert continuous_trading_from(hk(HALF, 11, 59, 59)) == hk(HALF, 11, 59, 59)
    half_close = continuous_trading_from(hk(HALF, 12, 0))  # a half day: no afternoon, next day's open
    assert half_close.date() > HALF and (half_close.hour, half_close.minute) == (9, 30)
