"""The ``no-market-data`` fault, switched with `catalyst gateway fault`, answers a real ib_async
client as IB does without an HKEX subscription: 354 and no ticks for live data, 10167 then delayed
ticks (marketDataType 3) for delayed data, 162 for historical bars; other symbols stay live."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from ib_async import Stock
from sim_gateway_helpers import TRADING_CLOCK, connect, wait_until
from typer.testing import CliRunner

from catalyst.cli.gateway import gateway_app
from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway

pytestmark = pytest.mark.integration

runner = CliRunner()


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHandle]:
    handle = start_gateway(tmp_path_factory.mktemp("gw-md"), clock=TRADING_CLOCK)
    try:
        yield handle
    finally:
        handle.stop()


def switch(gw: GatewayHandle, on: str, *params: str) -> Any:
    args = ["fault", "no-market-data", on, *[a for p in params for a in ("--param", p)]]
    return runner.invoke(gateway_app, [*args, "--state", str(gw.state_dir)])


def test_live_data_is_refused_with_354_and_other_symbols_stay_live(gw: GatewayHandle) -> None:
    switched = switch(gw, "on", "symbols=700")
    assert switched.exit_code == 0 and "no-market-data" in switched.output, switched.output
    ib = connect(gw)
    errors: list[tuple[int, int, str]] = []
    ib.errorEvent += lambda req_id, code, text, contract: errors.append((req_id, code, text))
    try:
        tencent, hsbc = ib.qualifyContracts(Stock("700", "SEHK", "HKD"), Stock("5", "SEHK", "HKD"))
        refused, served = ib.reqTickers(tencent, hsbc)
        assert any(code == 354 and "not subscribed" in text for _, code, text in errors), errors
        assert refused.bid != refused.bid and refused.last != refused.last, "no ticks: prices stay NaN"
        assert served.bid > 0 and served.marketDataType == 1
        bars = ib.reqHistoricalData(tencent, "", "1 D", "5 mins", "TRADES", True)
        assert len(bars) == 0, "ib_async ends the request with nothing"
        assert any(code == 162 and "No market data permissions" in text for _, code, text in errors)
    finally:
        ib.disconnect()
        switch(gw, "off")


def test_delayed_data_is_served_as_delayed_ticks_after_10167(gw: GatewayHandle) -> None:
    assert switch(gw, "on").exit_code == 0
    ib = connect(gw)
    errors: list[int] = []
    ib.errorEvent += lambda req_id, code, text, contract: errors.append(code)
    try:
        ib.reqMarketDataType(3)
        (tencent,) = ib.qualifyContracts(Stock("700", "SEHK", "HKD"))
        ticker = ib.reqMktData(tencent)
        assert wait_until(ib, lambda: ticker.bid == ticker.bid and ticker.marketDataType == 3)
        assert 10167 in errors
        assert ticker.bid > 0 and ticker.ask > 0 and ticker.last > 0
        assert ticker.ticks and {t.tickType for t in ticker.ticks} <= set(range(66, 77)) | {88}
        ib.cancelMktData(tencent)
    finally:
        ib.disconnect()
        switch(gw, "off")


def test_bad_parameters_are_refused_and_nothing_is_switched_on(gw: GatewayHandle) -> None:
    refused = switch(gw, "on", "symbols=tencent")
    assert refused.exit_code != 0 and "symbols must be SEHK codes" in refused.output, refused.output
    status = runner.invoke(gateway_app, ["status", "--state", str(gw.state_dir)])
    assert "no-market-data" not in status.output
