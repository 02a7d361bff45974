"""Order entry rules, sessions and expiry of the simulated SEHK, with IB's codes."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from engine_support import ACCOUNT, changes, deep_bid, errors, fills, make_exchange, order, status_of

from catalyst.market import HK_TZ, is_on_tick
from catalyst.sim.engine.behaviour import SimBehaviour
from catalyst.sim.engine.exchange import Exchange
from catalyst.sim.engine.model import FaultFired, OrderChanged, OrderRejected


@pytest.fixture
def ex() -> Exchange:
    return make_exchange()


def test_off_tick_price_is_rejected_with_110_and_no_order_exists(ex: Exchange) -> None:
    bid = ex.quote("700").bid  # tick 0.5 above 500
    events = ex.place_order(order(1, lmt=bid - Decimal("0.3")))
    assert errors(events) == [(1, 110)]
    assert changes(events) == [] and ex.all_orders() == []


def test_off_tick_is_judged_on_the_dated_table_of_the_security(ex: Exchange) -> None:
    price = ex.quote("3988").bid  # Part A, Phase 2 from 2026-08-03: 0.005 between 0.50 and 10
    half_tick = price + Decimal("0.005")
    assert errors(ex.place_order(order(1, lmt=half_tick, symbol="3988", quantity=1000))) == []


def test_special_lot_above_one_board_lot_is_rejected_with_201(ex: Exchange) -> None:
    events = ex.place_order(order(1, quantity=150, lmt=ex.quote("700").bid))
    assert errors(events) == [(1, 201)]
    assert (
        "odd-lot order larger than one board lot"
        in next(e for e in events if isinstance(e, OrderRejected)).message
    )


def test_odd_lot_below_one_board_lot_is_accepted_and_never_fills_by_default(ex: Exchange) -> None:
    ask = ex.quote("700").ask
    events = ex.place_order(order(1, quantity=30, lmt=ask + 5))
    assert changes(events) == [(1, "Submitted", "")]
    assert fills(events) == [] and fills(ex.advance(600)) == []


def test_more_than_3000_board_lots_is_rejected_with_201() -> None:
    ex = make_exchange(cash=Decimal("1e10"))
    events = ex.place_order(order(1, quantity=300_100, lmt=ex.quote("700").bid))
    assert errors(events) == [(1, 201)]


@pytest.mark.parametrize("quantity", ["0", "-100", "100.5"])
def test_quantity_must_be_a_positive_whole_number(ex: Exchange, quantity: str) -> None:
    assert errors(ex.place_order(order(1, quantity=quantity, lmt=ex.quote("700").bid))) == [(1, 201)]


def test_unknown_action_is_rejected_with_201(ex: Exchange) -> None:
    assert errors(ex.place_order(order(1, action="SSHORT", lmt=ex.quote("700").bid))) == [(1, 201)]


def test_unsupported_order_type_is_rejected_with_387(ex: Exchange) -> None:
    assert errors(ex.place_order(order(1, order_type="TRAIL", lmt=ex.quote("700").bid))) == [(1, 387)]


def test_account_not_managed_is_rejected_with_201(ex: Exchange) -> None:
    assert errors(ex.place_order(order(1, lmt=ex.quote("700").bid, account="U999"))) == [(1, 201)]


def test_unknown_symbol_gets_200(ex: Exchange) -> None:
    assert errors(ex.place_order(order(1, lmt=Decimal(10), symbol="99999"))) == [(1, 200)]


def test_reusing_an_order_id_for_another_stock_is_a_duplicate_103(ex: Exchange) -> None:
    ex.place_order(order(1, lmt=ex.quote("700").bid - 5))
    events = ex.place_order(order(1, lmt=ex.quote("5").bid, symbol="5", quantity=400))
    assert errors(events) == [(1, 103)]


def test_same_id_same_stock_is_a_modification(ex: Exchange) -> None:
    bid = ex.quote("700").bid
    ex.place_order(order(1, lmt=bid - 5))
    events = ex.place_order(order(1, lmt=bid - 6))
    assert changes(events) == [(1, "Submitted", "")]
    assert ex.open_orders()[0].lmt_price == bid - 6 and len(ex.all_orders()) == 1


def test_cancel_of_an_unknown_order_gets_10147(ex: Exchange) -> None:
    assert errors(ex.cancel_order(1, 77)) == [(77, 10147)]


def test_cancel_of_a_filled_order_gets_10148_with_its_state(ex: Exchange) -> None:
    ex.place_order(order(1, lmt=ex.quote("700").ask))
    events = ex.cancel_order(1, 1)
    rejection = next(e for e in events if isinstance(e, OrderRejected))
    assert rejection.code == 10148 and rejection.message.endswith("state: Filled.")


def test_a_marketable_limit_fills_at_the_ask(ex: Exchange) -> None:
    q = ex.quote("700")
    events = ex.place_order(order(1, lmt=q.ask + 5))
    assert [f.execution.price for f in fills(events)] == [q.ask]


def test_a_large_order_walks_the_book_in_several_executions_at_tick_prices() -> None:
    ex = make_exchange(cash=Decimal("1e9"))
    q = ex.quote("700")
    events = ex.place_order(order(1, quantity=100_000, lmt=q.ask + 3))
    prices = [f.execution.price for f in fills(events)]
    assert len(prices) > 1 and prices == sorted(prices) and prices[0] == q.ask
    assert all(is_on_tick(p) and p <= q.ask + 3 for p in prices)
    last = fills(events)[-1]
    assert last.execution.cum_qty == sum(f.execution.shares for f in fills(events))


def test_market_order_is_converted_to_a_limit_a_few_ticks_through(ex: Exchange) -> None:
    q = ex.quote("700")
    events = ex.place_order(order(1, order_type="MKT"))
    executed = fills(events)
    assert executed and executed[0].execution.price == q.ask
    assert all(f.execution.price <= q.ask + Decimal("2.5") for f in executed)  # 5 ticks of 0.5


def test_outside_hours_an_order_is_held_with_399_and_released_at_the_open() -> None:
    ex = make_exchange(datetime(2026, 11, 24, 8, 0, tzinfo=HK_TZ))
    bid = ex.quote("700").bid
    events = ex.place_order(order(1, lmt=bid - 5, tif="DAY"))
    change = next(e for e in events if isinstance(e, OrderChanged))
    assert change.warning is not None and change.warning[0] == 399
    assert changes(events) == [(1, "PreSubmitted", "")]
    opened = ex.set_clock(datetime(2026, 11, 24, 9, 30, 5, tzinfo=HK_TZ))
    assert changes(opened, 1) == [(1, "Submitted", "")]


def test_pre_open_orders_do_not_match_until_0930() -> None:
    ex = make_exchange(datetime(2026, 11, 24, 9, 10, tzinfo=HK_TZ))
    events = ex.place_order(order(1, order_type="MKT"))
    assert fills(events) == [] and status_of(ex, 1) == "PreSubmitted"
    assert fills(ex.set_clock(datetime(2026, 11, 24, 9, 30, 1, tzinfo=HK_TZ)), 1)


def test_nothing_fills_during_the_lunch_break() -> None:
    ex = make_exchange(datetime(2026, 11, 24, 12, 10, tzinfo=HK_TZ))
    events = ex.place_order(order(1, order_type="MKT"))
    assert fills(events) == []
    assert fills(ex.set_clock(datetime(2026, 11, 24, 12, 59, 59, tzinfo=HK_TZ))) == []
    assert fills(ex.set_clock(datetime(2026, 11, 24, 13, 0, 1, tzinfo=HK_TZ)), 1)


def test_day_orders_expire_after_the_closing_auction_with_202(ex: Exchange) -> None:
    ex.place_order(order(1, lmt=deep_bid(ex), tif="DAY"))
    assert fills(ex.set_clock(datetime(2026, 11, 24, 16, 5, tzinfo=HK_TZ))) == []
    assert status_of(ex, 1) == "Submitted"  # rests through the auction
    events = ex.set_clock(datetime(2026, 11, 24, 16, 10, 1, tzinfo=HK_TZ))
    assert changes(events, 1) == [(1, "Cancelled", "")]
    assert errors(events) == [(1, 202)]


def test_day_expiry_without_202_when_configured() -> None:
    ex = make_exchange(behaviour=SimBehaviour(day_expiry_sends_202=False))
    ex.place_order(order(1, lmt=deep_bid(ex)))
    events = ex.set_clock(datetime(2026, 11, 24, 16, 11, tzinfo=HK_TZ))
    assert changes(events, 1) == [(1, "Cancelled", "")] and errors(events) == []


def test_gtc_orders_survive_to_the_next_day(ex: Exchange) -> None:
    ex.place_order(order(1, lmt=deep_bid(ex), tif="GTC"))
    ex.set_clock(datetime(2026, 11, 25, 10, 0, tzinfo=HK_TZ))
    assert status_of(ex, 1) == "Submitted"


def test_buying_beyond_cash_is_rejected_in_a_cash_account() -> None:
    ex = make_exchange(cash=Decimal("10000"))
    events = ex.place_order(order(1, lmt=ex.quote("700").bid))
    assert errors(events) == [(1, 201)]


def test_short_sale_is_rejected_in_a_cash_account(ex: Exchange) -> None:
    assert errors(ex.place_order(order(1, "SELL", lmt=ex.quote("700").ask))) == [(1, 201)]


def test_short_sale_is_allowed_in_a_margin_account() -> None:
    ex = make_exchange(behaviour=SimBehaviour(cash_account=False))
    events = ex.place_order(order(1, "SELL", lmt=ex.quote("700").bid))
    assert fills(events) and ex.positions(ACCOUNT)[0].quantity == -100


def test_partial_fills_fault_splits_a_fill_into_several_executions() -> None:
    ex = make_exchange()
    ex.set_fault("partial-fills", True, pieces=3)
    events = ex.place_order(order(1, quantity=300, lmt=ex.quote("700").ask))
    executed = fills(events)
    assert [f.execution.shares for f in executed][:3] == [100, 100, 100]
    assert [f.execution.cum_qty for f in executed][:3] == [100, 200, 300]
    assert any(isinstance(e, FaultFired) and e.name == "partial-fills" for e in events)


def test_server_level_faults_are_stored_and_reported(ex: Exchange) -> None:
    ex.set_fault("latency", True, ms=250)
    ex.set_fault("pacing", True)
    assert ex.faults() == {"latency": {"ms": 250}, "pacing": {}}
    ex.set_fault("pacing", False)
    assert "pacing" not in ex.faults()


def test_an_unknown_fault_name_raises(ex: Exchange) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        ex.set_fault("meteor", True)


def test_global_cancel_cancels_every_clients_orders(ex: Exchange) -> None:
    bid = ex.quote("700").bid
    ex.place_order(order(1, lmt=bid - 5, client_id=1))
    ex.place_order(order(1, lmt=bid - 6, client_id=2))
    ex.global_cancel()
    assert ex.open_orders() == []


def test_open_orders_of_one_client_only(ex: Exchange) -> None:
    bid = ex.quote("700").bid
    ex.place_order(order(1, lmt=bid - 5, client_id=1))
    ex.place_order(order(1, lmt=bid - 6, client_id=2))
    assert [o.client_id for o in ex.open_orders(2)] == [2]
    assert len(ex.open_orders(None)) == 2


def test_completed_orders_list_todays_done_orders(ex: Exchange) -> None:
    ex.place_order(order(1, lmt=ex.quote("700").ask))
    assert [o.order_id for o in ex.completed_orders()] == [1]
    ex.set_clock(ex.now() + timedelta(days=1))
    assert ex.completed_orders() == []
