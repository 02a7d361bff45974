"""`gateway conform` names ``amend_window`` when a captured amendment at lunch is answered otherwise.

A session through the recording proxy rests a limit at 12:10 and amends it: the default simulator
holds the amendment (openOrder and orderStatus at once). Replayed against a simulator started with
``amend_window=reject``, the answer is a 201 instead, and conform names the setting.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from capture_helpers import resting_price
from ib_async import IB, LimitOrder, Stock
from sim_gateway_helpers import wait_until
from typer.testing import CliRunner

from catalyst.cli.gateway import gateway_app
from catalyst.sim.capture.capture_proxy import ProxyThread
from catalyst.sim.gateway.launcher import start_gateway

pytestmark = pytest.mark.integration

LUNCH = "2026-11-24T12:10:00+08:00"
runner = CliRunner()


def _amend_at_lunch(port: int) -> list[int]:
    ib = IB()
    codes: list[int] = []
    ib.errorEvent += lambda _req, code, *_rest: codes.append(code)
    ib.connect("127.0.0.1", port, clientId=9, timeout=10)
    try:
        contract = Stock("700", "SEHK", "HKD")
        ib.qualifyContracts(contract)
        (ticker,) = ib.reqTickers(contract)
        trade = ib.placeOrder(contract, LimitOrder("BUY", 100, resting_price(ticker.close or ticker.last)))
        assert wait_until(ib, lambda: trade.orderStatus.status == "PreSubmitted")
        trade.order.lmtPrice = trade.order.lmtPrice - 1
        ib.placeOrder(contract, trade.order)
        assert wait_until(ib, lambda: len([e for e in trade.log if e.message == "Modify"]) == 1)
        ib.sleep(0.5)
        return codes
    finally:
        ib.disconnect()


def test_conform_names_amend_window_when_the_simulator_refuses_an_amendment_the_capture_held(
    tmp_path: Path,
) -> None:
    capture = tmp_path / "lunch.jsonl"
    with (
        start_gateway(tmp_path / "gw", clock=LUNCH, speed=0, ephemeral=True) as gw,
        ProxyThread(gw.host, gw.port, capture) as proxy,
    ):
        codes = _amend_at_lunch(proxy.port)
    assert 399 in codes and 201 not in codes  # placed at lunch (399), the amendment held (no error)

    same = runner.invoke(
        gateway_app, ["conform", str(capture), "--clock", LUNCH, "--tolerance", "30", "--json"]
    )
    assert same.exit_code == 0, same.output

    other = runner.invoke(
        gateway_app,
        [
            "conform",
            str(capture),
            "--clock",
            LUNCH,
            "--behaviour",
            "amend_window=reject",
            "--tolerance",
            "30",
            "--json",
        ],
    )
    assert other.exit_code == 2, other.output
    differences = json.loads(other.output)["differences"]
    assert differences and any("amend_window" in d["settings"] for d in differences), differences
