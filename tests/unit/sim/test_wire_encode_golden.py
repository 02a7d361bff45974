"""Golden frames: the exact fields of every message the simulator sends, written out by hand from
tws-protocol.md §3 (not derived from the encoder), because ib_async silently drops a message whose
field count is wrong.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sim_wire_samples import BAR, DETAILS, FILL, STOP_LEG, TENCENT

from catalyst.sim.gateway import wire_encode as enc

C11 = ["900000700", "700", "STK", "", "0", "", "", "SEHK", "HKD", "700", "700"]


def test_handshake_reply_is_exactly_version_and_time() -> None:
    assert enc.handshake_reply(178, datetime(2026, 11, 24, 2, 15, 0, tzinfo=UTC)) == [
        "178",
        "20261124 02:15:00 UTC",
    ]


def test_next_valid_id_has_three_fields() -> None:
    assert enc.next_valid_id(17) == ["9", "1", "17"]


def test_managed_accounts_has_three_fields_comma_joined() -> None:
    assert enc.managed_accounts(["DU1", "DU2"]) == ["15", "1", "DU1,DU2"]


def test_current_time() -> None:
    assert enc.current_time(1795000000) == ["49", "1", "1795000000"]


def test_error_is_version_2_with_advanced_order_reject_json_at_178() -> None:
    assert enc.error(11, 110, "bad tick") == ["4", "2", "11", "110", "bad tick", ""]


def test_open_order_end() -> None:
    assert enc.open_order_end() == ["53", "1"]


def test_order_status_has_no_version_and_twelve_fields() -> None:
    assert enc.order_status(STOP_LEG) == [
        "3", "13", "PreSubmitted", "0", "100", "0", "1000003", "11", "0", "7", "child,trigger", "",
    ]  # fmt: skip


def test_position_is_exactly_16_fields() -> None:
    assert enc.position("DU0000001", TENCENT, -200, Decimal("388.45")) == [
        "61", "3", "DU0000001", *C11, "-200", "388.45",
    ]  # fmt: skip


def test_position_end() -> None:
    assert enc.position_end() == ["62", "1"]


def test_update_account_value() -> None:
    assert enc.update_account_value("NetLiquidation", "1000000.00", "HKD", "DU1") == [
        "6", "2", "NetLiquidation", "1000000.00", "HKD", "DU1",
    ]  # fmt: skip


def test_update_portfolio_is_exactly_20_fields() -> None:
    frame = enc.update_portfolio(
        TENCENT,
        position=100,
        market_price=Decimal("390"),
        market_value=Decimal("39000"),
        average_cost=Decimal("388.6"),
        unrealized_pnl=Decimal("140"),
        realized_pnl=Decimal("0"),
        account="DU1",
    )
    assert frame == ["7", "8", *C11, "100", "390", "39000", "388.6", "140", "0", "DU1"]
    assert len(frame) == 20


def test_update_account_time_and_download_end() -> None:
    assert enc.update_account_time("10:15") == ["8", "1", "10:15"]
    assert enc.account_download_end("DU1") == ["54", "1", "DU1"]


def test_account_update_multi_and_end() -> None:
    assert enc.account_update_multi(5, "DU1", "", "CashBalance", "1000", "HKD") == [
        "73", "1", "5", "DU1", "", "CashBalance", "1000", "HKD",
    ]  # fmt: skip
    assert enc.account_update_multi_end(5) == ["74", "1", "5"]


def test_account_summary_and_end() -> None:
    assert enc.account_summary(8, "DU1", "BuyingPower", "5", "HKD") == [
        "63",
        "1",
        "8",
        "DU1",
        "BuyingPower",
        "5",
        "HKD",
    ]
    assert enc.account_summary_end(8) == ["64", "1", "8"]


def test_commission_report_is_exactly_8_fields_with_unset_sentinels() -> None:
    assert enc.commission_report("x1", Decimal("27.31"), "HKD", None) == [
        "59", "1", "x1", "27.31", "HKD", "1.7976931348623157E308", "1.7976931348623157E308", "",
    ]  # fmt: skip


def test_exec_details_end() -> None:
    assert enc.exec_details_end(4) == ["55", "1", "4"]


def test_exec_details_at_178_ends_with_pending_price_revision() -> None:
    frame = enc.exec_details(FILL, TENCENT)
    expected = [
        "11", "-1", "11", *C11,
        "0000e0d5.6743a1b2.01.01",  # 14 execId
        "20261124 10:15:02 Asia/Hong_Kong",  # 15 time
        "DU0000001", "SEHK", "BOT", "100", "388.2",  # 16 account .. 20 price
        "1000001", "7", "0",  # 21 permId, 22 clientId, 23 liquidation
        "100", "388.2", "run-1:P",  # 24 cumQty, 25 avgPrice, 26 orderRef
        "", "", "",  # 27 evRule, 28 evMultiplier, 29 modelCode
        "2", "0",  # 30 lastLiquidity, 31 pendingPriceRevision
    ]  # fmt: skip
    assert frame == expected
    assert len(frame) == 32


def test_contract_details_end() -> None:
    assert enc.contract_details_end(3) == ["52", "1", "3"]


def test_contract_details_at_164_plus_has_no_version_and_40_fields() -> None:
    frame = enc.contract_details(3, DETAILS)
    assert len(frame) == 40
    named = {
        0: "10", 1: "3", 2: "700", 3: "STK", 4: "", 5: "0", 6: "", 7: "SEHK", 8: "HKD", 9: "700",
        10: "700", 11: "700", 12: "900000700", 13: "0.01", 14: "", 15: "LMT,MKT,STP,STP LMT",
        16: "SEHK", 17: "1", 18: "0", 19: "TENCENT HOLDINGS LTD (SIM)", 20: "SEHK", 21: "",
        22: "Communications", 23: "Internet", 24: "Internet Content", 25: "Asia/Hong_Kong",
        26: "20261124:0900-20261124:1200;20261124:1300-20261124:1610",
        27: "20261124:0930-20261124:1200;20261124:1300-20261124:1600",
        28: "", 29: "", 30: "0",  # evRule, evMultiplier, secId count
        31: "0", 32: "", 33: "", 34: "3201", 35: "", 36: "COMMON",  # aggGroup .. stockType
        37: "100", 38: "100", 39: "100",  # minSize, sizeIncrement, suggestedSizeIncrement
    }  # fmt: skip
    assert {i: frame[i] for i in named} == named


def test_market_rule_has_no_version_then_count_and_pairs() -> None:
    frame = enc.market_rule(3201, [(Decimal("0.01"), Decimal("0.001")), (Decimal("0.25"), Decimal("0.005"))])
    assert frame == ["93", "3201", "2", "0.01", "0.001", "0.25", "0.005"]


def test_tick_messages() -> None:
    assert enc.tick_req_params(2, Decimal("0.01"), "a60001", 3) == ["81", "2", "0.01", "a60001", "3"]
    assert enc.market_data_type(2, 1) == ["58", "1", "2", "1"]
    assert enc.tick_price(2, 1, Decimal("388.2"), 1500) == ["1", "6", "2", "1", "388.2", "1500", "0"]
    assert enc.tick_size(2, 8, 1234500) == ["2", "6", "2", "8", "1234500"]
    assert enc.tick_string(2, 45, "1795000000") == ["46", "6", "2", "45", "1795000000"]
    assert enc.tick_generic(2, 49, 0) == ["45", "6", "2", "49", "0"]
    assert enc.tick_snapshot_end(2) == ["57", "1", "2"]


def test_historical_data_has_no_version_and_eight_fields_per_bar() -> None:
    frame = enc.historical_data(9, "20261124 09:30:00", "20261124 10:30:00", [BAR])
    assert frame == [
        "17", "9", "20261124 09:30:00", "20261124 10:30:00", "1",
        "20261124 10:00:00 Asia/Hong_Kong", "388.2", "389", "387.6", "388.8", "120000", "388.35", "310",
    ]  # fmt: skip


def test_historical_data_update_orders_open_close_high_low() -> None:
    assert enc.historical_data_update(9, BAR) == [
        "90", "9", "310", "20261124 10:00:00 Asia/Hong_Kong",
        "388.2", "388.8", "389", "387.6", "388.35", "120000",
    ]  # fmt: skip


def test_completed_orders_end_has_only_the_id() -> None:
    assert enc.completed_orders_end() == ["102"]


def test_open_order_for_a_plain_order_is_127_fields_at_178() -> None:
    frame = enc.open_order(STOP_LEG, TENCENT)
    assert len(frame) == 127
    named = {
        0: "5", 1: "13", **{2 + i: v for i, v in enumerate(C11)},
        13: "SELL", 14: "100", 15: "STP", 16: "", 17: "370.2", 18: "GTC", 19: "1000001", 20: "DU0000001",
        21: "O", 22: "0", 23: "run-1:SL", 24: "7", 25: "1000003", 26: "0",
        41: "-1",  # exemptCode
        53: "3",  # ocaType
        57: "11",  # parentId
        61: "",  # deltaNeutralOrderType: empty, so no 8 delta-neutral fields
        70: "0", 71: "0", 72: "0",  # combo legs, order combo legs, smart routing params
        75: "",  # scalePriceIncrement: empty, so no scale fields
        76: "",  # hedgeType: empty, so no hedgeParam
        81: "0",  # deltaNeutralContract absent
        82: "",  # algoStrategy: empty, so no params
        84: "0",  # whatIf
        85: "PreSubmitted",  # order state status
        102: "0",  # condition count
    }  # fmt: skip
    assert {i: frame[i] for i in named} == named
    assert all(f not in ("None", "?") for f in frame)


def test_completed_order_for_a_plain_order_is_96_fields_at_178() -> None:
    frame = enc.completed_order(STOP_LEG, TENCENT)
    assert len(frame) == 96
    named = {
        0: "101", **{1 + i: v for i, v in enumerate(C11)},
        12: "SELL", 13: "100", 14: "STP", 15: "", 16: "370.2", 17: "GTC", 18: "1000001", 19: "DU0000001",
        22: "run-1:SL", 23: "1000003",
        38: "-1",  # exemptCode
        48: "3",  # ocaType
        52: "",  # deltaNeutralOrderType
        59: "0", 60: "0", 61: "0",  # combo counts
        64: "", 65: "",  # scalePriceIncrement, hedgeType
        69: "0", 70: "",  # deltaNeutralContract, algoStrategy
        72: "PreSubmitted",  # status
        75: "0",  # condition count
        82: "0",  # filledQuantity
        88: "1000001",  # parentPermId
        89: "20261124 10:15:02 Asia/Hong_Kong",  # completedTime
    }  # fmt: skip
    assert {i: frame[i] for i in named} == named


def test_numbers_are_written_without_exponent_or_trailing_point() -> None:
    assert enc.fmt_num(Decimal("100.0")) == "100"
    assert enc.fmt_num(Decimal("1E+2")) == "100"
    assert enc.fmt_num(Decimal("9.050")) == "9.05"
    assert enc.fmt_num(None) == ""


def test_non_ascii_long_names_are_sent_as_unicode_escapes() -> None:
    assert enc.ascii_text("騰訊") == "\\u9a30\\u8a0a"
