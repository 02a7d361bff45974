"""Requests as the real ib_async 2.1.0 client writes them, parsed by the simulator's decoder."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from ib_async import IB, ExecutionFilter, LimitOrder, Stock, StopOrder
from ib_async.client import Client

from catalyst.sim.gateway import wire_decode as dec
from catalyst.sim.gateway.wire_framing import FrameReader, split_fields


@pytest.fixture
def sent() -> Iterator[tuple[IB, list[list[str]]]]:
    """An ib_async client that believes it is connected at v178 and records what it would send."""
    ib = IB()
    frames: list[list[str]] = []
    reader = FrameReader()
    client = ib.client
    client._serverVersion = 178
    client.connState = Client.CONNECTED
    client.MaxRequests = 0
    client.conn.sendMsg = lambda data: frames.extend(split_fields(p) for p in reader.feed(data))  # type: ignore[method-assign]
    yield ib, frames
    client.reset()


def _tencent() -> Stock:
    c = Stock("700", "SEHK", "HKD")
    c.conId = 900000700
    return c


def test_place_order_of_a_bracket_child_is_parsed(sent: tuple[IB, list[list[str]]]) -> None:
    ib, frames = sent
    order = StopOrder("SELL", 100, 370.2, orderId=13, parentId=11, transmit=True, tif="GTC",
                      account="DU1", orderRef="run-1:SL")  # fmt: skip
    ib.client.placeOrder(13, _tencent(), order)
    po = dec.decode_place_order(frames[0], client_id=7, server_version=178)
    r = po.request
    assert (r.order_id, r.client_id, r.con_id, r.symbol, r.exchange, r.currency) == (
        13, 7, 900000700, "700", "SEHK", "HKD",
    )  # fmt: skip
    assert (r.action, r.total_quantity, r.order_type, r.lmt_price, r.aux_price) == (
        "SELL", Decimal(100), "STP", None, Decimal("370.2"),
    )  # fmt: skip
    assert (r.tif, r.account, r.order_ref, r.transmit, r.parent_id) == ("GTC", "DU1", "run-1:SL", True, 11)
    assert po.what_if is False and po.sec_type == "STK"


def test_place_order_reads_oca_group_and_type(sent: tuple[IB, list[list[str]]]) -> None:
    ib, frames = sent
    order = LimitOrder("BUY", 200, 388.2, orderId=5, ocaGroup="g1", ocaType=3, transmit=False)
    ib.client.placeOrder(5, _tencent(), order)
    r = dec.decode_place_order(frames[0], client_id=1, server_version=178).request
    assert (r.oca_group, r.oca_type, r.transmit, r.lmt_price) == ("g1", 3, False, Decimal("388.2"))


def test_what_if_flag_is_read_through_the_variable_groups(sent: tuple[IB, list[list[str]]]) -> None:
    ib, frames = sent
    order = LimitOrder("BUY", 100, 388.2, orderId=6, whatIf=True, algoStrategy="Adaptive")
    ib.client.placeOrder(6, _tencent(), order)
    assert dec.decode_place_order(frames[0], client_id=1, server_version=178).what_if is True


def test_place_order_at_157_with_fa_profile_is_parsed(sent: tuple[IB, list[list[str]]]) -> None:
    ib, frames = sent
    ib.client._serverVersion = 157
    ib.client.placeOrder(8, _tencent(), LimitOrder("BUY", 100, 388.2, orderId=8, ocaType=2))
    r = dec.decode_place_order(frames[0], client_id=1, server_version=157).request
    assert r.oca_type == 2 and r.order_id == 8


def test_truncated_place_order_is_malformed(sent: tuple[IB, list[list[str]]]) -> None:
    ib, frames = sent
    ib.client.placeOrder(8, _tencent(), LimitOrder("BUY", 100, 388.2))
    with pytest.raises(dec.MalformedRequestError, match="missing field"):
        dec.decode_place_order(frames[0][:30], client_id=1, server_version=178)


def test_non_numeric_order_id_is_malformed() -> None:
    with pytest.raises(dec.MalformedRequestError, match="orderId"):
        dec.decode_place_order(["3", "abc"], client_id=1, server_version=178)


def test_cancel_order_is_parsed(sent: tuple[IB, list[list[str]]]) -> None:
    ib, frames = sent
    ib.client.cancelOrder(13)
    assert dec.decode_cancel_order(frames[0]) == 13


def test_start_api_gives_the_client_id(sent: tuple[IB, list[list[str]]]) -> None:
    ib, frames = sent
    ib.client.clientId = 42
    ib.client.startApi()
    assert dec.decode_start_api(frames[0]) == 42


def test_contract_details_request_is_parsed(sent: tuple[IB, list[list[str]]]) -> None:
    ib, frames = sent
    ib.client.reqContractDetails(4, Stock("700", "SEHK", "HKD"))
    req = dec.decode_contract_details(frames[0])
    assert req.req_id == 4 and req.contract.symbol == "700" and req.contract.exchange == "SEHK"
    assert req.contract.currency == "HKD" and req.contract.sec_type == "STK"


def test_market_data_request_is_parsed(sent: tuple[IB, list[list[str]]]) -> None:
    ib, frames = sent
    ib.client.reqMktData(6, _tencent(), "", True, False, [])
    req = dec.decode_mkt_data(frames[0])
    assert req.req_id == 6 and req.snapshot is True and req.contract.con_id == 900000700


def test_historical_request_reads_bar_size_before_duration(sent: tuple[IB, list[list[str]]]) -> None:
    ib, frames = sent
    ib.client.reqHistoricalData(
        9, _tencent(), "20261124 08:00:00 UTC", "2 D", "5 mins", "TRADES", 1, 1, False, []
    )
    req = dec.decode_historical_data(frames[0])
    assert (req.req_id, req.duration, req.bar_size, req.what_to_show) == (9, "2 D", "5 mins", "TRADES")
    assert req.end == "20261124 08:00:00 UTC" and req.use_rth is True and req.keep_up_to_date is False


def test_executions_filter_is_parsed(sent: tuple[IB, list[list[str]]]) -> None:
    ib, frames = sent
    ib.client.reqExecutions(3, ExecutionFilter(clientId=7, symbol="700"))
    f = dec.decode_req_executions(frames[0])
    assert (f.req_id, f.client_id, f.symbol) == (3, 7, "700")


def test_account_requests_are_parsed(sent: tuple[IB, list[list[str]]]) -> None:
    ib, frames = sent
    ib.client.reqAccountUpdates(True, "DU1")
    ib.client.reqAccountUpdatesMulti(5, "DU1", "", False)
    ib.client.reqAccountSummary(8, "All", "NetLiquidation,$LEDGER:ALL")
    assert dec.decode_account_updates(frames[0]) == dec.AccountUpdates(True, "DU1")
    assert dec.decode_account_updates_multi(frames[1]) == dec.AccountUpdatesMulti(5, "DU1", "")
    assert dec.decode_account_summary(frames[2]).tags == ("NetLiquidation", "$LEDGER:ALL")


def test_completed_orders_and_market_rule_have_no_version(sent: tuple[IB, list[list[str]]]) -> None:
    ib, frames = sent
    ib.client.reqCompletedOrders(False)
    ib.client.reqMarketRule(3201)
    assert dec.decode_completed_orders(frames[0]) is False
    assert dec.decode_market_rule(frames[1]) == 3201
