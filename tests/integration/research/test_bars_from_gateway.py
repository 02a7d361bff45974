"""Historical bars through the real broker module from the simulated gateway, into the bar cache.

The gateway's bars are the simulator's price model, so the cached bars must equal the model's own
one-minute bars: research backtests the very prices the simulated gateway trades on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from catalyst.broker import BrokerSession
from catalyst.config import BrokerSettings, Settings
from catalyst.market import HK_TZ
from catalyst.research.bar_download import download_bars
from catalyst.research.bar_import import ImportReport, bars_from_records
from catalyst.research.bar_store import BarStore
from catalyst.sim.launcher import GatewayHandle, start_gateway
from catalyst.sim.prices import PriceModel

pytestmark = [pytest.mark.integration]

ACCOUNT = "DU0000001"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHandle]:
    handle = start_gateway(
        tmp_path_factory.mktemp("gateway"), clock="2026-11-24T10:00:00+08:00", accounts=(ACCOUNT,), seed=7
    )
    try:
        yield handle
    finally:
        handle.stop()


def test_downloaded_bars_equal_the_simulators_price_model(gateway: GatewayHandle, tmp_path: Path) -> None:
    settings = Settings(
        mode="sim",
        broker=BrokerSettings(
            host=gateway.host,
            port=gateway.port,
            client_id=41,
            account=ACCOUNT,
            connect_timeout=5,
            request_timeout=10,
        ),
    )

    async def fetch() -> tuple[pd.DataFrame, ImportReport]:
        session = BrokerSession(settings)
        await session.connect()
        try:
            return await download_bars(
                session.bars, ["700"], date(2026, 11, 19), date(2026, 11, 20), BarStore(tmp_path / "bars")
            )
        finally:
            await session.close()

    got, _report = asyncio.run(fetch())
    model = PriceModel(7)
    start = datetime(2026, 11, 19, tzinfo=HK_TZ).timestamp()
    end = datetime(2026, 11, 21, tzinfo=HK_TZ).timestamp()
    expected, _ = bars_from_records({"700": model.bars_between("700", start, end, 60)}, seconds_per_bar=60)
    assert len(got) == 2 * 330
    assert got[["time", "open", "high", "low", "close", "volume"]].equals(
        expected[["time", "open", "high", "low", "close", "volume"]]
    )
