"""The simulator's auctions: the CAS matches at one price at its random close, the POS at 09:20-09:22.

The rules are catalyst.market.auction's; the crowd and the times come from catalyst.sim.engine.auction_book.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from engine_support import changes, errors, fills, make_exchange, order, status_of

import catalyst.market
from catalyst.market import HK_TZ, TradingDay, session_for, snap_to_tick, tick_down, tick_up, use_universe
from catalyst.market.auction import band
from catalyst.sim.engine.auction_book import (
    cas_close_at,
    cas_crowd_price,
    cas_reference,
    crowd_shares,
    pos_crowd_price,
    pos_match_at,
    pos_reference,
)
from catalyst.sim.engine.behaviour import SimBehaviour
from catalyst.sim.engine.contracts import LISTINGS
from catalyst.sim.engine.exchange import Exchange

DAY = date(2026, 11, 24)
HALF = date(2026, 12, 24)


def hk(day: date, h: int, m: int, s: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, h, m, s, tzinfo=HK_TZ)


def session(day: date) -> TradingDay:
    td = session_for(day)
    assert td is not None
    return td


def buyable_at_the_close(ex: Exchange, day: date = DAY) -> tuple[str, Decimal]:
    """A symbol whose crowd auction price is at or under the last bid, so a buy there rests until 16:00,
    and that price."""
    td = session(day)
    for symbol in list(LISTINGS)[:20]:
        crowd = cas_crowd_price(ex.prices, symbol, td, cas_reference(ex.prices, symbol, td))
        if crowd <= ex.quote(symbol).bid:
            return symbol, crowd
    raise AssertionError("no listed symbol closes at or under its bid on this day")


def test_a_day_limit_working_at_1600_fills_in_the_closing_auction_at_the_one_price() -> None:
    ex = make_exchange(hk(DAY, 15, 59, 59))
    symbol, price = buyable_at_the_close(ex)
    lot = LISTINGS[symbol].board_lot
    ex.place_order(order(1, "BUY", lot, lmt=price, symbol=symbol, tif="DAY"))
    assert status_of(ex, 1) == "Submitted"
    close = cas_close_at(ex.seed, session(DAY))
    assert fills(ex.set_clock(close - timedelta(seconds=1))) == []  # nothing before the random close
    events = ex.set_clock(hk(DAY, 16, 10, 30))
    [execution] = [f.execution for f in fills(events, 1)]
    assert (execution.shares, execution.price, execution.time) == (lot, price, close)
    assert hk(DAY, 16, 8) <= execution.time < hk(DAY, 16, 10)
    assert execution.commission > 0 and status_of(ex, 1) == "Filled"
    assert errors(events) == []  # filled, so nothing expires


def test_a_day_limit_worse_than_the_auction_price_does_not_fill_and_expires_with_202() -> None:
    ex = make_exchange(hk(DAY, 15, 59, 59))
    symbol, price = buyable_at_the_close(ex)
    worse = tick_down(price, on=DAY, table=LISTINGS[symbol].spread_table)
    ex.place_order(order(1, "BUY", LISTINGS[symbol].board_lot, lmt=worse, symbol=symbol, tif="DAY"))
    events = ex.set_clock(hk(DAY, 16, 10, 1))
    assert fills(events) == []
    assert changes(events, 1) == [(1, "Cancelled", "")] and errors(events) == [(1, 202)]


def test_behind_auction_fills_false_the_day_limit_rests_through_the_auction() -> None:
    ex = make_exchange(hk(DAY, 15, 59, 59), behaviour=SimBehaviour(auction_fills=False))
    symbol, price = buyable_at_the_close(ex)
    ex.place_order(order(1, "BUY", LISTINGS[symbol].board_lot, lmt=price, symbol=symbol, tif="DAY"))
    events = ex.set_clock(hk(DAY, 16, 10, 1))
    assert fills(events) == [] and errors(events) == [(1, 202)]


def test_a_gtc_limit_rests_through_the_closing_auction() -> None:
    ex = make_exchange(hk(DAY, 15, 59, 59))
    symbol, price = buyable_at_the_close(ex)
    ex.place_order(order(1, "BUY", LISTINGS[symbol].board_lot, lmt=price, symbol=symbol, tif="GTC"))
    assert fills(ex.set_clock(hk(DAY, 16, 10, 1))) == [] and status_of(ex, 1) == "Submitted"


def test_an_at_auction_limit_is_accepted_at_the_band_edge_and_refused_one_tick_beyond() -> None:
    ex = make_exchange(hk(DAY, 16, 2))
    td = session(DAY)
    ref = cas_reference(ex.prices, "700", td)
    _low, high = band(ref)
    edge = snap_to_tick(high, "down", on=DAY)  # the highest price on the ladder within +5 %
    beyond = tick_up(edge, on=DAY)
    events = ex.place_order(order(1, "SELL", 100, lmt=beyond, tif="AUC"))
    [rejection] = [e for e in events if type(e).__name__ == "OrderRejected"]
    assert rejection.code == 201 and "+/-5%" in rejection.message and str(ref) in rejection.message
    events = ex.place_order(order(2, "BUY", 100, lmt=edge, tif="AUC"))
    assert changes(events, 2) == [(2, "Submitted", "")] and errors(events) == []


def test_an_at_auction_limit_at_or_better_than_the_auction_price_fills_at_the_close() -> None:
    ex = make_exchange(hk(DAY, 16, 3))
    td = session(DAY)
    crowd = cas_crowd_price(ex.prices, "700", td, cas_reference(ex.prices, "700", td))
    ex.place_order(order(1, "BUY", 100, lmt=crowd, tif="AUC"))
    ex.place_order(order(2, "BUY", 100, lmt=tick_down(crowd, on=DAY), tif="AUC"))
    events = ex.set_clock(hk(DAY, 16, 10, 1))
    assert [(f.order.order_id, f.execution.price) for f in fills(events)] == [(1, crowd)]
    assert errors(events) == [(2, 202)]  # the worse one ends with the day


def test_at_auction_orders_are_refused_outside_the_input_periods() -> None:
    for at in (hk(DAY, 10, 0), hk(DAY, 16, 0, 30), hk(DAY, 9, 16)):
        ex = make_exchange(at)
        events = ex.place_order(order(1, "BUY", 100, lmt=ex.quote("700").last, tif="AUC"))
        assert errors(events) == [(1, 201)]
        assert "auction input periods" in next(e.message for e in events if hasattr(e, "code"))


def test_after_the_random_close_no_at_auction_order_is_taken() -> None:
    close = cas_close_at(7, session(DAY))
    ex = make_exchange(close)
    assert errors(ex.place_order(order(1, "BUY", 100, lmt=ex.quote("700").last, tif="AUC"))) == [(1, 201)]


def test_behind_auction_fills_false_at_auction_orders_are_refused() -> None:
    ex = make_exchange(hk(DAY, 16, 2), behaviour=SimBehaviour(auction_fills=False))
    events = ex.place_order(order(1, "BUY", 100, lmt=ex.quote("700").last, tif="AUC"))
    assert errors(events) == [(1, 201)]


def test_a_half_day_closes_its_auction_between_1208_and_1210() -> None:
    ex = make_exchange(hk(HALF, 12, 3))
    td = session(HALF)
    crowd = cas_crowd_price(ex.prices, "700", td, cas_reference(ex.prices, "700", td))
    ex.place_order(order(1, "BUY", 100, lmt=crowd, tif="AUC"))
    [execution] = [f.execution for f in fills(ex.set_clock(hk(HALF, 12, 10, 1)))]
    assert hk(HALF, 12, 8) <= execution.time < hk(HALF, 12, 10) and execution.price == crowd


def test_a_bracket_entered_in_the_auction_holds_its_children_until_the_next_session() -> None:
    ex = make_exchange(hk(DAY, 15, 59, 59))
    symbol, price = buyable_at_the_close(ex)
    lot, table = LISTINGS[symbol].board_lot, LISTINGS[symbol].spread_table
    target, stop = price, price
    for _ in range(10):
        target, stop = tick_up(target, on=DAY, table=table), tick_down(stop, on=DAY, table=table)
    ex.place_order(order(1, "BUY", lot, lmt=price, symbol=symbol, transmit=False))
    ex.place_order(order(2, "SELL", lot, lmt=target, symbol=symbol, parent_id=1, transmit=False, tif="GTC"))
    ex.place_order(order(3, "SELL", lot, "STP", aux=stop, symbol=symbol, parent_id=1, tif="GTC"))
    events = ex.set_clock(hk(DAY, 16, 10, 30))
    assert [f.order.order_id for f in fills(events)] == [1]
    assert (2, "PreSubmitted", "") in changes(events, 2) and (3, "PreSubmitted", "trigger") in changes(
        events, 3
    )
    assert errors(events) == []  # GTC children do not expire with the day
    ex.set_clock(hk(date(2026, 11, 25), 9, 30, 1))
    assert status_of(ex, 2) in ("Submitted", "Filled", "Cancelled")  # working from the next open
    assert status_of(ex, 3) in ("PreSubmitted", "Submitted", "Filled", "Cancelled")


# --- the pre-opening session ------------------------------------------------------------------------


def test_the_pos_matches_at_auction_limits_at_the_days_opening_price_between_0920_and_0922() -> None:
    ex = make_exchange(hk(DAY, 9, 5))
    td = session(DAY)
    iep = pos_crowd_price(ex.prices, "700", td, pos_reference(ex.prices, "700", td))
    ex.place_order(order(1, "BUY", 100, lmt=tick_up(iep, on=DAY), tif="AUC"))
    ex.place_order(order(2, "BUY", 100, "MKT", tif="AUC"))
    events = ex.set_clock(hk(DAY, 9, 25))
    matched = pos_match_at(ex.seed, td)
    assert hk(DAY, 9, 20) <= matched < hk(DAY, 9, 22)
    assert sorted((f.order.order_id, f.execution.price, f.execution.time) for f in fills(events)) == [
        (1, iep, matched),
        (2, iep, matched),
    ]


def test_an_unfilled_at_auction_limit_carries_into_continuous_trading_at_its_price() -> None:
    ex = make_exchange(hk(DAY, 9, 5))
    td = session(DAY)
    iep = pos_crowd_price(ex.prices, "700", td, pos_reference(ex.prices, "700", td))
    low = iep
    for _ in range(3):
        low = tick_down(low, on=DAY)
    ex.place_order(order(1, "BUY", 100, lmt=low, tif="AUC"))
    assert fills(ex.set_clock(hk(DAY, 9, 25))) == [] and status_of(ex, 1) == "Submitted"
    path = ex.prices.path("700", DAY)
    assert path is not None
    reached = [int(ts) for ts, p in zip(path.ts, path.price, strict=True) if p <= int(low * 1000)]
    if reached:  # it works as a limit from 09:30: the first print at or under it fills it
        [execution] = [f.execution for f in fills(ex.set_clock(hk(DAY, 16, 0)))]
        assert execution.price == low and execution.time.timestamp() == reached[0]
    else:
        assert fills(ex.set_clock(hk(DAY, 16, 0))) == [] and status_of(ex, 1) == "Submitted"


def test_an_at_auction_limit_outside_15_percent_of_the_previous_close_is_refused_in_the_pos() -> None:
    ex = make_exchange(hk(DAY, 9, 1))
    prev = pos_reference(ex.prices, "700", session(DAY))
    _low, high = band(prev, Decimal("0.15"))
    beyond = tick_up(snap_to_tick(high, "down", on=DAY), on=DAY)
    events = ex.place_order(order(1, "BUY", 100, lmt=beyond, tif="AUC"))
    assert errors(events) == [(1, 201)]
    assert "previous close" in next(e.message for e in events if hasattr(e, "code"))


# --- a security without auctions ---------------------------------------------------------------------


@pytest.fixture
def no_auction_symbol(tmp_path: Path) -> Iterator[tuple[str, Decimal]]:
    """A universe in which one security (one that would fill at the close) has neither CAS nor POS."""
    symbol, price = buyable_at_the_close(make_exchange(hk(DAY, 15, 59, 59)))
    doc = json.loads((Path(catalyst.market.__file__).parent / "universe.json").read_text(encoding="utf-8"))
    for sec in doc["securities"]:
        if sec["symbol"] == symbol:
            sec["cas_eligible"] = sec["pos_eligible"] = False
    target = tmp_path / "universe.json"
    target.write_text(json.dumps(doc), encoding="utf-8")
    use_universe(target)
    try:
        yield symbol, price
    finally:
        use_universe(None)


def test_a_security_without_a_closing_auction_does_not_match_at_the_close(
    no_auction_symbol: tuple[str, Decimal],
) -> None:
    symbol, price = no_auction_symbol
    assert not LISTINGS[symbol].cas_eligible
    ex = make_exchange(hk(DAY, 15, 59, 59))
    ex.place_order(order(1, "BUY", LISTINGS[symbol].board_lot, lmt=price, symbol=symbol, tif="DAY"))
    events = ex.set_clock(hk(DAY, 16, 10, 1))
    assert fills(events) == [] and errors(events) == [(1, 202)]
    ex.set_clock(hk(date(2026, 11, 25), 16, 2))
    events = ex.place_order(order(2, "BUY", LISTINGS[symbol].board_lot, lmt=price, symbol=symbol, tif="AUC"))
    assert errors(events) == [(2, 201)]
    assert "not a closing-auction (CAS) security" in next(e.message for e in events if hasattr(e, "code"))


def test_a_security_without_a_pre_opening_session_refuses_at_auction_orders_at_0905(
    no_auction_symbol: tuple[str, Decimal],
) -> None:
    symbol, price = no_auction_symbol
    ex = make_exchange(hk(date(2026, 11, 25), 9, 5))
    events = ex.place_order(order(1, "BUY", LISTINGS[symbol].board_lot, lmt=price, symbol=symbol, tif="AUC"))
    assert errors(events) == [(1, 201)]
    assert "pre-opening session" in next(e.message for e in events if hasattr(e, "code"))


def test_a_cancel_in_the_no_cancellation_period_does_not_take_the_order_out_of_the_auction() -> None:
    ex = make_exchange(hk(DAY, 15, 59, 59))
    symbol, price = buyable_at_the_close(ex)
    ex.place_order(order(1, "BUY", LISTINGS[symbol].board_lot, lmt=price, symbol=symbol, tif="DAY"))
    ex.set_clock(hk(DAY, 16, 7))
    assert changes(ex.cancel_order(1, 1), 1) == [(1, "PendingCancel", "")]  # 16:06-16:10: it waits
    events = ex.set_clock(hk(DAY, 16, 10, 1))
    assert [f.order.order_id for f in fills(events)] == [1] and status_of(ex, 1) == "Filled"


def test_an_at_auction_order_larger_than_the_crowd_fills_what_it_can_and_the_rest_is_cancelled() -> None:
    ex = make_exchange(hk(DAY, 9, 5), cash=Decimal("1000000000"))
    td = session(DAY)
    lot = LISTINGS["16"].board_lot
    crowd = crowd_shares(ex.prices, "16", td)
    size = 3000 * lot  # HKEX's largest order
    assert size > crowd
    iep = pos_crowd_price(ex.prices, "16", td, pos_reference(ex.prices, "16", td))
    ex.place_order(order(1, "BUY", size, "MKT", symbol="16", tif="AUC"))
    events = ex.set_clock(hk(DAY, 9, 25))
    assert [(f.execution.shares, f.execution.price) for f in fills(events, 1)] == [(crowd, iep)]
    assert errors(events) == [(1, 202)] and status_of(ex, 1) == "Cancelled"
