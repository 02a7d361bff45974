"""The universe file and board-lot arithmetic (hkex-rules.md §2)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from catalyst.market import (
    UNIVERSE_AS_OF,
    BoardLotError,
    PriceOutOfRangeError,
    UnknownSymbolError,
    board_lot,
    is_on_tick,
    normalize_symbol,
    security,
    shares_for_budget,
    universe,
    whole_lots,
)

# Board lots from the HKEX List of Securities as at 31/12/2025 (hkex-rules.md §2).
SPEC_LOTS = {
    "700": 100, "5": 400, "941": 500, "1299": 200, "9988": 100, "3690": 100, "388": 100,
    "2318": 500, "1810": 200, "883": 1000, "939": 1000, "1398": 1000, "3988": 1000, "2800": 500,
    "1211": 100, "9618": 50, "1024": 100, "27": 1000, "16": 500, "2388": 500,
}  # fmt: skip
NO_RMB_COUNTER = {"5", "939", "1398", "3988", "27"}


def test_the_universe_is_the_twenty_names_with_their_31_dec_2025_lots() -> None:
    assert {s: sec.board_lot for s, sec in universe().items()} == SPEC_LOTS
    assert date(2025, 12, 31) == UNIVERSE_AS_OF


def test_byd_lot_is_the_post_2025_change_of_100() -> None:
    assert board_lot("1211") == 100


def test_the_tracker_fund_is_an_etf_on_table_d_without_stamp_duty() -> None:
    etf = security("2800")
    assert (etf.spread_table, etf.stamp_duty, etf.is_etf) == ("D", False, True)


def test_every_stock_but_the_etf_is_on_table_a_with_stamp_duty_and_shortable() -> None:
    for sym, sec in universe().items():
        assert sec.shortsell_eligible
        if sym != "2800":
            assert (sec.spread_table, sec.stamp_duty) == ("A", True)


def test_rmb_counters_are_recorded_and_absent_where_there_is_none() -> None:
    assert security("700").rmb_counter == "80700"
    assert {s for s, sec in universe().items() if sec.rmb_counter is None} == NO_RMB_COUNTER


@pytest.mark.parametrize("day", [date(2025, 12, 31), date(2026, 11, 24)])
def test_every_reference_price_is_a_valid_price_on_its_table(day: date) -> None:
    for sec in universe().values():
        assert is_on_tick(sec.ref_price, on=day, table=sec.spread_table), sec


def test_the_universe_mapping_is_read_only() -> None:
    with pytest.raises(TypeError):
        universe()["1"] = security("700")  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "expected"), [("700", "700"), ("0700", "700"), ("00700", "700"), (" 5 ", "5"), (5, "5")]
)
def test_zero_padded_codes_normalise_to_the_ib_symbol(text: str | int, expected: str) -> None:
    assert normalize_symbol(text) == expected
    assert security(text).symbol == expected


@pytest.mark.parametrize(
    "text", ["700.HK", "TENCENT", "", "   ", "0", "000000", "123456", "-5", "7 00", "٧٠٠", None, 7.0, True]
)
def test_malformed_codes_raise_unknown_symbol(text: object) -> None:
    with pytest.raises(UnknownSymbolError, match=r"not an HKEX stock code|stock code must be"):
        normalize_symbol(text)  # type: ignore[arg-type]


def test_a_code_outside_the_universe_raises_and_says_how_to_add_it() -> None:
    with pytest.raises(UnknownSymbolError, match=r"catalyst universe import FILE"):
        board_lot("1")


def test_whole_lots_counts_lots() -> None:
    assert whole_lots(300, "700") == 3
    assert whole_lots(1000, "3988") == 1


@pytest.mark.parametrize("shares", [0, -100, 150, 99, 1])
def test_whole_lots_refuses_non_positive_and_odd_quantities(shares: int) -> None:
    with pytest.raises(BoardLotError):
        whole_lots(shares, "700")


def test_an_odd_quantity_error_suggests_the_neighbouring_whole_lots() -> None:
    with pytest.raises(BoardLotError, match="use 100 or 200"):
        whole_lots(150, "700")


@pytest.mark.parametrize("shares", [100.0, "100", True, D(100)])
def test_whole_lots_refuses_non_integer_quantities(shares: object) -> None:
    with pytest.raises(BoardLotError, match="whole number"):
        whole_lots(shares, "700")  # type: ignore[arg-type]


def test_shares_for_budget_buys_only_whole_lots() -> None:
    assert shares_for_budget(D("100000"), D("600"), "700") == 100
    assert shares_for_budget(D("120000"), D("600"), "0700") == 200
    assert shares_for_budget(D("59999.99"), D("600"), "700") == 0
    assert shares_for_budget(D(0), D("4.50"), "3988") == 0
    assert shares_for_budget(D("100000"), D("4.50"), "3988") == 22000


def test_shares_for_budget_refuses_bad_inputs() -> None:
    with pytest.raises(ValueError, match="negative"):
        shares_for_budget(D("-1"), D("600"), "700")
    with pytest.raises(PriceOutOfRangeError):
        shares_for_budget(D("1000"), D(0), "700")
    with pytest.raises(TypeError):
        shares_for_budget(D("1000"), 600.0, "700")  # type: ignore[arg-type]
