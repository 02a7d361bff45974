"""Helpers for the risk acceptance tests: a real gateway process, real sessions, a real ledger."""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from catalyst.broker import BrokerSession
from catalyst.config import BrokerSettings, PathSettings, Settings
from catalyst.ledger import Ledger
from catalyst.risk.alert_channels import AppriseChannels
from catalyst.risk.alerts import Alerter
from catalyst.risk.limits import RiskLimits
from catalyst.risk.monitor_daemon import Monitor, MonitorConfig

#: A Tuesday morning in continuous trading (HK time).
SIM_CLOCK = "2026-11-24T10:00:00+08:00"
_client_ids = itertools.count(71)
#: This test process's own state folder (leases): never the shared tree's ``state/``, which tests on
#: other workers use at the same time under the same simulated account.
STATE_DIR = Path(tempfile.mkdtemp(prefix="catalyst-risk-it-"))


def ticks(price: Decimal, n: int, symbol: str) -> Decimal:
    """``price`` moved ``n`` ticks on ``symbol``'s ladder (negative: down). Within 20 ticks of the
    touch an order stays inside HKEX's quotation rule, which the simulator enforces."""
    from catalyst.market import security, ticks_from

    table = security(symbol).spread_table
    return ticks_from(price, abs(n), "up" if n > 0 else "down", table=table)


def settings_for(host: str, port: int, account: str, *, client_id: int | None = None) -> Settings:
    return Settings(
        mode="sim",
        broker=BrokerSettings(
            host=host,
            port=port,
            client_id=client_id or next(_client_ids),
            account=account,
            connect_timeout=5,
            request_timeout=5,
        ),
        paths=PathSettings(state_dir=STATE_DIR),
    )


@dataclass
class Rig:
    """One account's monitor, its session, ledger and alert file."""

    monitor: Monitor
    session: BrokerSession
    ledger: Ledger
    alert_file: Path


def make_rig(
    host: str,
    port: int,
    account: str,
    tmp_path: Path,
    limits: RiskLimits,
    *,
    ledger: Ledger | None = None,
    client_id: int | None = None,
    **config: Any,
) -> Rig:
    from catalyst.reconcile.ledger_book import ledger_positions

    ledger = ledger or Ledger(tmp_path / "ledger.duckdb")
    alert_file = tmp_path / "alerts.jsonl"
    alerter = Alerter(AppriseChannels([]), alert_file=alert_file, ledger=ledger)
    session = BrokerSession(
        settings_for(host, port, account, client_id=client_id),
        ledger=ledger,
        run_id="risk-it",
        proof_timeout=3.0,
        reconnect_delays=(0.2, 0.3, 0.5),
    )
    cfg = MonitorConfig(account=account, run_id="risk-it", breach_grace=0.0, **config)
    the_ledger = ledger

    async def reconcile_now() -> Any:
        from catalyst.reconcile.engine import reconcile

        return await reconcile(session, the_ledger, account=account, run_id="risk-it")

    monitor = Monitor(session, ledger, alerter, limits, cfg, book=ledger_positions, reconcile=reconcile_now)
    return Rig(monitor, session, ledger, alert_file)


def run(rig: Rig, scenario: Callable[[Rig], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        await rig.session.connect()
        try:
            return await scenario(rig)
        finally:
            await rig.session.close()

    return asyncio.run(main())


async def until(probe: Callable[[], Awaitable[Any]], timeout: float = 10.0, what: str = "condition") -> Any:
    """Re-check ``probe`` until it returns something truthy (the gateway gives no event for these)."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.1)


async def flat(session: BrokerSession, symbol: str) -> bool:
    positions = await session.positions()
    return bool(positions[positions["symbol"] == symbol].empty)


def record_position(
    ledger: Ledger, account: str, symbol: str, qty: int, stop: Decimal, target: Decimal
) -> None:
    """What the ledger holds after a proven bracket filled: the position with its levels."""
    from datetime import UTC, datetime

    ledger.upsert(
        "positions",
        {
            "account": account,
            "symbol": symbol,
            "quantity": qty,
            "stop_price": stop,
            "target_price": target,
            "source": "fill",
            "updated_at": datetime.now(UTC),
        },
    )
