"""What the real ib_async 2.1.0 client gets from the simulated gateway, request by request."""

from __future__ import annotations

import time

import pytest
from ib_async import IB, ExecutionFilter, LimitOrder, Stock
from sim_gateway_helpers import connect, wait_until

from catalyst.sim.gateway.launcher import GatewayHandle

pytestmark = pytest.mark.integration


@pytest.fixture
def ib(gateway: GatewayHandle):  # type: ignore[no-untyped-def]
    client = connect(gateway)
    yield client
    client.disconnect()


def _tencent(ib: IB) -> Stock:
    [c] = ib.qualifyContracts(Stock("700", "SEHK", "HKD"))
    return c


def test_connect_syncs_without_any_startup_request_timing_out(gateway: GatewayHandle) -> None:
    started = time.monotonic()
    ib = IB()
    ib.connect(gateway.host, gateway.port, clientId=77, timeout=4, raiseSyncErrors=True)
    try:
        assert time.monotonic() - started < 2.0
        assert ib.managedAccounts() == ["DU0000001"]
        assert ib.client.serverVersion() == 178
        assert any(v.tag == "NetLiquidation" and v.currency == "HKD" for v in ib.accountValues())
    finally:
        ib.disconnect()


def test_farm_notices_arrive_at_connect(gateway: GatewayHandle) -> None:
    ib = IB()
    codes: list[int] = []
    ib.errorEvent += lambda req_id, code, msg, contract: codes.append(code)
    ib.connect(gateway.host, gateway.port, clientId=78, timeout=4)
    ib.disconnect()
    assert {2104, 2106, 2158} <= set(codes)


def test_client_id_clash_gets_326_and_the_id_is_free_again_after_eof(gateway: GatewayHandle) -> None:
    first = connect(gateway, client_id=79)
    second = IB()
    codes: list[int] = []
    second.errorEvent += lambda req_id, code, msg, contract: codes.append(code)
    with pytest.raises((TimeoutError, ConnectionError)):
        second.connect(gateway.host, gateway.port, clientId=79, timeout=1)
    assert 326 in codes
    first.disconnect()
    again = connect(gateway, client_id=79)  # immediately: the gateway freed the id on EOF
    assert again.isConnected()
    again.disconnect()


def test_qualify_gives_the_sehk_contract(ib: IB) -> None:
    c = _tencent(ib)
    assert c.conId > 0 and c.exchange == "SEHK" and c.currency == "HKD" and c.localSymbol == "700"


def test_contract_details_carry_hours_rule_and_synthetic_label(ib: IB) -> None:
    [cd] = ib.reqContractDetails(Stock("700", "SEHK", "HKD"))
    assert cd.longName.endswith("(SIM)") and cd.marketRuleIds and cd.timeZoneId
    assert cd.tradingSessions() and cd.liquidSessions() and cd.minTick > 0


def test_unknown_stock_gets_error_200_and_no_contract(ib: IB) -> None:
    codes: list[int] = []
    ib.errorEvent += lambda req_id, code, msg, contract: codes.append(code)
    assert ib.qualifyContracts(Stock("99999", "SEHK", "HKD")) in ([], [None])
    assert 200 in codes


def test_market_rule_is_the_hkex_ladder(ib: IB) -> None:
    [cd] = ib.reqContractDetails(Stock("700", "SEHK", "HKD"))
    rule = ib.reqMarketRule(int(cd.marketRuleIds.split(",")[0]))
    assert rule and rule[0].lowEdge == 0 and len(rule) > 5


def test_snapshot_has_bid_ask_last_and_volume(ib: IB) -> None:
    [t] = ib.reqTickers(_tencent(ib))
    assert 0 < t.bid < t.ask and t.last > 0 and t.volume > 0 and t.minTick > 0


def test_streaming_quotes_update_while_the_clock_runs(ib: IB, gateway: GatewayHandle) -> None:
    ticker = ib.reqMktData(_tencent(ib))
    assert wait_until(ib, lambda: ticker.last > 0)
    seen = ticker.time
    gateway.control.advance(120)
    assert wait_until(ib, lambda: ticker.time != seen)
    ib.cancelMktData(ticker.contract)


def test_historical_bars_come_in_one_message(ib: IB) -> None:
    bars = ib.reqHistoricalData(_tencent(ib), "", "2 D", "5 mins", "TRADES", True)
    assert len(bars) > 40 and all(b.high >= b.low for b in bars)
    assert bars[-1].date.tzinfo is not None


def test_keep_up_to_date_bars_grow_while_the_clock_runs(ib: IB, gateway: GatewayHandle) -> None:
    contract = _tencent(ib)
    bars = ib.reqHistoricalData(contract, "", "1 D", "1 min", "TRADES", True, keepUpToDate=True)
    count = len(bars)
    gateway.control.advance(180)
    assert wait_until(ib, lambda: len(bars) > count)
    assert bars[-1].date > bars[count - 1].date
    ib.cancelHistoricalData(bars)


def test_current_time_is_the_simulated_clock(ib: IB, gateway: GatewayHandle) -> None:
    server = ib.reqCurrentTime()
    clock = gateway.control.status()["clock"]
    assert server.isoformat()[:13] == clock[:13] or abs(server.timestamp() - _ts(clock)) < 120


