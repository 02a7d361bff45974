"""Every fault of issue 3 point 6, as an ib_async client sees it."""

from __future__ import annotations

import socket
import time

import pytest
from ib_async import IB, Contract, LimitOrder, Stock
from sim_gateway_helpers import connect, wait_until

from catalyst.sim.gateway.control import GatewayControlError
from catalyst.sim.gateway.launcher import GatewayHandle

pytestmark = pytest.mark.integration


def _tencent(ib: IB) -> Contract:
    [c] = ib.qualifyContracts(Stock("700", "SEHK", "HKD"))
    return c


def _resting_buy(ib: IB, ref: str) -> LimitOrder:
    contract = _tencent(ib)
    bid = ib.reqTickers(contract)[0].bid
    order = LimitOrder("BUY", 100, round(bid - 5, 1), orderRef=ref)
    trade = ib.placeOrder(contract, order)
    assert wait_until(ib, lambda: trade.orderStatus.status == "Submitted")
    return order


def test_disconnect_now_closes_every_client_socket(gateway: GatewayHandle) -> None:
    ib = connect(gateway)
    dropped: list[bool] = []
    ib.disconnectedEvent += lambda: dropped.append(True)
    gateway.control.fault("disconnect", True)
    assert wait_until(ib, lambda: bool(dropped))
    assert not ib.isConnected()
    assert "disconnect" not in gateway.control.faults()  # one-shot


def test_disconnect_after_n_messages_closes_on_the_nth(gateway: GatewayHandle) -> None:
    ib = connect(gateway)
    gateway.control.fault("disconnect", True, after=3)
    ib.reqCurrentTime()
    ib.reqCurrentTime()
    assert ib.isConnected()
    ib.client.reqCurrentTime()  # the third message: the gateway hangs up instead of answering
    assert wait_until(ib, lambda: not ib.isConnected())


def test_restart_drops_clients_refuses_connections_then_comes_back_with_state(gateway: GatewayHandle) -> None:
    ib = connect(gateway)
    _resting_buy(ib, "survives-restart")
    gateway.control.fault("restart", True, seconds=1.5)
    assert wait_until(ib, lambda: not ib.isConnected())
    with pytest.raises(OSError):
        socket.create_connection((gateway.host, gateway.port), timeout=1).close()
    deadline = time.monotonic() + 10
    while not gateway.control.status()["accepting"] and time.monotonic() < deadline:
        time.sleep(0.05)
    again = connect(gateway)
    try:
        assert any(t.order.orderRef == "survives-restart" for t in again.reqAllOpenOrders())
    finally:
        again.reqGlobalCancel()
        again.disconnect()


def test_latency_delays_the_acknowledgement(gateway: GatewayHandle) -> None:
    ib = connect(gateway)
    try:
        gateway.control.fault("latency", True, ms=400)
        contract = _tencent(ib)
        bid = ib.reqTickers(contract)[0].bid
        started = time.monotonic()
        trade = ib.placeOrder(contract, LimitOrder("BUY", 100, round(bid - 5, 1)))
        assert wait_until(ib, lambda: trade.orderStatus.status == "Submitted")
        assert time.monotonic() - started >= 0.4
        ib.cancelOrder(trade.order)
    finally:
        gateway.control.fault("latency", False)
        ib.disconnect()


def test_pacing_answers_error_100_and_then_closes_the_socket(gateway: GatewayHandle) -> None:
    ib = connect(gateway)
    codes: list[int] = []
    ib.errorEvent += lambda req_id, code, msg, contract: codes.append(code)
    ib.client.MaxRequests = 0  # ib_async otherwise throttles itself to 45/s
    gateway.control.fault("pacing", True, limit=5, max_violations=2)
    try:
        for _ in range(20):
            ib.client.reqCurrentTime()
        assert wait_until(ib, lambda: 100 in codes)
        assert wait_until(ib, lambda: not ib.isConnected())
    finally:
        gateway.control.fault("pacing", False)


def test_reject_children_rejects_the_legs_after_the_parent(gateway: GatewayHandle) -> None:
    ib = connect(gateway)
    codes: list[tuple[int, int]] = []
    ib.errorEvent += lambda req_id, code, msg, contract: codes.append((req_id, code))
    gateway.control.fault("reject-children", True)
    try:
        contract = _tencent(ib)
        bid = ib.reqTickers(contract)[0].bid
        parent, tp, sl = (
            ib.placeOrder(contract, o) for o in ib.bracketOrder("BUY", 100, bid - 5, bid, bid - 15)
        )
        assert wait_until(
            ib, lambda: tp.orderStatus.status == "Inactive" and sl.orderStatus.status == "Inactive"
        )
        assert {req for req, code in codes if code == 201} == {tp.order.orderId, sl.order.orderId}
        assert parent.orderStatus.status in ("Submitted", "PreSubmitted")
        ib.cancelOrder(parent.order)
    finally:
        gateway.control.fault("reject-children", False)
        ib.disconnect()


def test_partial_fills_split_an_execution_into_pieces(gateway: GatewayHandle) -> None:
    ib = connect(gateway)
    gateway.control.fault("partial-fills", True, pieces=3)
    try:
        contract = _tencent(ib)
        ask = ib.reqTickers(contract)[0].ask
        trade = ib.placeOrder(contract, LimitOrder("BUY", 300, round(ask + 2, 1)))
        assert wait_until(ib, lambda: trade.orderStatus.status == "Filled")
        assert wait_until(ib, lambda: len(trade.fills) >= 3)
        assert [f.execution.cumQty for f in trade.fills][-1] == 300
        bid = ib.reqTickers(contract)[0].bid
        ib.placeOrder(contract, LimitOrder("SELL", 300, round(bid - 2, 1)))
    finally:
        gateway.control.fault("partial-fills", False)
        ib.disconnect()


def test_drift_changes_a_position_with_no_execution(gateway: GatewayHandle) -> None:
    ib = connect(gateway)
    try:
        contract = _tencent(ib)
        executions_before = len(ib.reqExecutions())
        gateway.control.drift("DU0000001", "700", 300)
        assert wait_until(
            ib, lambda: any(p.contract.conId == contract.conId and p.position == 300 for p in ib.positions())
        )
        assert len(ib.reqExecutions()) == executions_before
        gateway.control.drift("DU0000001", "700", 0)
    finally:
        ib.disconnect()


def test_positions_requested_right_after_a_drift_list_each_position_once(gateway: GatewayHandle) -> None:
    ib = connect(gateway)
    try:
        contract = _tencent(ib)
        gateway.control.drift("DU0000001", "700", 300)
        gateway.control.drift("DU0000001", "700", 500)
        rows = ib.reqPositions()
        keys = [(p.account, p.contract.conId) for p in rows]
        assert len(keys) == len(set(keys)), rows
        assert [p.position for p in rows if p.contract.conId == contract.conId] == [500]
        ib.sleep(0.3)  # any push still due would arrive now
        assert [p.position for p in ib.positions() if p.contract.conId == contract.conId] == [500]
    finally:
        gateway.control.drift("DU0000001", "700", 0)
        ib.disconnect()


def test_control_channel_refuses_an_unknown_fault_with_the_list(gateway: GatewayHandle) -> None:
    with pytest.raises(GatewayControlError, match="drop-children"):
        gateway.control.fault("meteor", True)


def test_control_channel_refuses_a_clock_without_a_zone(gateway: GatewayHandle) -> None:
    with pytest.raises(GatewayControlError, match="time zone"):
        gateway.control.set_clock("2026-11-24T11:00:00")
