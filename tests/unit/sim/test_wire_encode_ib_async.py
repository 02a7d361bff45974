"""Every frame the simulator sends, fed through ib_async 2.1.0's real Decoder: nothing is dropped
(no "Error handling fields" log) and the decoded objects carry the values we meant.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from ib_async import IB
from ib_async.decoder import Decoder
from ib_async.order import OrderStatus
from sim_wire_samples import BAR, DETAILS, FILL, STOP_LEG, TENCENT

from catalyst.sim.gateway import wire_encode as enc


@pytest.fixture
def ib() -> IB:
    return IB()


@pytest.fixture
def decoder(ib: IB) -> Decoder:
    return Decoder(ib.wrapper, 178)


@pytest.fixture(autouse=True)
def _no_decoder_errors(caplog: pytest.LogCaptureFixture):  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG, logger="ib_async")
    yield
    bad = [
        r.getMessage() for r in caplog.records if r.name == "ib_async.Decoder" and r.levelno >= logging.ERROR
    ]
    assert bad == [], f"ib_async dropped a frame: {bad}"


def test_open_order_becomes_a_trade_with_the_servers_values(ib: IB, decoder: Decoder) -> None:
    decoder.interpret(enc.open_order(STOP_LEG, TENCENT))
    [trade] = ib.wrapper.trades.values()
    assert trade.order.orderId == 13 and trade.order.clientId == 7 and trade.order.permId == 1000003
    assert trade.order.parentId == 11 and trade.order.auxPrice == pytest.approx(370.2)
    assert (
        trade.order.orderType == "STP" and trade.order.action == "SELL" and trade.order.totalQuantity == 100
    )
    assert (
        trade.order.ocaGroup == "1000001" and trade.order.ocaType == 3 and trade.order.orderRef == "run-1:SL"
    )
    assert trade.order.tif == "GTC" and trade.orderStatus.status == "PreSubmitted"
    assert trade.contract.conId == 900000700 and trade.contract.exchange == "SEHK"


def test_order_status_updates_the_known_trade(ib: IB, decoder: Decoder) -> None:
    decoder.interpret(enc.open_order(STOP_LEG, TENCENT))
    decoder.interpret(enc.order_status(STOP_LEG))
    [trade] = ib.wrapper.trades.values()
    assert trade.orderStatus.parentId == 11 and trade.orderStatus.whyHeld == "child,trigger"
    assert trade.orderStatus.remaining == 100 and trade.orderStatus.permId == 1000003


def test_fill_sequence_attaches_execution_and_commission(ib: IB, decoder: Decoder) -> None:
    parent = enc.WireOrder(**{**STOP_LEG.__dict__, "order_id": 11, "perm_id": 1000001, "parent_id": 0,
                              "action": "BUY", "order_type": "LMT", "lmt_price": Decimal("388.2"),
                              "aux_price": None, "status": "Filled", "filled": 100, "remaining": 0,
                              "avg_fill_price": Decimal("388.2"), "last_fill_price": Decimal("388.2"),
                              "why_held": ""})  # fmt: skip
    decoder.interpret(enc.open_order(parent, TENCENT))
    decoder.interpret(enc.exec_details(FILL, TENCENT))
    decoder.interpret(enc.order_status(parent))
    decoder.interpret(enc.commission_report(FILL.exec_id, Decimal("27.31"), "HKD", None))
    [fill] = ib.fills()
    assert fill.execution.shares == 100 and fill.execution.price == pytest.approx(388.2)
    assert fill.execution.orderRef == "run-1:P" and fill.execution.side == "BOT"
    assert fill.execution.time == datetime(2026, 11, 24, 2, 15, 2, tzinfo=UTC)
    assert fill.commissionReport.commission == pytest.approx(27.31)
    assert ib.wrapper.trades[(7, 11)].orderStatus.status == OrderStatus.Filled


def test_position_is_decoded(ib: IB, decoder: Decoder) -> None:
    decoder.interpret(enc.position("DU0000001", TENCENT, 100, Decimal("388.45")))
    [p] = ib.positions()
    assert p.position == 100 and p.avgCost == pytest.approx(388.45) and p.contract.conId == 900000700


def test_portfolio_and_account_values_are_decoded(ib: IB, decoder: Decoder) -> None:
    ib.wrapper.accounts = ["DU1"]
    decoder.interpret(enc.update_account_value("NetLiquidation", "1000000", "HKD", "DU1"))
    decoder.interpret(enc.update_portfolio(
        TENCENT, position=100, market_price=Decimal("390"), market_value=Decimal("39000"),
        average_cost=Decimal("388.6"), unrealized_pnl=Decimal("140"), realized_pnl=Decimal("0"),
        account="DU1",
    ))  # fmt: skip
    decoder.interpret(enc.update_account_time("10:15"))
    decoder.interpret(enc.account_download_end("DU1"))
    assert [(v.tag, v.value) for v in ib.accountValues()] == [("NetLiquidation", "1000000")]
    [item] = ib.portfolio()
    assert item.position == 100 and item.unrealizedPNL == pytest.approx(140)


def test_account_update_multi_and_summary_are_decoded(ib: IB, decoder: Decoder) -> None:
    decoder.interpret(enc.account_update_multi(5, "DU1", "", "CashBalance", "1000", "HKD"))
    decoder.interpret(enc.account_update_multi_end(5))
    decoder.interpret(enc.account_summary(8, "DU1", "BuyingPower", "5", "HKD"))
    decoder.interpret(enc.account_summary_end(8))
    assert any(v.tag == "CashBalance" and v.value == "1000" for v in ib.accountValues())
    assert any(v.tag == "BuyingPower" for v in ib.accountSummary())


def test_contract_details_are_decoded(ib: IB, decoder: Decoder) -> None:
    future = ib.wrapper.startReq(3)
    decoder.interpret(enc.contract_details(3, DETAILS))
    decoder.interpret(enc.contract_details_end(3))
    [cd] = future.result()
    assert (
        cd.contract.conId == 900000700 and cd.contract.symbol == "700" and cd.minTick == pytest.approx(0.01)
    )
    assert cd.marketRuleIds == "3201" and cd.longName == "TENCENT HOLDINGS LTD (SIM)"
    assert cd.minSize == 100 and cd.sizeIncrement == 100 and cd.stockType == "COMMON"
    sessions = cd.tradingSessions()
    assert len(sessions) == 2 and sessions[0].start.hour == 9


def test_unicode_long_name_survives_ib_asyncs_unescape(ib: IB, decoder: Decoder) -> None:
    future = ib.wrapper.startReq(4)
    details = enc.WireContractDetails(**{**DETAILS.__dict__, "long_name": "騰訊控股"})
    decoder.interpret(enc.contract_details(4, details))
    decoder.interpret(enc.contract_details_end(4))
    assert future.result()[0].longName == "騰訊控股"


def test_market_rule_is_decoded(ib: IB, decoder: Decoder) -> None:
    future = ib.wrapper.startReq("marketRule-3201")
    decoder.interpret(
        enc.market_rule(3201, [(Decimal("0.01"), Decimal("0.001")), (Decimal("0.25"), Decimal("0.005"))])
    )
    rule = future.result()
    assert [(r.lowEdge, r.increment) for r in rule] == [(0.01, 0.001), (0.25, 0.005)]


def test_snapshot_ticks_fill_a_ticker(ib: IB, decoder: Decoder) -> None:
    from ib_async import Stock

    contract = Stock("700", "SEHK", "HKD")
    contract.conId = 900000700
    ticker = ib.wrapper.startTicker(2, contract, "mktData")
    decoder.interpret(enc.tick_req_params(2, Decimal("0.01"), "a60001", 3))
    decoder.interpret(enc.market_data_type(2, 1))
    decoder.interpret(enc.tick_price(2, enc.TICK_BID, Decimal("388.2"), 1500))
    decoder.interpret(enc.tick_size(2, enc.TICK_BID_SIZE, 1500))
    decoder.interpret(enc.tick_price(2, enc.TICK_ASK, Decimal("388.4"), 800))
    decoder.interpret(enc.tick_price(2, enc.TICK_LAST, Decimal("388.4"), 200))
    decoder.interpret(enc.tick_size(2, enc.TICK_VOLUME, 1234500))
    decoder.interpret(enc.tick_string(2, enc.TICK_LAST_TIMESTAMP, "1795000000"))
    decoder.interpret(enc.tick_generic(2, 49, 0))
    decoder.interpret(enc.tick_snapshot_end(2))
    assert (
        ticker.bid == pytest.approx(388.2) and ticker.bidSize == 1500 and ticker.ask == pytest.approx(388.4)
    )
    assert (
        ticker.last == pytest.approx(388.4)
        and ticker.volume == 1234500
        and ticker.minTick == pytest.approx(0.01)
    )
    assert ticker.marketDataType == 1


def test_historical_bars_are_decoded(ib: IB, decoder: Decoder) -> None:
    future = ib.wrapper.startReq(9, container=[])
    decoder.interpret(enc.historical_data(9, "20261124 09:30:00", "20261124 10:30:00", [BAR, BAR]))
    bars = future.result()
    assert len(bars) == 2 and bars[0].close == pytest.approx(388.8) and bars[0].volume == 120000
    assert bars[0].date == datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def test_completed_order_is_decoded(ib: IB, decoder: Decoder) -> None:
    future = ib.wrapper.startReq("completedOrders")
    decoder.interpret(enc.completed_order(STOP_LEG, TENCENT))
    decoder.interpret(enc.completed_orders_end())
    [trade] = future.result()
    assert trade.order.permId == 1000003 and trade.order.parentPermId == 1000001
    assert trade.orderStatus.status == "PreSubmitted" and trade.order.auxPrice == pytest.approx(370.2)


def test_error_reaches_the_error_event_with_its_code(ib: IB, decoder: Decoder) -> None:
    seen: list[tuple[int, int, str]] = []
    ib.errorEvent += lambda req_id, code, msg, contract: seen.append((req_id, code, msg))
    decoder.interpret(enc.error(-1, 2104, "Market data farm connection is OK:hfarm"))
    assert seen == [(-1, 2104, "Market data farm connection is OK:hfarm")]


def test_next_id_accounts_and_time_are_decoded(ib: IB, decoder: Decoder) -> None:
    decoder.interpret(enc.next_valid_id(41))
    decoder.interpret(enc.managed_accounts(["DU1"]))
    future = ib.wrapper.startReq("currentTime")
    decoder.interpret(enc.current_time(1795000000))
    assert future.result() == datetime.fromtimestamp(1795000000, UTC)
    assert ib.wrapper.accounts == ["DU1"]
