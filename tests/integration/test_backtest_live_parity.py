"""Parity: the backtester and the live trading cycle send the same orders on the same day (issue 7).

One simulated day (2026-11-24, on which the momentum strategy fires at 10:00 on the simulator's
deterministic prices) is run twice:

* through the backtester (``catalyst.research.run_backtest``) over that day's bars, and
* through the simulated gateway with the real trading cycle (``catalyst.cycle.run_trading_cycle``:
  broker clock, reconciliation, scan, sizing, pre-trade checks, bracket submission and proof).

Both must produce the same brackets: symbol, side, quantity, entry, stop and target, to the tick.
Fills are not compared here: the simulator fills a resting limit when a print touches it, the
backtester only when a bar trades through it (the conservative choice), so they may differ at the
margin; docs/research.md lists that simplification.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from catalyst.broker import BrokerSession
from catalyst.config import BrokerSettings, PathSettings, Settings
from catalyst.cycle.request import CycleRequest
from catalyst.cycle.steps import load_bars, run_trading_cycle
from catalyst.ledger import Ledger
from catalyst.research import BacktestConfig, get_strategy, run_backtest
from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway

pytestmark = pytest.mark.integration

DAY = date(2026, 11, 24)
CLOCK = "2026-11-24T10:00:00+08:00"  # the momentum strategy decides at 10:00 (its entry_time)
ACCOUNT = "DU0000001"
PARAMS = {"min_gap_pct": 0.01, "min_rvol": 1.05}  # looser than the defaults, so the day trades
COMPARED = ["symbol", "side", "quantity", "entry", "stop", "target"]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHandle]:
    handle = start_gateway(
        tmp_path_factory.mktemp("parity-gateway"), clock=CLOCK, speed=0.0, accounts=(ACCOUNT,)
    )
    try:
        yield handle
    finally:
        handle.stop()


def _settings(gw: GatewayHandle, root: Path, client_id: int) -> Settings:
    return Settings(
        mode="sim",
        broker=BrokerSettings(
            host=gw.host,
            port=gw.port,
            client_id=client_id,
            account=ACCOUNT,
            connect_timeout=5,
            request_timeout=10,
        ),
        paths=PathSettings(root=root),
    )


async def _bars(settings: Settings, request: CycleRequest) -> pd.DataFrame:
    session = BrokerSession(settings)
    await session.connect()
    try:
        return await load_bars(session, request.symbols(), request)
    finally:
        await session.close()


def _as_table(rows: pd.DataFrame) -> pd.DataFrame:
    out = rows[COMPARED].copy()
    out["symbol"] = out["symbol"].astype(str)
    out["side"] = out["side"].astype(str)
    out["quantity"] = out["quantity"].astype(int)
    for col in ("entry", "stop", "target"):
        out[col] = out[col].map(lambda v: Decimal(str(v)).normalize())
    return out.sort_values(["symbol", "side"]).reset_index(drop=True)


def test_the_backtester_and_the_trading_cycle_send_the_same_brackets(
    gateway: GatewayHandle, tmp_path: Path
) -> None:
    settings = _settings(gateway, tmp_path, client_id=31)
    request = CycleRequest(run_id="parity-cycle", strategy="catalyst-momentum", strategy_params=PARAMS)

    # the backtester, on the bars the gateway serves for the same symbols and lookback
    bars = asyncio.run(_bars(_settings(gateway, tmp_path, client_id=32), request))
    # the gateway serves nothing after its clock (the 10:00 bar is the in-progress one, as IB's is)
    assert bars["time"].max() <= pd.Timestamp(CLOCK)
    config = BacktestConfig.from_settings(settings, initial_capital=Decimal("1000000"), trade_from=DAY)
    result = run_backtest(bars, get_strategy("catalyst-momentum", **PARAMS), config)
    placed_today = result.trades.loc[pd.to_datetime(result.trades["placed_at"]).dt.date == DAY]
    backtest = _as_table(placed_today.rename(columns={"entry_limit": "entry"}))
    assert len(backtest) >= 1, "the chosen day must produce at least one backtest order"

    # the live path: the real cycle against the simulated gateway at 10:00 on the same day
    ledger = Ledger(tmp_path / "state" / "ledger.duckdb")
    report: Any = asyncio.run(run_trading_cycle(settings, ledger, request, mode="sim"))
    assert report.status == "sent", report.message
    live = ledger.query(
        "SELECT symbol, side, quantity, entry_price AS entry, stop_price AS stop, target_price AS target "
        "FROM intents WHERE run_id = ? AND status = 'proven'",
        [request.run_id],
    )
    assert len(live) == len(report.sent), "every bracket the cycle sent was proven at the broker"

    pd.testing.assert_frame_equal(_as_table(live), backtest)


def test_the_backtest_reads_the_same_bars_the_cycle_decides_on(
    gateway: GatewayHandle, tmp_path: Path
) -> None:
    """The parity above would be vacuous if the two paths read different data: they read one source."""
    request = CycleRequest(run_id="parity-bars", strategy="catalyst-momentum", strategy_params=PARAMS)
    first = asyncio.run(_bars(_settings(gateway, tmp_path, client_id=33), request))
    second = asyncio.run(_bars(_settings(gateway, tmp_path, client_id=34), request))
    pd.testing.assert_frame_equal(first, second)
    assert set(first["symbol"].astype(str)) == set(request.symbols())
