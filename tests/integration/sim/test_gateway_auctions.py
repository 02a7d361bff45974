"""HKEX's auctions as ib_async sees them from the simulated gateway, over a real socket.

A DAY limit still working at 16:00 fills in the closing auction at the one auction price, at the
random close (16:08-16:10), reported with execDetails and a commissionReport of HKEX fees with
stamp duty; an at-auction limit beyond +-5 % of the reference price is refused with a 201; the
pre-opening session matches at-auction limits between 09:20 and 09:22. This module moves the
clock, so every test has its own gateway.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from ib_async import LimitOrder, Stock
from sim_gateway_helpers import connect, start_fresh_gateway, wait_until

from catalyst.market import FIXED, HK_TZ, TradingDay, fill_fees, session_for, snap_to_tick, tick_up
from catalyst.market.auction import band
from catalyst.sim.engine.auction_book import (
    cas_close_at,
    cas_crowd_price,
    cas_reference,
    pos_crowd_price,
    pos_match_at,
    pos_reference,
)
from catalyst.sim.engine.contracts import LISTINGS
from catalyst.sim.engine.prices import PriceModel
from catalyst.sim.gateway.launcher import GatewayHandle

pytestmark = pytest.mark.integration

DAY = date(2026, 11, 24)
NEXT = date(2026, 11, 25)
SEED = 7  # the gateway's default seed: the test computes the same auction prices


def hk(day: date, h: int, m: int, s: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, h, m, s, tzinfo=HK_TZ)


def session(day: date) -> TradingDay:
    td = session_for(day)
    assert td is not None
    return td


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[GatewayHandle]:
    handle = start_fresh_gateway(tmp_path / "gw", speed=0)
    yield handle
    handle.stop()


def resting_buy_at_the_close(handle: GatewayHandle, prices: PriceModel) -> tuple[str, Decimal]:
    """A symbol whose closing-auction price is at or under its bid at 15:59:59, and that price."""
    td = session(DAY)
    for symbol in list(LISTINGS)[:20]:
        crowd = cas_crowd_price(prices, symbol, td, cas_reference(prices, symbol, td))
        if crowd <= Decimal(handle.control.quote(symbol)["bid"]):
            return symbol, crowd
    raise AssertionError("no listed symbol closes at or under its bid on this day")


def test_a_day_limit_order_fills_in_the_closing_auction_with_its_execution_and_commission(
    gateway: GatewayHandle,
) -> None:
    prices = PriceModel(SEED)
    gateway.control.set_clock(hk(DAY, 15, 59, 59).isoformat())
    symbol, price = resting_buy_at_the_close(gateway, prices)
    lot = LISTINGS[symbol].board_lot
    ib = connect(gateway)
    try:
        contract = Stock(symbol, "SEHK", "HKD")
        ib.qualifyContracts(contract)
        trade = ib.placeOrder(contract, LimitOrder("BUY", lot, float(price), tif="DAY"))
        assert wait_until(ib, lambda: trade.orderStatus.status == "Submitted")
        gateway.control.set_clock(hk(DAY, 16, 5).isoformat())  # in the auction: nothing yet
        ib.sleep(0.3)
        assert trade.orderStatus.status == "Submitted" and not trade.fills
        gateway.control.set_clock(hk(DAY, 16, 10, 30).isoformat())
        assert wait_until(ib, lambda: trade.orderStatus.status == "Filled")
        assert wait_until(ib, lambda: bool(trade.fills) and trade.fills[0].commissionReport.commission > 0)
        fill = trade.fills[0]
        close = cas_close_at(SEED, session(DAY))
        assert Decimal(str(fill.execution.price)) == price and fill.execution.shares == lot
        assert fill.execution.time.astimezone(UTC) == close.astimezone(UTC)
        assert hk(DAY, 16, 8) <= close < hk(DAY, 16, 10)
        fees = fill_fees(symbol, lot, price, plan=FIXED, on=DAY)
        assert fees.stamp_duty > 0  # an equity: stamp duty is part of the charge
        assert Decimal(str(fill.commissionReport.commission)).quantize(Decimal("0.01")) == fees.total
        ib.reqPositions()
        assert wait_until(
            ib, lambda: [p.position for p in ib.positions() if p.contract.symbol == symbol] == [lot]
        )
    finally:
        ib.disconnect()


def test_an_at_auction_limit_beyond_five_percent_of_the_reference_price_is_rejected(
    gateway: GatewayHandle,
) -> None:
    prices = PriceModel(SEED)
    gateway.control.set_clock(hk(DAY, 16, 2).isoformat())
    reference = cas_reference(prices, "700", session(DAY))
    edge = snap_to_tick(band(reference)[1], "down", on=DAY)
    ib = connect(gateway)
    try:
        contract = Stock("700", "SEHK", "HKD")
        ib.qualifyContracts(contract)
        beyond = ib.placeOrder(contract, LimitOrder("BUY", 100, float(tick_up(edge, on=DAY)), tif="AUC"))
        assert wait_until(ib, lambda: any(e.errorCode == 201 for e in beyond.log))
        message = next(e.message for e in beyond.log if e.errorCode == 201)
        assert "+/-5%" in message and f"reference price {reference}" in message
        inside = ib.placeOrder(contract, LimitOrder("BUY", 100, float(edge), tif="AUC"))
        assert wait_until(ib, lambda: inside.orderStatus.status == "Submitted")
        assert not any(e.errorCode == 201 for e in inside.log)
    finally:
        ib.disconnect()


def test_the_pre_opening_session_matches_at_auction_limits_between_0920_and_0922(
    gateway: GatewayHandle,
) -> None:
    prices = PriceModel(SEED)
    td = session(NEXT)
    iep = pos_crowd_price(prices, "700", td, pos_reference(prices, "700", td))
    gateway.control.set_clock(hk(NEXT, 9, 5).isoformat())
    ib = connect(gateway)
    try:
        contract = Stock("700", "SEHK", "HKD")
        ib.qualifyContracts(contract)
        trade = ib.placeOrder(contract, LimitOrder("BUY", 100, float(tick_up(iep, on=NEXT)), tif="AUC"))
        assert wait_until(ib, lambda: trade.orderStatus.status == "Submitted")
        matched = pos_match_at(SEED, td)
        gateway.control.set_clock((matched - timedelta(seconds=1)).isoformat())
        ib.sleep(0.3)
        assert not trade.fills
        gateway.control.set_clock(hk(NEXT, 9, 25).isoformat())
        assert wait_until(ib, lambda: trade.orderStatus.status == "Filled")
        fill = trade.fills[0]
        assert Decimal(str(fill.execution.price)) == iep
        assert hk(NEXT, 9, 20) <= fill.execution.time.astimezone(HK_TZ) < hk(NEXT, 9, 22)
    finally:
        ib.disconnect()