def _ts(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()


def test_account_summary_has_hkd_values(ib: IB) -> None:
    tags = {v.tag for v in ib.accountSummary()}
    assert {"NetLiquidation", "TotalCashValue", "BuyingPower"} <= tags


def _cash(ib: IB) -> str:
    return next(v.value for v in ib.accountSummary() if v.tag == "TotalCashValue" and v.currency == "HKD")


def test_account_summary_follows_a_fill_without_a_new_request(ib: IB) -> None:
    before = _cash(ib)  # ib_async asks once, then relies on the gateway pushing changes
    [c] = ib.qualifyContracts(Stock("3988", "SEHK", "HKD"))
    ask = ib.reqTickers(c)[0].ask
    trade = ib.placeOrder(c, LimitOrder("BUY", 1000, round(ask + 0.05, 2)))
    assert wait_until(ib, lambda: trade.orderStatus.status == "Filled")
    assert wait_until(ib, lambda: _cash(ib) != before)
    sell = ib.placeOrder(c, LimitOrder("SELL", 1000, round(ib.reqTickers(c)[0].bid - 0.05, 2)))
    assert wait_until(ib, lambda: sell.orderStatus.status == "Filled")


def test_order_events_go_to_the_owner_and_all_open_orders_shows_them_to_others(
    gateway: GatewayHandle,
) -> None:
    owner, other = connect(gateway), connect(gateway)
    try:
        contract = _tencent(owner)
        bid = owner.reqTickers(contract)[0].bid
        trade = owner.placeOrder(contract, LimitOrder("BUY", 100, round(bid - 5, 1), orderRef="far-below"))
        assert wait_until(owner, lambda: trade.orderStatus.status == "Submitted")
        other.sleep(0.2)
        assert not [t for t in other.trades() if t.order.orderRef == "far-below"]  # no unsolicited events
        seen = [t for t in other.reqAllOpenOrders() if t.order.orderRef == "far-below"]
        assert len(seen) == 1 and seen[0].order.clientId == owner.client.clientId
        owner.cancelOrder(trade.order)
        assert wait_until(owner, lambda: trade.orderStatus.status == "Cancelled")
    finally:
        owner.disconnect()
        other.disconnect()


def test_modify_changes_the_price_at_the_gateway(ib: IB, gateway: GatewayHandle) -> None:
    contract = _tencent(ib)
    bid = ib.reqTickers(contract)[0].bid
    order = LimitOrder("BUY", 100, round(bid - 5, 1), orderRef="modify-me")
    trade = ib.placeOrder(contract, order)
    assert wait_until(ib, lambda: trade.orderStatus.status == "Submitted")
    order.lmtPrice = round(bid - 4, 1)
    ib.placeOrder(contract, order)
    assert wait_until(
        ib, lambda: any(o["order_ref"] == "modify-me" and o["lmt_price"] == str(order.lmtPrice)
                        for o in gateway.control.orders())
    )  # fmt: skip
    ib.cancelOrder(order)


def test_global_cancel_cancels_working_orders(ib: IB) -> None:
    contract = _tencent(ib)
    bid = ib.reqTickers(contract)[0].bid
    trade = ib.placeOrder(contract, LimitOrder("BUY", 100, round(bid - 5, 1)))
    assert wait_until(ib, lambda: trade.orderStatus.status == "Submitted")
    ib.reqGlobalCancel()
    assert wait_until(ib, lambda: trade.orderStatus.status == "Cancelled")


def test_fill_brings_execution_commission_and_position(ib: IB) -> None:
    contract = _tencent(ib)
    ask = ib.reqTickers(contract)[0].ask
    trade = ib.placeOrder(contract, LimitOrder("BUY", 100, round(ask + 2, 1), orderRef="take"))
    assert wait_until(ib, lambda: trade.orderStatus.status == "Filled")
    assert wait_until(ib, lambda: all(f.commissionReport.execId for f in trade.fills))
    assert sum(f.execution.shares for f in trade.fills) == 100
    assert all(
        f.commissionReport.commission > 0 and f.commissionReport.currency == "HKD" for f in trade.fills
    )
    assert wait_until(
        ib, lambda: any(p.contract.conId == contract.conId and p.position >= 100 for p in ib.positions())
    )
    fills = ib.reqExecutions(ExecutionFilter(symbol="700"))
    assert any(f.execution.orderRef == "take" for f in fills)
    sell = ib.placeOrder(contract, LimitOrder("SELL", 100, round(ib.reqTickers(contract)[0].bid - 2, 1)))
    assert wait_until(ib, lambda: sell.orderStatus.status == "Filled")


def test_completed_orders_list_todays_finished_orders(ib: IB) -> None:
    contract = _tencent(ib)
    bid = ib.reqTickers(contract)[0].bid
    trade = ib.placeOrder(contract, LimitOrder("BUY", 100, round(bid - 5, 1), orderRef="to-complete"))
    assert wait_until(ib, lambda: trade.orderStatus.status == "Submitted")
    ib.cancelOrder(trade.order)
    assert wait_until(ib, lambda: trade.orderStatus.status == "Cancelled")
    done = ib.reqCompletedOrders(False)
    assert any(t.order.orderRef == "to-complete" and t.orderStatus.status == "Cancelled" for t in done)


def test_off_tick_price_is_rejected_with_110(ib: IB) -> None:
    contract = _tencent(ib)
    codes: list[int] = []
    ib.errorEvent += lambda req_id, code, msg, c: codes.append(code)
    bid = ib.reqTickers(contract)[0].bid
    ib.placeOrder(contract, LimitOrder("BUY", 100, round(bid - 20, 1) + 0.03))
    assert wait_until(ib, lambda: 110 in codes)


def test_req_ids_answers_with_next_valid_id(ib: IB) -> None:
    before = ib.client._reqIdSeq
    ib.client.reqIds(1)
    ib.sleep(0.2)
    assert ib.client._reqIdSeq >= before
