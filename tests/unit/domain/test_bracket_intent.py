"""A BracketIntent refuses every bracket that must not be sent (issue 2, point 6)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import pytest

from catalyst.domain import BracketIntent, InvalidIntentError, Side
from catalyst.market import HK_TZ

PHASE1_DAY = datetime(2025, 9, 1, 10, 0, tzinfo=HK_TZ)
PRE_REFORM_DAY = datetime(2025, 7, 2, 10, 0, tzinfo=HK_TZ)


def long_700(**overrides: Any) -> BracketIntent:
    fields: dict[str, Any] = dict(
        intent_id="abc-700-B-1", symbol="700", side=Side.BUY, quantity=200,
        entry=D("600"), stop=D("580"), target=D("650"), created_at=PHASE1_DAY,
    )  # fmt: skip
    fields.update(overrides)
    return BracketIntent(**fields)


def short_700(**overrides: Any) -> BracketIntent:
    return long_700(side=Side.SELL, stop=D("650"), target=D("580"), **overrides)


def test_a_consistent_long_is_accepted_with_its_values() -> None:
    b = long_700()
    assert (b.symbol, b.side, b.quantity, b.lots) == ("700", Side.BUY, 200, 2)
    assert b.is_long


def test_a_consistent_short_is_accepted() -> None:
    assert short_700().side is Side.SELL


def test_intents_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        long_700().quantity = 100  # type: ignore[misc]


@pytest.mark.parametrize(
    ("stop", "entry", "target"),
    [
        ("600", "600", "650"),
        ("620", "600", "650"),
        ("580", "600", "600"),
        ("580", "600", "590"),
        ("650", "600", "580"),
    ],
)
def test_a_long_needs_stop_below_entry_below_target(stop: str, entry: str, target: str) -> None:
    with pytest.raises(InvalidIntentError, match="a long needs stop < entry < target"):
        long_700(stop=D(stop), entry=D(entry), target=D(target))


@pytest.mark.parametrize(
    ("stop", "entry", "target"),
    [
        ("600", "600", "580"),
        ("580", "600", "550"),
        ("650", "600", "600"),
        ("650", "600", "620"),
        ("580", "600", "650"),
    ],
)
def test_a_short_needs_target_below_entry_below_stop(stop: str, entry: str, target: str) -> None:
    with pytest.raises(InvalidIntentError, match="a short needs target < entry < stop"):
        long_700(side=Side.SELL, stop=D(stop), entry=D(entry), target=D(target))


@pytest.mark.parametrize("leg", ["entry", "stop", "target"])
def test_an_off_tick_price_is_refused_and_the_valid_neighbours_are_named(leg: str) -> None:
    prices = {"entry": D("600.1"), "stop": D("580.3"), "target": D("650.2")}
    with pytest.raises(InvalidIntentError, match=rf"{leg} .* off the spread table A ladder"):
        long_700(**{leg: prices[leg]})


def test_ticks_are_checked_against_the_table_in_force_on_the_intent_date() -> None:
    # 15.01 is on tick in Phase 1 (0.01) but not before it (0.02).
    fields: dict[str, Any] = dict(
        symbol="883", quantity=1000, entry=D("15.01"), stop=D("14.50"), target=D("16")
    )
    assert long_700(created_at=PHASE1_DAY, **fields).entry == D("15.01")
    with pytest.raises(InvalidIntentError, match="off the spread table"):
        long_700(created_at=PRE_REFORM_DAY, **fields)


def test_an_etf_is_checked_against_table_d() -> None:
    # 4.998 is a Part D price (0.002 below 5) but not a Part A one.
    b = long_700(symbol="2800", quantity=500, entry=D("4.998"), stop=D("4.9"), target=D("5.2"))
    assert b.entry == D("4.998")
    with pytest.raises(InvalidIntentError, match="spread table A"):
        long_700(symbol="3988", quantity=1000, entry=D("4.998"), stop=D("4.9"), target=D("5.2"))


@pytest.mark.parametrize("quantity", [0, -100, 150, 50, 100.0])
def test_quantities_that_are_not_positive_whole_lots_are_refused(quantity: object) -> None:
    with pytest.raises(InvalidIntentError):
        long_700(quantity=quantity)


@pytest.mark.parametrize("leg", ["entry", "stop", "target"])
def test_float_prices_are_refused(leg: str) -> None:
    with pytest.raises(InvalidIntentError, match="float"):
        long_700(**{leg: 600.0})


@pytest.mark.parametrize("price", [D(0), D("-1"), D("NaN"), "600", None])
def test_non_positive_or_non_decimal_prices_are_refused(price: object) -> None:
    with pytest.raises(InvalidIntentError, match="positive Decimal"):
        long_700(entry=price)


def test_a_price_above_the_table_top_is_refused() -> None:
    with pytest.raises(InvalidIntentError, match="above the top"):
        long_700(target=D("10000"))


def test_a_symbol_outside_the_universe_is_refused() -> None:
    with pytest.raises(InvalidIntentError, match="not in Catalyst's universe"):
        long_700(symbol="1")


def test_a_zero_padded_symbol_is_normalised() -> None:
    assert long_700(symbol="00700").symbol == "700"


@pytest.mark.parametrize(("text", "side"), [("long", Side.BUY), ("SELL", Side.SELL), (" short ", Side.SELL)])
def test_side_text_goes_through_the_explicit_table(text: str, side: Side) -> None:
    stop, target = (D("580"), D("650")) if side is Side.BUY else (D("650"), D("580"))
    assert long_700(side=text, stop=stop, target=target).side is side


@pytest.mark.parametrize("side", ["buy_to_cover", "", None, 1])
def test_an_unknown_side_is_refused(side: object) -> None:
    with pytest.raises(InvalidIntentError, match="side must be one of"):
        long_700(side=side)


@pytest.mark.parametrize("intent_id", ["", "has space", "a:b", "x" * 38, None])
def test_bad_intent_ids_are_refused(intent_id: object) -> None:
    with pytest.raises(InvalidIntentError, match="intent_id"):
        long_700(intent_id=intent_id)


def test_a_naive_created_at_is_refused() -> None:
    with pytest.raises(InvalidIntentError, match="tz-aware"):
        long_700(created_at=datetime(2025, 9, 1, 10, 0))


def test_the_intent_date_is_the_hong_kong_date_of_created_at() -> None:
    # 2025-08-03 20:00 UTC is 2025-08-04 in Hong Kong: the first Phase 1 day.
    b = long_700(created_at=datetime(2025, 8, 3, 20, 0, tzinfo=UTC))
    assert b.trade_date.isoformat() == "2025-08-04"


def test_risk_reward_and_notional() -> None:
    b = long_700()
    assert (b.risk_per_share, b.reward_per_share, b.risk, b.notional) == (
        D("20"),
        D("50"),
        D("4000"),
        D("120000"),
    )
    s = short_700()
    assert (s.risk_per_share, s.reward_per_share) == (D("50"), D("20"))


def test_snapped_rounds_each_leg_toward_the_inside_of_a_long_bracket() -> None:
    b = BracketIntent.snapped(
        "abc-700-B-1", "700", "long", 100, D("600.3"), D("580.3"), D("650.3"), created_at=PHASE1_DAY
    )
    assert (b.entry, b.stop, b.target) == (D("600"), D("580.5"), D("650"))


def test_snapped_rounds_each_leg_toward_the_inside_of_a_short_bracket() -> None:
    b = BracketIntent.snapped(
        "abc-939-S-1", "939", Side.SELL, 1000, D("7.5037"), D("7.7031"), D("7.1049"), created_at=PHASE1_DAY
    )
    assert (b.entry, b.stop, b.target) == (D("7.51"), D("7.70"), D("7.11"))


def test_snapped_still_refuses_a_bracket_that_collapses() -> None:
    with pytest.raises(InvalidIntentError, match="stop < entry"):
        BracketIntent.snapped(
            "abc", "700", "BUY", 100, D("600.3"), D("600.1"), D("650"), created_at=PHASE1_DAY
        )


def test_snapped_refuses_floats() -> None:
    with pytest.raises(InvalidIntentError, match="float"):
        BracketIntent.snapped("abc", "700", "BUY", 100, 600.3, D("580"), D("650"))  # type: ignore[arg-type]


def test_an_intent_is_a_ledger_row_of_the_intents_table_with_its_status() -> None:
    row = long_700(run_id="run-1", account="DU1").ledger_row("submitted", detail={"why": "test"})
    assert row == {
        "intent_id": "abc-700-B-1",
        "run_id": "run-1",
        "created_at": PHASE1_DAY,
        "account": "DU1",
        "symbol": "700",
        "side": "BUY",
        "quantity": 200,
        "entry_price": D("600"),
        "stop_price": D("580"),
        "target_price": D("650"),
        "strategy": "",
        "score": 0.0,
        "reason": "",
        "status": "submitted",
        "detail": '{"why": "test"}',
    }


def test_the_intents_own_run_and_account_come_before_the_callers() -> None:
    own = long_700(run_id="own-run", account="DU1").ledger_row("x", run_id="other", account="DU2")
    assert (own["run_id"], own["account"]) == ("own-run", "DU1")
    filled_in = long_700().ledger_row("x", run_id="caller-run", account="DU2")
    assert (filled_in["run_id"], filled_in["account"]) == ("caller-run", "DU2")
    assert long_700().ledger_row("x")["run_id"] is None


def test_a_missing_creation_time_is_filled_with_the_given_time_or_now() -> None:
    at = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    assert long_700(created_at=None).ledger_row("x", at=at)["created_at"] == at
    assert long_700(created_at=None).ledger_row("x")["created_at"].tzinfo is not None
