"""The gateway's served range at the socket: a client below it is refused at once and the gateway log
says why; the project's own client offering less than 178 is served in the version it offers."""

from __future__ import annotations

import json
import logging
import socket
import time
from pathlib import Path

import pytest
from ib_async import IB, LimitOrder, Stock
from sim_gateway_helpers import next_client_id, wait_until

from catalyst.sim.gateway.launcher import GatewayHandle
from catalyst.sim.gateway.wire_framing import encode_raw_frame

pytestmark = pytest.mark.integration


def refusals(state_dir: Path) -> list[dict[str, object]]:
    log = state_dir / "gateway.log.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return [e for e in map(json.loads, lines) if e.get("event") == "sim.client.handshake_refused"]


def test_a_client_whose_newest_version_is_below_157_is_refused_at_once_and_the_log_says_why(
    gateway: GatewayHandle,
) -> None:
    with socket.create_connection((gateway.host, gateway.port), timeout=10) as sock:
        sock.sendall(b"API\0" + encode_raw_frame(b"v100..151"))
        assert sock.recv(4096) == b""  # closed with no handshake reply, nothing to misread
    deadline = time.monotonic() + 10
    while not refusals(gateway.state_dir) and time.monotonic() < deadline:
        time.sleep(0.05)
    [line] = refusals(gateway.state_dir)
    assert line["level"] == "warning" and line["version_text"] == "v100..151"
    assert "client speaks API versions 100..151; the simulator serves 157..178" in str(line["reason"])


def test_a_client_offering_157_and_up_is_still_served(gateway: GatewayHandle) -> None:
    with socket.create_connection((gateway.host, gateway.port), timeout=10) as sock:
        sock.sendall(b"API\0" + encode_raw_frame(b"v100..157"))
        reply = sock.recv(4096)
    assert reply[4:8] == b"157\0"


@pytest.mark.parametrize("version", [157, 165, 176])
def test_ib_async_offering_only_up_to_a_version_reads_details_an_error_and_a_fill_in_it(
    gateway: GatewayHandle, version: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="ib_async.Decoder")
    ib = IB()
    ib.client.MaxClientVersion = version
    ib.connect(gateway.host, gateway.port, clientId=next_client_id(), timeout=10)
    try:
        assert ib.client.serverVersion() == version
        [details] = ib.reqContractDetails(Stock("3988", "SEHK", "HKD"))
        assert details.longName.endswith("(SIM)") and details.contract.conId == 900003988
        assert ib.reqContractDetails(Stock("99999", "SEHK", "HKD")) == []
        [ticker] = ib.reqTickers(details.contract)
        trade = ib.placeOrder(details.contract, LimitOrder("BUY", 1000, round(ticker.ask + 0.02, 2)))
        assert wait_until(ib, lambda: trade.orderStatus.status == "Filled" and bool(trade.fills), 15)
        assert trade.fills[0].execution.shares == 1000 and trade.fills[0].execution.side == "BOT"
    finally:
        ib.disconnect()
    assert [r.getMessage()[:200] for r in caplog.records if r.name == "ib_async.Decoder"] == []
