"""The ``no-market-data`` fault's answers (IB's codes and texts without a subscription), its
parameters, and the delayed tick types as ib_async 2.1.0 reads them."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from ib_async import IB, Stock
from ib_async.decoder import Decoder

from catalyst.sim.engine.errors import FaultParameterError
from catalyst.sim.engine.faults import FAULT_NAMES, FaultBoard
from catalyst.sim.gateway import entitlements as ent
from catalyst.sim.gateway import wire_encode as enc

ALL: dict[str, dict[str, object]] = {"no-market-data": {}}
ONLY_700: dict[str, dict[str, object]] = {"no-market-data": {"symbols": "700,0005"}}


def test_the_fault_is_known_to_the_fault_board() -> None:
    assert "no-market-data" in FAULT_NAMES
    board = FaultBoard()
    board.set("no-market-data", True, {"symbols": 700})
    assert board.active() == {"no-market-data": {"symbols": 700}}


def test_without_the_fault_every_request_is_served_live_whatever_type_was_asked() -> None:
    for asked in (1, 2, 3, 4):
        assert ent.quote_answer({}, "700", asked) == ent.QuoteAnswer(served_type=1)
    assert ent.historical_refusal({}, "700") is None


def test_live_data_without_a_subscription_is_refused_with_354_and_no_ticks() -> None:
    answer = ent.quote_answer(ALL, "700", 1)
    assert answer.served_type is None
    assert answer.notices == ((354, ent.NOT_SUBSCRIBED_TEXT),)
    assert ent.quote_answer(ALL, "700", 2).served_type is None, "frozen needs the subscription too"


def test_code_10089_can_be_chosen_for_the_api_subscription_variant() -> None:
    answer = ent.quote_answer({"no-market-data": {"code": 10089}}, "700", 1)
    assert answer.notices[0][0] == 10089 and "additional subscription for API" in answer.notices[0][1]


def test_delayed_data_asked_for_is_served_delayed_after_warning_10167() -> None:
    assert ent.quote_answer(ALL, "700", 3) == ent.QuoteAnswer(3, ((10167, ent.DELAYED_INSTEAD_TEXT),))
    assert ent.quote_answer(ALL, "700", 4).served_type == 4


def test_delayed_data_not_enabled_is_refused_with_10168() -> None:
    answer = ent.quote_answer({"no-market-data": {"delayed": 0}}, "700", 3)
    assert answer.served_type is None and answer.notices[0][0] == 10168


def test_historical_requests_without_permissions_get_162() -> None:
    code, text = ent.historical_refusal(ALL, "700") or (0, "")
    assert code == 162 and "No market data permissions" in text


def test_the_fault_can_name_symbols_with_or_without_leading_zeros() -> None:
    assert ent.lacks_subscription(ONLY_700, "700") and ent.lacks_subscription(ONLY_700, "5")
    assert not ent.lacks_subscription(ONLY_700, "3988")
    assert ent.lacks_subscription({"no-market-data": {"symbols": "all"}}, "3988")
    assert ent.quote_answer(ONLY_700, "3988", 1).served_type == 1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"symbols": "tencent"}, "symbols must be SEHK codes"),
        ({"code": 200}, "code must be 354 or 10089"),
        ({"delayed": "maybe"}, "delayed must be 0 or 1"),
    ],
)
def test_bad_parameters_are_refused_with_what_is_wrong(params: dict[str, object], message: str) -> None:
    with pytest.raises(FaultParameterError, match=message):
        ent.check_params(params)


def test_delayed_frames_use_ibs_delayed_tick_types() -> None:
    frames = [
        enc.tick_price(2, enc.TICK_BID, Decimal("388.2"), 1500),
        enc.tick_size(2, enc.TICK_BID_SIZE, 1500),
        enc.tick_string(2, enc.TICK_LAST_TIMESTAMP, "1795000000"),
        enc.tick_snapshot_end(2),
    ]
    delayed = ent.as_delayed(frames)
    assert [f[3] for f in delayed[:3]] == ["66", "69", "88"]
    assert delayed[3] == frames[3], "messages without a tick type pass unchanged"


def test_ib_async_reads_delayed_ticks_into_the_same_ticker_fields(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="ib_async")
    ib = IB()
    decoder = Decoder(ib.wrapper, 178)
    contract = Stock("700", "SEHK", "HKD")
    contract.conId = 900000700
    ticker = ib.wrapper.startTicker(2, contract, "mktData")
    live = [
        enc.tick_price(2, enc.TICK_BID, Decimal("388.2"), 1500),
        enc.tick_size(2, enc.TICK_BID_SIZE, 1500),
        enc.tick_price(2, enc.TICK_ASK, Decimal("388.4"), 800),
        enc.tick_size(2, enc.TICK_ASK_SIZE, 800),
        enc.tick_price(2, enc.TICK_LAST, Decimal("388.4"), 200),
        enc.tick_size(2, enc.TICK_VOLUME, 1234500),
        enc.tick_price(2, enc.TICK_HIGH, Decimal("390"), 0),
        enc.tick_price(2, enc.TICK_LOW, Decimal("385"), 0),
        enc.tick_price(2, enc.TICK_CLOSE, Decimal("386"), 0),
        enc.tick_price(2, enc.TICK_OPEN, Decimal("387"), 0),
    ]
    decoder.interpret(enc.market_data_type(2, 3))
    for frame in ent.as_delayed(live):
        decoder.interpret(frame)
    assert ticker.marketDataType == 3
    assert ticker.bid == pytest.approx(388.2) and ticker.ask == pytest.approx(388.4)
    assert ticker.last == pytest.approx(388.4) and ticker.volume == 1234500
    assert (ticker.high, ticker.low, ticker.close, ticker.open) == (390, 385, 386, 387)
    bad = [
        r.getMessage() for r in caplog.records if r.name == "ib_async.Decoder" and r.levelno >= logging.ERROR
    ]
    assert bad == []
