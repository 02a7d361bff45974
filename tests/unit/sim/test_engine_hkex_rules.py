"""HKEX's order rules in the simulated exchange: the quotation rule, price limits, cancel windows.

The rules themselves come from ``catalyst.market.order_rules``; these tests show the simulator
answering as HKEX (and IB in front of it) would.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from engine_support import ACCOUNT, changes, errors, fills, make_exchange, order, place_bracket, status_of

from catalyst.market import HK_TZ, snap_to_tick, ticks_from
from catalyst.sim.engine.behaviour import SimBehaviour, behaviour_from_specs
from catalyst.sim.engine.exchange import Exchange
from catalyst.sim.engine.model import OrderChanged, OrderRejected

DAY = (2026, 11, 24)  # the engine tests' Tuesday


def at(hh: int, mm: int, ss: int = 0, day: tuple[int, int, int] = DAY) -> datetime:
    return datetime(*day, hh, mm, ss, tzinfo=HK_TZ)


def spreads(ex: Exchange, price: Decimal, n: int, direction: str) -> Decimal:
    return ticks_from(price, n, direction, on=ex.now())  # type: ignore[arg-type]


def rejection(events: list, order_id: int) -> OrderRejected:  # type: ignore[type-arg]
    return next(e for e in events if isinstance(e, OrderRejected) and e.order_id == order_id)


# --- quotation rule -------------------------------------------------------------------------------


def test_a_sell_23_spreads_above_the_best_ask_works_and_24_ends_inactive_with_201() -> None:
    ex = make_exchange()
    ex.drift(ACCOUNT, "700", 200)
    ask = ex.quote("700").ask
    ok = ex.place_order(order(1, "SELL", lmt=spreads(ex, ask, 23, "up")))
    assert changes(ok, 1) == [(1, "Submitted", "")]
    refused = ex.place_order(order(2, "SELL", lmt=spreads(ex, ask, 24, "up")))
    r = rejection(refused, 2)
    assert (r.code, r.status_after) == (201, "Inactive")
    assert "24 spreads or more away from the best ask" in r.message
    assert status_of(ex, 2) == "Inactive"


def test_a_buy_23_spreads_below_the_best_bid_works_and_24_is_rejected() -> None:
    ex = make_exchange()
    bid = ex.quote("700").bid
    assert changes(ex.place_order(order(1, lmt=spreads(ex, bid, 23, "down"))), 1) == [(1, "Submitted", "")]
    assert errors(ex.place_order(order(2, lmt=spreads(ex, bid, 24, "down")))) == [(2, 201)]


def test_outside_continuous_trading_the_rule_is_applied_when_the_order_reaches_the_exchange() -> None:
    ex = make_exchange(at(12, 10))
    far = spreads(ex, ex.quote("700").bid, 60, "down")
    assert changes(ex.place_order(order(1, lmt=far))) == [(1, "PreSubmitted", "")]  # held at lunch
    opened = ex.set_clock(at(13, 0, 5))
    assert errors(opened) == [(1, 201)] and status_of(ex, 1) == "Inactive"


def test_a_bracket_target_beyond_the_rule_is_rejected_at_the_entry_fill_and_the_stop_keeps_working() -> None:
    ex = make_exchange()
    entry = ex.quote("700").bid - 5
    target = spreads(ex, entry, 40, "up")
    place_bracket(ex, entry=entry, target=target, stop=entry - 10)
    events = ex.move_price("700", price=entry)
    assert fills(events, 1)
    assert errors(events) == [(2, 201)] and status_of(ex, 2) == "Inactive"
    assert changes(events, 3) == [(3, "PreSubmitted", "trigger")]
    stopped = ex.move_price("700", price=entry - Decimal("10.5"))
    assert fills(stopped, 3) and ex.positions()[0].quantity == 0


def test_held_behind_the_setting_a_target_waits_and_is_sent_once_in_range() -> None:
    ex = make_exchange(behaviour=SimBehaviour(quotation_rule_breach="hold"))
    entry = ex.quote("700").bid - 5
    target = spreads(ex, entry, 40, "up")
    place_bracket(ex, entry=entry, target=target, stop=entry - 10)
    events = ex.move_price("700", price=entry)
    assert changes(events, 2) == [(2, "PreSubmitted", "quotation")] and errors(events) == []
    assert changes(events, 3) == [(3, "PreSubmitted", "trigger")]
    closer = ex.move_price("700", price=spreads(ex, entry, 25, "up"))
    assert (2, "Submitted", "") in changes(closer, 2)


def test_the_hold_setting_is_named_and_checked() -> None:
    assert SimBehaviour().quotation_rule_breach == "reject"
    assert behaviour_from_specs(["quotation_rule_breach=hold"]).quotation_rule_breach == "hold"
    try:
        SimBehaviour(quotation_rule_breach="forward")  # type: ignore[arg-type]
    except ValueError as e:
        assert "quotation_rule_breach must be 'reject' or 'hold'" in str(e)
    else:
        raise AssertionError("an unknown quotation_rule_breach was accepted")


def test_moving_a_working_limit_beyond_the_rule_is_refused_and_the_order_keeps_its_price() -> None:
    ex = make_exchange()
    bid = ex.quote("700").bid
    near = spreads(ex, bid, 10, "down")
    ex.place_order(order(1, lmt=near))
    assert errors(ex.place_order(order(1, lmt=spreads(ex, bid, 30, "down")))) == [(1, 201)]
    assert ex.open_orders()[0].lmt_price == near


# --- price limits ---------------------------------------------------------------------------------


def test_limits_at_nine_times_or_one_ninth_of_the_last_price_are_rejected_at_placement() -> None:
    ex = make_exchange(cash=Decimal("1e9"))
    ex.drift(ACCOUNT, "700", 100)
    last = ex.quote("700").last
    high = ex.place_order(order(1, lmt=snap_to_tick(last * 9, "up", on=ex.now())))
    assert errors(high) == [(1, 201)] and "9 times or one-ninth" in rejection(high, 1).message
    assert errors(ex.place_order(order(2, "SELL", lmt=snap_to_tick(last / 9, "down", on=ex.now())))) == [
        (2, 201)
    ]
    assert ex.open_orders() == []


# --- cancel windows -------------------------------------------------------------------------------


def test_a_cancel_at_lunch_before_1230_waits_pending_cancel_and_goes_at_1230() -> None:
    ex = make_exchange(at(11, 50))
    bid = ex.quote("700").bid
    ex.place_order(order(1, lmt=spreads(ex, bid, 20, "down"), tif="GTC"))
    ex.set_clock(at(12, 0))
    events = ex.cancel_order(1, 1)
    assert changes(events, 1) == [(1, "PendingCancel", "")] and errors(events) == []
    assert errors(ex.set_clock(at(12, 29, 59))) == [] and status_of(ex, 1) == "PendingCancel"
    opened = ex.set_clock(at(12, 30))
    assert changes(opened, 1) == [(1, "Cancelled", "")] and errors(opened) == [(1, 202)]


def test_a_cancel_in_the_second_half_of_lunch_is_immediate() -> None:
    ex = make_exchange(at(11, 50))
    ex.place_order(order(1, lmt=spreads(ex, ex.quote("700").bid, 20, "down")))
    ex.set_clock(at(12, 30))
    assert errors(ex.cancel_order(1, 1)) == [(1, 202)] and status_of(ex, 1) == "Cancelled"


def test_a_cancel_in_the_closing_auction_window_waits_until_1610() -> None:
    ex = make_exchange(at(15, 50))
    ex.place_order(order(1, lmt=spreads(ex, ex.quote("700").bid, 20, "down"), tif="GTC"))
    ex.set_clock(at(16, 6))
    assert changes(ex.cancel_order(1, 1), 1) == [(1, "PendingCancel", "")]
    ex.set_clock(at(16, 9, 59))
    assert status_of(ex, 1) == "PendingCancel"
    ex.set_clock(at(16, 10))
    assert status_of(ex, 1) == "Cancelled"
    assert next(o for o in ex.all_orders() if o.order_id == 1).completed_status == "Cancelled by Trader"


def test_a_cancel_in_the_pre_opening_window_goes_at_0930_before_the_order_works() -> None:
    ex = make_exchange(at(15, 0))
    ex.place_order(order(1, lmt=spreads(ex, ex.quote("700").bid, 20, "down"), tif="GTC"))
    ex.set_clock(at(9, 15, day=(2026, 11, 25)))
    assert changes(ex.cancel_order(1, 1), 1) == [(1, "PendingCancel", "")]
    opened = ex.set_clock(at(9, 30, 1, day=(2026, 11, 25)))
    assert changes(opened, 1) == [(1, "Cancelled", "")] and fills(opened, 1) == []


def test_on_a_half_day_the_no_cancel_window_is_1206_to_1210() -> None:
    half = (2026, 12, 24)
    ex = make_exchange(at(11, 58, day=half))
    ex.place_order(order(1, lmt=spreads(ex, ex.quote("700").bid, 20, "down"), tif="GTC"))
    ex.place_order(order(2, lmt=spreads(ex, ex.quote("700").bid, 21, "down"), tif="GTC"))
    ex.set_clock(at(12, 5, 59, day=half))
    assert status_of(ex, 1) == "Submitted"
    assert errors(ex.cancel_order(1, 1)) == [(1, 202)]  # 12:05:59: still allowed
    ex.set_clock(at(12, 6, day=half))
    assert changes(ex.cancel_order(1, 2), 2) == [(2, "PendingCancel", "")]
    ex.set_clock(at(12, 10, day=half))
    assert status_of(ex, 2) == "Cancelled"


def test_with_the_setting_off_a_cancel_at_lunch_is_immediate() -> None:
    ex = make_exchange(at(11, 50), behaviour=SimBehaviour(cancel_window_pending=False))
    ex.place_order(order(1, lmt=spreads(ex, ex.quote("700").bid, 20, "down")))
    ex.set_clock(at(12, 10))
    assert errors(ex.cancel_order(1, 1)) == [(1, 202)]


def test_cancelling_a_bracket_parent_at_lunch_keeps_its_children_until_the_window_opens() -> None:
    ex = make_exchange(at(11, 50))
    entry = spreads(ex, ex.quote("700").bid, 10, "down")
    place_bracket(ex, entry=entry, target=entry + 5, stop=entry - 10)
    ex.set_clock(at(12, 10))
    ex.cancel_order(1, 1)
    assert {o.order_id: o.status for o in ex.open_orders()} == {
        1: "PendingCancel",
        2: "PreSubmitted",
        3: "PreSubmitted",
    }
    ex.set_clock(at(12, 30, 1))
    assert ex.open_orders() == []


# --- amend windows --------------------------------------------------------------------------------

HALF = (2026, 12, 24)  # Christmas Eve: a half day, no afternoon
NEXT = (2026, 11, 25)

#: (placed at, first second of the window, its last second, when it opens) for each no-amend window
AMEND_WINDOWS = [
    ((15, 0, 0, DAY), (9, 15, 0, NEXT), (9, 29, 59, NEXT), (9, 30, 0, NEXT)),
    ((11, 59, 0, DAY), (12, 0, 0, DAY), (12, 59, 59, DAY), (13, 0, 0, DAY)),
    ((15, 59, 0, DAY), (16, 6, 0, DAY), (16, 9, 59, DAY), (16, 10, 0, DAY)),
    ((11, 59, 0, HALF), (12, 6, 0, HALF), (12, 9, 59, HALF), (12, 10, 0, HALF)),
]


def _resting(ex: Exchange, n: int = 8) -> Decimal:
    """A GTC buy limit ``n`` spreads below the bid (it rests through every window) as order 1."""
    price = spreads(ex, ex.quote("700").bid, n, "down")
    assert changes(ex.place_order(order(1, lmt=price, tif="GTC")), 1) == [(1, "Submitted", "")]
    return price


def _lmt(ex: Exchange, order_id: int = 1) -> Decimal | None:
    return next(o for o in ex.all_orders() if o.order_id == order_id).lmt_price


def _t(spec: tuple[int, int, int, tuple[int, int, int]]) -> datetime:
    return at(spec[0], spec[1], spec[2], day=spec[3])


@pytest.mark.parametrize(("placed", "first", "last", "opens"), AMEND_WINDOWS)
def test_an_amendment_is_held_from_the_windows_first_to_its_last_second_and_applied_when_it_opens(
    placed: tuple,
    first: tuple,
    last: tuple,
    opens: tuple,  # type: ignore[type-arg]
) -> None:
    ex = make_exchange(_t(placed))
    old = _resting(ex)
    before = _t(first) - timedelta(seconds=1)
    ex.set_clock(before)
    moved = spreads(ex, old, 1, "down")
    assert errors(ex.place_order(order(1, lmt=moved, tif="GTC"))) == [] and _lmt(ex) == moved  # just before
    ex.set_clock(_t(first))
    newer = spreads(ex, moved, 1, "down")
    held = ex.place_order(order(1, lmt=newer, tif="GTC"))
    assert errors(held) == [] and _lmt(ex) == moved  # answered at once, on the old terms
    assert [e.order.lmt_price for e in held if isinstance(e, OrderChanged)] == [moved]
    assert ex.set_clock(_t(last)) is not None and _lmt(ex) == moved
    opened = ex.set_clock(_t(opens))
    assert _lmt(ex) == newer
    assert [e.order.lmt_price for e in opened if isinstance(e, OrderChanged)][-1] == newer


def test_a_second_amendment_in_the_window_replaces_the_held_one() -> None:
    ex = make_exchange(at(11, 50))
    old = _resting(ex)
    ex.set_clock(at(12, 10))
    ex.place_order(order(1, lmt=spreads(ex, old, 1, "down"), tif="GTC"))
    last = spreads(ex, old, 2, "down")
    ex.place_order(order(1, lmt=last, tif="GTC"))
    ex.set_clock(at(13, 0))
    assert _lmt(ex) == last


def test_a_cancel_after_a_held_amendment_drops_it() -> None:
    ex = make_exchange(at(11, 50))
    old = _resting(ex)
    ex.set_clock(at(12, 40))  # cancels allowed, amendments not
    ex.place_order(order(1, lmt=spreads(ex, old, 1, "down"), tif="GTC"))
    assert errors(ex.cancel_order(1, 1)) == [(1, 202)]
    assert errors(ex.set_clock(at(13, 0))) == [] and _lmt(ex) == old


def test_with_amend_window_reject_an_amendment_at_lunch_gets_201_and_the_order_keeps_its_terms() -> None:
    ex = make_exchange(at(11, 50), behaviour=behaviour_from_specs(["amend_window=reject"]))
    old = _resting(ex)
    ex.set_clock(at(12, 59, 59))
    refused = ex.place_order(order(1, lmt=spreads(ex, old, 1, "down"), tif="GTC"))
    assert errors(refused) == [(1, 201)]
    assert "no amendment during the lunch break" in rejection(refused, 1).message
    assert _lmt(ex) == old and status_of(ex, 1) == "Submitted"
    ex.set_clock(at(13, 0))
    moved = spreads(ex, old, 1, "down")
    assert errors(ex.place_order(order(1, lmt=moved, tif="GTC"))) == [] and _lmt(ex) == moved


def test_the_amend_window_setting_is_named_and_checked() -> None:
    assert SimBehaviour().amend_window == "hold"
    with pytest.raises(ValueError, match="amend_window must be 'hold' or 'reject'"):
        SimBehaviour(amend_window="queue")  # type: ignore[arg-type]


def test_modifying_a_cancelled_or_cancel_pending_order_gets_104_as_ib_writes_it() -> None:
    ex = make_exchange(at(11, 50))
    old = _resting(ex)
    ex.set_clock(at(12, 10))
    ex.cancel_order(1, 1)  # PendingCancel until 12:30
    pending = ex.place_order(order(1, lmt=spreads(ex, old, 1, "down"), tif="GTC"))
    assert errors(pending) == [(1, 104)] and rejection(pending, 1).message == "Cannot modify a filled order."
    ex.set_clock(at(12, 30))
    assert errors(ex.place_order(order(1, lmt=old, tif="GTC"))) == [(1, 104)]


def test_an_order_at_lunch_gets_ibs_399_text_with_the_time_it_will_be_placed() -> None:
    ex = make_exchange(at(12, 10))
    events = ex.place_order(order(1, lmt=spreads(ex, ex.quote("700").bid, 5, "down")))
    change = next(e for e in events if isinstance(e, OrderChanged))
    assert change.warning == (
        399,
        "Order Message:\nBUY 100 700 SEHK.700\n"
        "Warning: your order will not be placed at the exchange until 2026-11-24 13:00:00 Asia/Hong_Kong",
    )


def test_a_held_amendment_survives_a_gateway_restart(tmp_path: Path) -> None:
    state = tmp_path / "sim.duckdb"
    ex = make_exchange(at(11, 59), state=state, fresh=True)
    old = _resting(ex)
    ex.set_clock(at(12, 10))
    moved = spreads(ex, old, 1, "down")
    ex.place_order(order(1, lmt=moved, tif="GTC"))
    ex.close()
    again = make_exchange(at(12, 20), state=state)
    assert _lmt(again) == old
    again.set_clock(at(13, 0))
    assert _lmt(again) == moved
    again.close()
