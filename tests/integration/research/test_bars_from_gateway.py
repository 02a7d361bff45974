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
from catalyst.research import data_type_note
from catalyst.research.bar_download import download_bars
from catalyst.research.bar_import import ImportReport, bars_from_records
from catalyst.research.bar_store import BarStore
from catalyst.sim.engine.prices import PriceModel
from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway

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


def _download(
    gateway: GatewayHandle, store: BarStore, *, client_id: int, market_data_type: str = "live"
) -> tuple[pd.DataFrame, ImportReport]:
    settings = Settings(
        mode="sim",
        broker=BrokerSettings(
            host=gateway.host,
            port=gateway.port,
            client_id=client_id,
            account=ACCOUNT,
            connect_timeout=5,
            request_timeout=10,
            market_data_type=market_data_type,
        ),
    )

    async def fetch() -> tuple[pd.DataFrame, ImportReport]:
        session = BrokerSession(settings)
        await session.connect()
        try:
            return await download_bars(session.bars, ["700"], date(2026, 11, 19), date(2026, 11, 20), store)
        finally:
            await session.close()

    return asyncio.run(fetch())


def test_downloaded_bars_equal_the_simulators_price_model(gateway: GatewayHandle, tmp_path: Path) -> None:
    got, _report = _download(gateway, BarStore(tmp_path / "bars"), client_id=41)
    model = PriceModel(7)
    start = datetime(2026, 11, 19, tzinfo=HK_TZ).timestamp()
    end = datetime(2026, 11, 21, tzinfo=HK_TZ).timestamp()
    expected, _ = bars_from_records({"700": model.bars_between("700", start, end, 60)}, seconds_per_bar=60)
    assert len(got) == 2 * 330
    assert got[["time", "open", "high", "low", "close", "volume"]].equals(
        expected[["time", "open", "high", "low", "close", "volume"]]
    )
    assert got.attrs["data_types"] == {"700": "live"}


def test_bars_downloaded_on_delayed_data_stay_labelled_delayed_in_the_cache(
    gateway: GatewayHandle, tmp_path: Path
) -> None:
    store = BarStore(tmp_path / "bars")
    got, _report = _download(gateway, store, client_id=42, market_data_type="delayed")
    assert len(got) == 2 * 330
    later = store.read(["700"], date(2026, 11, 19), date(2026, 11, 20))  # a research run weeks later
    assert later.attrs["data_types"] == {"700": "delayed"}
    assert "DELAYED market data" in data_type_note(later)
    assert store.coverage()["data_type"].tolist() == ["delayed"]
