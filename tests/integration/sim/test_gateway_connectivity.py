"""The ``connectivity`` fault (an IB server reset with the socket up), as an ib_async client sees it."""

from __future__ import annotations

from typing import Any

import pytest
from ib_async import IB, Contract, LimitOrder, Stock
from sim_gateway_helpers import connect, wait_until
from typer.testing import CliRunner

from catalyst.cli.gateway import gateway_app
from catalyst.sim.gateway.control import GatewayControlError
from catalyst.sim.gateway.launcher import GatewayHandle

pytestmark = pytest.mark.integration

CONNECTIVITY_CODES = (1100, 1101, 1102)


class ErrorLog:
    """Every (reqId, code) the client's errorEvent reports, and the order's status at each."""

    def __init__(self, ib: IB) -> None:
        self.seen: list[tuple[int, int]] = []
        self.status_at: dict[int, str] = {}
        self.trade: Any = None
        ib.errorEvent += self._on_error

    def _on_error(self, req_id: int, code: int, message: str, contract: object) -> None:
        self.seen.append((req_id, code))
        if self.trade is not None:
            self.status_at[code] = self.trade.orderStatus.status

    def connectivity(self) -> list[tuple[int, int]]:
        return [(r, c) for r, c in self.seen if c in CONNECTIVITY_CODES]


def _tencent(ib: IB) -> Contract:
    [c] = ib.qualifyContracts(Stock("700", "SEHK", "HKD"))
    return c


def _own_market_data(gateway: GatewayHandle, ib: IB) -> int:
    clients = gateway.control.status()["clients"]
    return int(next(c["market_data"] for c in clients if c["client_id"] == ib.client.clientId))


def test_outage_sends_1100_then_1102_and_answers_an_order_placed_meanwhile_only_after(
    gateway: GatewayHandle,
) -> None:
    ib = connect(gateway)
    errors = ErrorLog(ib)
    try:
        contract = _tencent(ib)
        bid = ib.reqTickers(contract)[0].bid
        gateway.control.fault("connectivity", True, seconds=0.5)
        assert wait_until(ib, lambda: (-1, 1100) in errors.seen)
        errors.trade = ib.placeOrder(contract, LimitOrder("BUY", 100, round(bid - 5, 1), orderRef="outage"))
        assert wait_until(ib, lambda: (-1, 1102) in errors.seen)
        assert errors.status_at[1102] == "PendingSubmit"  # no answer while connectivity was lost
        assert wait_until(ib, lambda: errors.trade.orderStatus.status == "Submitted")
        assert errors.connectivity() == [(-1, 1100), (-1, 1102)]
        assert "connectivity" not in gateway.control.faults()  # one-shot
        ib.cancelOrder(errors.trade.order)
    finally:
        ib.disconnect()


def test_restore_1101_drops_market_data_until_the_client_subscribes_again(gateway: GatewayHandle) -> None:
    ib = connect(gateway)
    errors = ErrorLog(ib)
    try:
        contract = _tencent(ib)
        ib.reqMktData(contract)
        assert _own_market_data(gateway, ib) == 1
        gateway.control.fault("connectivity", True, seconds=0.2, restore=1101)
        assert wait_until(ib, lambda: (-1, 1101) in errors.seen)
        assert errors.connectivity() == [(-1, 1100), (-1, 1101)]
        assert _own_market_data(gateway, ib) == 0
        ticker = ib.reqMktData(contract)  # the client must resubscribe
        assert _own_market_data(gateway, ib) == 1
        quote = gateway.control.move_price("700", pct=2)
        assert wait_until(ib, lambda: ticker.last == float(quote["last"]))
    finally:
        ib.disconnect()


def test_switching_connectivity_off_restores_at_once(gateway: GatewayHandle) -> None:
    ib = connect(gateway)
    errors = ErrorLog(ib)
    try:
        gateway.control.fault("connectivity", True, seconds=600)
        assert wait_until(ib, lambda: (-1, 1100) in errors.seen)
        gateway.control.fault("connectivity", False)
        assert wait_until(ib, lambda: (-1, 1102) in errors.seen)
    finally:
        ib.disconnect()


def test_control_channel_refuses_a_restore_code_ib_does_not_send(gateway: GatewayHandle) -> None:
    with pytest.raises(GatewayControlError, match=r"restore must be 1101 .* or 1102"):
        gateway.control.fault("connectivity", True, seconds=1, restore=1103)
    assert "connectivity" not in gateway.control.faults()


def test_cli_switches_connectivity_with_seconds_and_restore(gateway: GatewayHandle) -> None:
    ib = connect(gateway)
    errors = ErrorLog(ib)
    try:
        result = CliRunner().invoke(
            gateway_app,
            [
                "fault", "connectivity", "on", "--param", "seconds=0.2", "--param", "restore=1101",
                "--state", str(gateway.state_dir),
            ],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "connectivity" in result.output
        assert wait_until(ib, lambda: (-1, 1101) in errors.seen)
    finally:
        ib.disconnect()
