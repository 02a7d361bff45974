"""The side and order-type tables, and what may become a float on the wire (rules 2 and 3)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalyst.broker.errors import NotWholeLotsError, PriceNotOnLadderError, UnknownBrokerValueError
from catalyst.broker.order_mapping import (
    decimal_from_wire,
    ib_action,
    ib_order_type,
    price_to_wire,
    quantity_to_wire,
    side_from_exec_side,
    side_from_ib_action,
)
from catalyst.domain import OrderType, Side, UnknownOrderTypeError, UnknownSideError


def test_a_long_maps_to_buy_and_a_short_to_sell() -> None:
    assert ib_action(Side.parse("long")) == "BUY"
    assert ib_action(Side.parse("short")) == "SELL"


@pytest.mark.parametrize("bad", ["BUY", "long", None, 1, ""])
def test_anything_but_a_side_member_raises(bad: object) -> None:
    with pytest.raises(UnknownSideError):
        ib_action(bad)


def test_every_order_type_has_its_ib_text() -> None:
    assert [ib_order_type(t) for t in OrderType] == ["LMT", "MKT", "STP", "STP LMT"]


def test_an_order_type_given_as_text_raises() -> None:
    with pytest.raises(UnknownOrderTypeError):
        ib_order_type("LMT")


def test_broker_actions_and_execution_sides_map_back_to_sides() -> None:
    assert (side_from_ib_action("BUY"), side_from_ib_action("SELL")) == (Side.BUY, Side.SELL)
    assert (side_from_exec_side("BOT"), side_from_exec_side("SLD")) == (Side.BUY, Side.SELL)


def test_an_unknown_broker_action_raises() -> None:
    with pytest.raises(UnknownBrokerValueError):
        side_from_ib_action("SSHORT")


def test_an_on_ladder_price_goes_out_as_the_float_whose_text_is_the_decimal() -> None:
    wire = price_to_wire(Decimal("9.05"), symbol="3988", role="entry")
    assert str(wire) == "9.05"


@pytest.mark.parametrize("price", [Decimal("9.051"), Decimal("0"), Decimal("-1"), Decimal("NaN"), 9.05])
def test_an_off_ladder_or_non_decimal_price_is_refused(price: object) -> None:
    with pytest.raises(PriceNotOnLadderError):
        price_to_wire(price, symbol="3988", role="entry")


def test_a_price_on_the_etf_ladder_is_checked_against_table_d() -> None:
    assert price_to_wire(Decimal("25.02"), symbol="2800", role="entry") == 25.02
    with pytest.raises(PriceNotOnLadderError):
        price_to_wire(Decimal("25.01"), symbol="2800", role="entry")


def test_whole_board_lots_pass_and_anything_else_is_refused() -> None:
    assert quantity_to_wire(300, symbol="700", board_lot=100) == Decimal(300)
    for bad in (150, 0, -100, 100.0, True):
        with pytest.raises(NotWholeLotsError):
            quantity_to_wire(bad, symbol="700", board_lot=100)


def test_broker_floats_become_exact_decimals_and_unset_becomes_none() -> None:
    assert decimal_from_wire(388.2) == Decimal("388.2")
    assert decimal_from_wire(1.7976931348623157e308) is None
    assert decimal_from_wire(None) is None
    assert decimal_from_wire(float("nan")) is None
