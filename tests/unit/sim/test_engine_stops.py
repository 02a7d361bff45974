"""IB-simulated stops on SEHK: held at IB, triggered by trades, sent as limits."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from engine_support import ACCOUNT, changes, deep_bid, fills, make_exchange, order, status_of

from catalyst.market import HK_TZ
from catalyst.sim.engine.behaviour import SimBehaviour


def test_a_stop_limit_triggers_and_rests_when_its_limit_is_not_reachable() -> None:
    ex = make_exchange()
    ex.drift(ACCOUNT, "700", 100)
    last = ex.quote("700").last
    ex.place_order(order(1, "SELL", order_type="STP LMT", aux=last - 10, lmt=last - 5))
    events = ex.move_price("700", price=last - 20)  # trades through the stop and below the limit
    assert changes(events, 1) == [(1, "Submitted", "")]
    assert fills(events) == [] and status_of(ex, 1) == "Submitted"


def test_a_standalone_stop_waits_presubmitted_with_trigger() -> None:
    ex = make_exchange()
    ex.drift(ACCOUNT, "700", 100)
    events = ex.place_order(order(1, "SELL", order_type="STP", aux=ex.quote("700").last - 10))
    assert changes(events) == [(1, "PreSubmitted", "trigger")]


def test_a_stop_placed_before_the_open_triggers_on_the_first_trade_through_it() -> None:
    ex = make_exchange(datetime(2026, 11, 24, 8, 30, tzinfo=HK_TZ))
    ex.drift(ACCOUNT, "700", 100)
    ex.place_order(order(1, "SELL", order_type="STP", aux=ex.quote("700").last * 2, tif="GTC"))
    events = ex.set_clock(datetime(2026, 11, 24, 9, 30, 2, tzinfo=HK_TZ))
    assert fills(events, 1) and ex.positions(ACCOUNT)[0].quantity == 0


def test_modifying_a_stop_price_moves_its_trigger() -> None:
    ex = make_exchange()
    ex.drift(ACCOUNT, "700", 100)
    last = ex.quote("700").last
    ex.place_order(order(1, "SELL", order_type="STP", aux=last - 20))
    ex.place_order(order(1, "SELL", order_type="STP", aux=last - 5))
    assert fills(ex.move_price("700", price=last - 10), 1)


def test_a_converted_market_order_never_goes_beyond_its_percentage_cap() -> None:
    ex = make_exchange(
        behaviour=SimBehaviour(mkt_conversion_ticks=50, mkt_conversion_max_pct=1), cash=Decimal("1e9")
    )
    ask = ex.quote("700").ask
    executed = fills(ex.place_order(order(1, quantity=300_000, order_type="MKT")))
    assert executed and max(f.execution.price for f in executed) <= ask * Decimal("1.01")


def test_half_days_expire_day_orders_at_1210() -> None:
    ex = make_exchange(datetime(2026, 12, 24, 10, 0, tzinfo=HK_TZ))  # Christmas Eve: morning only
    ex.place_order(order(1, lmt=deep_bid(ex)))
    assert status_of(ex, 1) == "Submitted"
    ex.set_clock(datetime(2026, 12, 24, 12, 9, tzinfo=HK_TZ))
    assert status_of(ex, 1) == "Submitted"
    ex.set_clock(datetime(2026, 12, 24, 12, 10, 1, tzinfo=HK_TZ))
    assert status_of(ex, 1) == "Cancelled"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"children_size_on_partial_parent": "half"},
        {"mkt_conversion_ticks": 0},
        {"odd_lot_fill_probability": 2.0},
    ],
)
def test_impossible_behaviour_settings_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SimBehaviour(**kwargs)  # type: ignore[arg-type]


def test_odd_lots_can_be_made_to_fill() -> None:
    ex = make_exchange(behaviour=SimBehaviour(odd_lot_fill_probability=1.0))
    assert fills(ex.place_order(order(1, quantity=30, lmt=ex.quote("700").ask)))
