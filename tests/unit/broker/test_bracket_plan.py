"""The three legs as planned from an intent."""

from __future__ import annotations

from decimal import Decimal

from catalyst.broker.bracket_plan import plan_bracket, stop_limit_price
from catalyst.domain import BracketIntent, OrderType, Side


def long_intent() -> BracketIntent:
    return BracketIntent("plan-1", "700", Side.BUY, 200, Decimal("400"), Decimal("380"), Decimal("440"))


def test_a_long_bracket_buys_the_entry_and_sells_both_exits() -> None:
    entry, tp, sl = plan_bracket(long_intent())
    assert (entry.side, tp.side, sl.side) == (Side.BUY, Side.SELL, Side.SELL)
    assert [leg.order_ref for leg in (entry, tp, sl)] == ["plan-1:P", "plan-1:TP", "plan-1:SL"]


def test_only_the_last_leg_transmits_and_only_children_share_the_oca_group() -> None:
    legs = plan_bracket(long_intent())
    assert [leg.transmit for leg in legs] == [False, False, True]
    assert [leg.oca_group for leg in legs] == ["", "plan-1:OCA", "plan-1:OCA"]


def test_the_stop_is_a_stop_limit_five_ticks_through_the_trigger() -> None:
    _entry, _tp, sl = plan_bracket(long_intent())
    assert sl.order_type is OrderType.STOP_LIMIT
    assert (sl.stop_price, sl.limit_price) == (Decimal("380"), Decimal("379.0"))


def test_a_short_bracket_places_its_stop_limit_above_the_trigger() -> None:
    intent = BracketIntent("plan-2", "700", Side.SELL, 100, Decimal("400"), Decimal("420"), Decimal("380"))
    entry, tp, sl = plan_bracket(intent)
    assert (entry.side, tp.side, sl.side) == (Side.SELL, Side.BUY, Side.BUY)
    assert sl.limit_price == Decimal("421.0")


def test_zero_stop_limit_ticks_sends_a_plain_stop() -> None:
    _e, _t, sl = plan_bracket(long_intent(), stop_limit_ticks=0)
    assert (sl.order_type, sl.limit_price) == (OrderType.STOP, None)


def test_a_stop_limit_moves_along_the_ladder_across_band_edges() -> None:
    assert stop_limit_price(Decimal("10.02"), Side.SELL, 3, table="A", on=None) == Decimal("9.995")
    assert stop_limit_price(Decimal("9.99"), Side.BUY, 3, table="A", on=None) == Decimal("10.01")


def test_a_stop_limit_stops_at_the_lowest_tick_instead_of_refusing_the_stop() -> None:
    """A penny stock's sell stop: the limit cannot go under the table's first tick (0.001)."""
    assert stop_limit_price(Decimal("0.003"), Side.SELL, 5, table="A", on=None) == Decimal("0.001")
