"""Fees of a fill (hkex-rules.md §4), including its three worked examples to the cent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from catalyst.market import FIXED, TIERED, BoardLotError, CommissionPlan, UnknownSymbolError, fill_fees

TODAY_RULES = date(2026, 11, 24)


def test_worked_example_tencent_100_at_600() -> None:
    f = fill_fees("700", 100, D("600"), plan=TIERED, on=TODAY_RULES)
    assert (f.commission, f.stamp_duty, f.sfc_levy, f.afrc_levy, f.trading_fee, f.settlement_fee) == (
        D("30.00"), D("60"), D("1.62"), D("0.09"), D("3.39"), D("2.52"),
    )  # fmt: skip
    assert f.total == D("97.62")


def test_worked_example_tencent_on_the_fixed_plan_costs_48_plus_levies_and_stamp() -> None:
    f = fill_fees("700", 100, D("600"), plan=FIXED, on=TODAY_RULES)
    assert f.commission == D("48.00")
    # fixed pricing bundles the exchange trading fee and the settlement fee into the commission
    assert (f.trading_fee, f.settlement_fee) == (D(0), D(0))
    assert f.total == D("48.00") + D("60") + D("1.62") + D("0.09")


def test_worked_example_bank_of_china_stamp_duty_rounds_4_50_up_to_5() -> None:
    f = fill_fees("3988", 1000, D("4.50"), plan=TIERED, on=TODAY_RULES)
    assert (f.stamp_duty, f.sfc_levy, f.afrc_levy, f.trading_fee, f.settlement_fee) == (
        D("5"), D("0.12"), D("0.01"), D("0.25"), D("0.19"),
    )  # fmt: skip
    assert f.commission == D("18.00")  # the minimum
    assert fill_fees("3988", 1000, D("4.50"), plan=FIXED, on=TODAY_RULES).commission == D("18.00")


def test_worked_example_tracker_fund_pays_no_stamp_duty() -> None:
    f = fill_fees("2800", 500, D("25"), plan=TIERED, on=TODAY_RULES)
    assert (f.stamp_duty, f.sfc_levy, f.afrc_levy, f.trading_fee, f.settlement_fee) == (
        D(0), D("0.34"), D("0.02"), D("0.71"), D("0.53"),
    )  # fmt: skip


def test_the_total_is_the_sum_of_the_items() -> None:
    f = fill_fees("939", 3000, D("7.51"), plan=TIERED, on=TODAY_RULES)
    assert (
        f.total == f.commission + f.stamp_duty + f.sfc_levy + f.afrc_levy + f.trading_fee + f.settlement_fee
    )


def test_stamp_duty_is_rounded_up_to_the_dollar_even_for_a_cent_over() -> None:
    assert fill_fees("700", 100, D("600.5"), on=TODAY_RULES).stamp_duty == D("61")  # 60.05 -> 61


def test_stamp_duty_can_be_forced_on_or_off_and_a_symbol_outside_the_universe_needs_it() -> None:
    assert fill_fees("700", 100, D("600"), stamp_duty=False, on=TODAY_RULES).stamp_duty == 0
    assert fill_fees("1", 500, D("60"), stamp_duty=True, on=TODAY_RULES).stamp_duty == D("30")
    with pytest.raises(UnknownSymbolError):
        fill_fees("1", 500, D("60"), on=TODAY_RULES)


def test_stamp_duty_was_0_13_percent_until_16_nov_2023() -> None:
    assert fill_fees("700", 100, D("600"), on=date(2023, 11, 16)).stamp_duty == D("78")
    assert fill_fees("700", 100, D("600"), on=date(2023, 11, 17)).stamp_duty == D("60")


def test_settlement_fee_before_30_jun_2025_had_a_minimum_of_2_and_a_maximum_of_100() -> None:
    before = date(2025, 6, 29)
    assert fill_fees("3988", 1000, D("4.50"), plan=TIERED, on=before).settlement_fee == D("2.00")
    assert fill_fees("700", 100, D("600"), plan=TIERED, on=before).settlement_fee == D("2.00")  # 1.20 -> min
    assert fill_fees("700", 10000, D("600"), plan=TIERED, on=before).settlement_fee == D(
        "100.00"
    )  # 120 -> max
    assert fill_fees("700", 10000, D("600"), plan=TIERED, on=date(2025, 6, 30)).settlement_fee == D("252.00")


def test_trading_fee_before_2023_was_0_005_percent_plus_a_50_cent_tariff() -> None:
    assert fill_fees("700", 100, D("600"), plan=TIERED, on=date(2022, 12, 30)).trading_fee == D("3.50")


@pytest.mark.parametrize(
    ("monthly", "rate_and_min"),
    [
        (D("0"), (D("0.0005"), D("18"))),
        (D("15000000"), (D("0.0005"), D("18"))),
        (D("15000000.01"), (D("0.0005"), D("12"))),
        (D("300000000"), (D("0.0005"), D("12"))),
        (D("300000001"), (D("0.0003"), D("8"))),
        (D("900000001"), (D("0.0002"), D("6"))),
        (D("2000000001"), (D("0.00015"), D("4"))),
    ],
)
def test_tiered_commission_follows_the_monthly_volume_tiers(monthly: D, rate_and_min: tuple[D, D]) -> None:
    assert CommissionPlan.tiered(monthly).rate_and_minimum() == rate_and_min


def test_the_fixed_commission_is_0_08_percent_with_a_minimum_of_18() -> None:
    assert FIXED.commission(D("10000")) == D("18.00")
    assert FIXED.commission(D("100000")) == D("80.00")


def test_a_big_tiered_client_pays_the_low_minimum() -> None:
    assert CommissionPlan.tiered(D("3000000000")).commission(D("4500")) == D("4.00")


@pytest.mark.parametrize("quantity", [0, -100, 100.0, True])
def test_a_fill_needs_a_positive_whole_quantity(quantity: object) -> None:
    with pytest.raises(BoardLotError):
        fill_fees("700", quantity, D("600"))  # type: ignore[arg-type]


def test_float_prices_are_refused() -> None:
    with pytest.raises(TypeError, match="float"):
        fill_fees("700", 100, 600.0)  # type: ignore[arg-type]


def test_an_unknown_plan_is_refused() -> None:
    with pytest.raises(ValueError, match="fixed"):
        CommissionPlan("flat")  # type: ignore[arg-type]
