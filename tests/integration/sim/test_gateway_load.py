"""Several clients at once: twenty real ib_async clients against one gateway process."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from ib_async import IB, LimitOrder, Stock
from sim_gateway_helpers import TRADING_CLOCK

from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHandle]:
    handle = start_gateway(tmp_path_factory.mktemp("load"), clock=TRADING_CLOCK, ephemeral=True)
    yield handle
    handle.stop()


def test_twenty_concurrent_ib_async_clients_all_work(gateway: GatewayHandle) -> None:
    async def one(client_id: int) -> tuple[int, str]:
        ib = IB()
        await ib.connectAsync(gateway.host, gateway.port, clientId=client_id, timeout=15)
        try:
            [c] = await ib.qualifyContractsAsync(
                Stock("3988", "SEHK", "HKD")
            )  # cheap: 20 orders fit the cash
            [t] = await ib.reqTickersAsync(c)
            trade = ib.placeOrder(
                c, LimitOrder("BUY", 1000, round(t.bid - 0.05, 3), orderRef=f"load-{client_id}")
            )
            while trade.orderStatus.status not in ("Submitted", "Cancelled", "Inactive"):
                await asyncio.sleep(0.02)
            ib.cancelOrder(trade.order)
            while trade.orderStatus.status != "Cancelled":
                await asyncio.sleep(0.02)
            return client_id, trade.orderStatus.status
        finally:
            ib.disconnect()

    async def all_clients() -> list[tuple[int, str]]:
        return await asyncio.wait_for(asyncio.gather(*(one(700 + i) for i in range(20))), 60)

    results = asyncio.run(all_clients())
    assert sorted(results) == [(700 + i, "Cancelled") for i in range(20)]
