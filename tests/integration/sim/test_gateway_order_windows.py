"""HKEX's cancel and amend windows and IB's rejection texts, as ib_async sees them over a real socket.

An amendment at lunch is held (openOrder at once with the old terms, the new ones at 13:00) or,
behind ``amend_window=reject``, refused with a 201; an order accepted at lunch gets IB's 399 text;
modifying a filled order gets IB's 104; a child whose parent id is unknown gets IB's 135. (A cancel
at 12:10 waiting PendingCancel until 12:30 is in ``test_gateway_hkex_rules``.)
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from ib_async import IB, LimitOrder, MarketOrder, Stock, Trade
from sim_gateway_helpers import connect, start_fresh_gateway, wait_until

from catalyst.market import ticks_from
from catalyst.sim.gateway.launcher import GatewayHandle

pytestmark = pytest.mark.integration

DAY = "2026-11-24"


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[GatewayHandle]:
    handle = start_fresh_gateway(tmp_path / "gw", speed=0)
    yield handle
    handle.stop()


@pytest.fixture
def rejecting_gateway(tmp_path: Path) -> Iterator[GatewayHandle]:
    handle = start_fresh_gateway(tmp_path / "gw-reject", speed=0, behaviour=("amend_window=reject",))
    yield handle
    handle.stop()


def _errors(ib: IB) -> list[tuple[int, int, str]]:
    seen: list[tuple[int, int, str]] = []
    ib.errorEvent += lambda req_id, code, message, _contract: seen.append((req_id, code, message))
    return seen


def _resting_buy(ib: IB, handle: GatewayHandle, spreads: int = 8) -> tuple[Stock, Trade, Decimal]:
    handle.control.set_clock(f"{DAY}T11:59:00+08:00")
    contract = Stock("700", "SEHK", "HKD")
    ib.qualifyContracts(contract)
    price = ticks_from(Decimal(handle.control.quote("700")["bid"]), spreads, "down", on=None)
    order = LimitOrder("BUY", 100, float(price), tif="GTC")
    trade = ib.placeOrder(contract, order)
    assert wait_until(ib, lambda: trade.orderStatus.status == "Submitted")
    return contract, trade, price


def _at_gateway(handle: GatewayHandle, order_id: int) -> dict:  # type: ignore[type-arg]
    return next(o for o in handle.control.orders() if o["order_id"] == order_id)


def test_an_amendment_at_lunch_is_held_until_1300_and_the_order_works_on_its_old_price(
    gateway: GatewayHandle,
) -> None:
    ib = connect(gateway)
    try:
        errors = _errors(ib)
        contract, trade, old = _resting_buy(ib, gateway)
        gateway.control.set_clock(f"{DAY}T12:10:00+08:00")
        new = ticks_from(old, 1, "down", on=None)
        trade.order.lmtPrice = float(new)
        ib.placeOrder(contract, trade.order)
        assert wait_until(ib, lambda: any(e.message == "Modify" for e in trade.log))
        ib.sleep(0.3)
        assert Decimal(str(_at_gateway(gateway, trade.order.orderId)["lmt_price"])) == old
        assert trade.orderStatus.status == "Submitted" and errors == []
        gateway.control.set_clock(f"{DAY}T13:00:01+08:00")
        assert wait_until(
            ib, lambda: Decimal(str(_at_gateway(gateway, trade.order.orderId)["lmt_price"])) == new
        )
        assert trade.orderStatus.status == "Submitted" and errors == []
    finally:
        ib.disconnect()


def test_behind_amend_window_reject_an_amendment_at_lunch_gets_a_201(
    rejecting_gateway: GatewayHandle,
) -> None:
    ib = connect(rejecting_gateway)
    try:
        errors = _errors(ib)
        contract, trade, old = _resting_buy(ib, rejecting_gateway)
        rejecting_gateway.control.set_clock(f"{DAY}T12:10:00+08:00")
        trade.order.lmtPrice = float(ticks_from(old, 1, "down", on=None))
        ib.placeOrder(contract, trade.order)
        assert wait_until(ib, lambda: any(code == 201 for _r, code, _m in errors))
        (req_id, _code, message) = next(e for e in errors if e[1] == 201)
        assert req_id == trade.order.orderId
        assert message.startswith("Order rejected - reason:HKEX allows no amendment during the lunch break")
        assert Decimal(str(_at_gateway(rejecting_gateway, trade.order.orderId)["lmt_price"])) == old
    finally:
        ib.disconnect()


def test_an_order_at_lunch_gets_ibs_399_text(gateway: GatewayHandle) -> None:
    ib = connect(gateway)
    try:
        errors = _errors(ib)
        gateway.control.set_clock(f"{DAY}T12:10:00+08:00")
        contract = Stock("700", "SEHK", "HKD")
        ib.qualifyContracts(contract)
        price = ticks_from(Decimal(gateway.control.quote("700")["bid"]), 5, "down", on=None)
        trade = ib.placeOrder(contract, LimitOrder("BUY", 100, float(price)))
        assert wait_until(ib, lambda: any(code == 399 for _r, code, _m in errors))
        assert (
            trade.order.orderId,
            399,
            (
                "Order Message:\nBUY 100 700 SEHK.700\n"
                f"Warning: your order will not be placed at the exchange until {DAY} 13:00:00 Asia/Hong_Kong"
            ),
        ) in errors
    finally:
        ib.disconnect()


def test_modifying_a_filled_order_gets_ibs_104(gateway: GatewayHandle) -> None:
    ib = connect(gateway)
    try:
        errors = _errors(ib)
        gateway.control.set_clock(f"{DAY}T10:00:00+08:00")
        contract = Stock("700", "SEHK", "HKD")
        ib.qualifyContracts(contract)
        trade = ib.placeOrder(contract, MarketOrder("BUY", 100))
        assert wait_until(ib, lambda: trade.orderStatus.status == "Filled")
        trade.order.totalQuantity = 200
        # the client's own call (ib.placeOrder refuses locally to modify a trade it knows is done)
        ib.client.placeOrder(trade.order.orderId, contract, trade.order)
        assert wait_until(ib, lambda: any(code == 104 for _r, code, _m in errors))
        assert (trade.order.orderId, 104, "Cannot modify a filled order.") in errors
    finally:
        ib.disconnect()


def test_a_child_of_an_unknown_parent_gets_ibs_135_and_no_order(gateway: GatewayHandle) -> None:
    ib = connect(gateway)
    try:
        errors = _errors(ib)
        gateway.control.set_clock(f"{DAY}T10:00:00+08:00")
        contract = Stock("700", "SEHK", "HKD")
        ib.qualifyContracts(contract)
        price = ticks_from(Decimal(gateway.control.quote("700")["ask"]), 5, "up", on=None)
        child = LimitOrder("SELL", 100, float(price), parentId=987654)
        trade = ib.placeOrder(contract, child)
        assert wait_until(ib, lambda: any(code == 135 for _r, code, _m in errors))
        assert (trade.order.orderId, 135, "Can't find order with id = 987654") in errors
        assert all(o["order_id"] != trade.order.orderId for o in gateway.control.orders())
    finally:
        ib.disconnect()
