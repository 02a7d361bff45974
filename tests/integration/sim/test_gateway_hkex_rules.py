"""HKEX's order rules as ib_async sees them from the simulated gateway, over a real socket.

A take-profit 24 spreads or more beyond the market ends ``Inactive`` with a 201 while the stop
stays working; behind ``quotation_rule_breach=hold`` it waits ``PreSubmitted``; a cancel sent at
12:10 is ``PendingCancel`` until 12:30, then ``Cancelled``.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from ib_async import IB, LimitOrder, Stock
from sim_gateway_helpers import connect, start_fresh_gateway, wait_until

from catalyst.market import ticks_from
from catalyst.sim.gateway.launcher import GatewayHandle

pytestmark = pytest.mark.integration

TRADING_DAY = "2026-11-24"


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[GatewayHandle]:
    handle = start_fresh_gateway(tmp_path / "gw", speed=0)
    yield handle
    handle.stop()


@pytest.fixture
def holding_gateway(tmp_path: Path) -> Iterator[GatewayHandle]:
    handle = start_fresh_gateway(tmp_path / "gw-hold", speed=0, behaviour=("quotation_rule_breach=hold",))
    yield handle
    handle.stop()


def far_bracket(ib: IB, handle: GatewayHandle) -> tuple[Stock, list]:  # type: ignore[type-arg]
    """ib.bracketOrder for 100 Tencent: entry through the ask, target 40 spreads above, stop below."""
    contract = Stock("700", "SEHK", "HKD")
    ib.qualifyContracts(contract)
    ask = Decimal(handle.control.quote("700")["ask"])
    entry = ticks_from(ask, 2, "up", on=None)
    target = ticks_from(entry, 40, "up", on=None)
    stop = ticks_from(entry, 20, "down", on=None)
    orders = ib.bracketOrder("BUY", 100, float(entry), float(target), float(stop))
    trades = [ib.placeOrder(contract, o) for o in orders]
    return contract, trades


def test_a_take_profit_beyond_24_spreads_ends_inactive_with_201_and_the_stop_keeps_working(
    gateway: GatewayHandle,
) -> None:
    ib = connect(gateway)
    try:
        _contract, (parent, tp, sl) = far_bracket(ib, gateway)
        assert wait_until(ib, lambda: parent.orderStatus.status == "Filled")
        assert wait_until(ib, lambda: tp.orderStatus.status == "Inactive")
        assert any(e.errorCode == 201 and "quotation rule" in e.message for e in tp.log)
        assert wait_until(ib, lambda: sl.orderStatus.status == "PreSubmitted")
        assert sl.order.orderId in {t.order.orderId for t in ib.openTrades()}
        ib.reqPositions()
        assert wait_until(
            ib, lambda: [p.position for p in ib.positions() if p.contract.symbol == "700"] == [100]
        )
    finally:
        ib.disconnect()


def test_behind_the_hold_setting_the_take_profit_waits_presubmitted(holding_gateway: GatewayHandle) -> None:
    ib = connect(holding_gateway)
    try:
        _contract, (parent, tp, sl) = far_bracket(ib, holding_gateway)
        assert wait_until(ib, lambda: parent.orderStatus.status == "Filled")
        assert wait_until(ib, lambda: sl.orderStatus.status == "PreSubmitted")
        assert tp.orderStatus.status == "PreSubmitted"
        assert not any(e.errorCode == 201 for e in tp.log)
        at_gateway = next(o for o in holding_gateway.control.orders() if o["order_id"] == tp.order.orderId)
        assert (at_gateway["status"], at_gateway["why_held"]) == ("PreSubmitted", "quotation")
    finally:
        ib.disconnect()


def test_a_cancel_at_1210_is_pending_until_1230(gateway: GatewayHandle) -> None:
    ib = connect(gateway)
    try:
        contract = Stock("700", "SEHK", "HKD")
        ib.qualifyContracts(contract)
        gateway.control.set_clock(f"{TRADING_DAY}T11:59:50+08:00")
        bid = Decimal(gateway.control.quote("700")["bid"])
        trade = ib.placeOrder(contract, LimitOrder("BUY", 100, float(ticks_from(bid, 20, "down", on=None))))
        trade.order.tif = "GTC"
        assert wait_until(ib, lambda: trade.orderStatus.status == "Submitted")
        gateway.control.set_clock(f"{TRADING_DAY}T12:10:00+08:00")
        ib.cancelOrder(trade.order)
        assert wait_until(ib, lambda: trade.orderStatus.status == "PendingCancel")
        ib.sleep(0.3)
        assert trade.orderStatus.status == "PendingCancel"  # nothing goes before the window opens
        gateway.control.set_clock(f"{TRADING_DAY}T12:30:01+08:00")
        assert wait_until(ib, lambda: trade.orderStatus.status == "Cancelled")
    finally:
        ib.disconnect()
