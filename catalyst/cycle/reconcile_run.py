"""One reconciliation run: order-status sync, then positions broker vs ledger, every finding shown.

What ``reconcile.ipynb`` calls. The broker is the source of truth (rule 6); the sync (rule 7)
runs first so fills and expiries the broker reported are in the ledger before positions are
compared. A reconciliation that cannot complete raises (the notebook fails and is archived so).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
import structlog

from catalyst.broker import BrokerSession
from catalyst.market import HK_TZ
from catalyst.reconcile.engine import AlertFn, ReconciliationReport, reconcile
from catalyst.reconcile.ledger_book import ledger_positions
from catalyst.risk.alerts import alerter_from_settings
from catalyst.risk.event_alerts import AlertSink, RiskEventAlerts, alert_function

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ReconcileRunReport:
    run_id: str
    account: str
    server_time: datetime
    reconciliation: ReconciliationReport
    sync_changes: pd.DataFrame
    broker_positions: pd.DataFrame
    ledger_positions: pd.DataFrame
    open_orders: pd.DataFrame
    history: pd.DataFrame = field(default_factory=pd.DataFrame)

    def headline(self) -> str:
        r = self.reconciliation
        n = len(r.findings)
        return (
            f"Reconciliation {r.recon_id} of account {self.account} at "
            f"{self.server_time:%Y-%m-%d %H:%M:%S %Z}"
            f" (broker time): {r.status.upper()}, {n} discrepanc{'y' if n == 1 else 'ies'}, "
            f"{r.backfilled} fill(s) backfilled, {len(self.sync_changes)} order status change(s)"
        )

    def summary(self) -> pd.DataFrame:
        r = self.reconciliation
        rows = [
            ("status", r.status),
            ("broker positions", r.broker_positions),
            ("ledger positions", r.ledger_positions),
            ("discrepancies", len(r.findings)),
            ("fills backfilled", r.backfilled),
            ("symbols locked", ", ".join(r.locked) or "-"),
            ("symbols unlocked", ", ".join(r.unlocked) or "-"),
            ("order status changes", len(self.sync_changes)),
            ("broker orders adopted", ", ".join(r.adoption.adopted) or "-"),
            ("intents interrupted (legs working, unproven)", ", ".join(r.closeout.interrupted) or "-"),
            ("runs closed out as crashed", ", ".join(r.closeout.crashed_runs) or "-"),
        ]
        return pd.DataFrame(rows, columns=["item", "value"])


def reconciliation_history(ledger: Any, account: str, limit: int = 50) -> pd.DataFrame:
    return ledger.query(
        "SELECT ts, run_id, status, broker_positions, ledger_positions, discrepancies FROM reconciliations "
        "WHERE coalesce(account, '') = ? ORDER BY ts DESC LIMIT ?",
        [account or "", limit],
    )


async def reconcile_with(
    broker: Any, ledger: Any, *, run_id: str, alert: AlertFn | None = None
) -> ReconcileRunReport:
    account = str(broker.account)
    now = (await broker.server_time()).astimezone(HK_TZ)
    changes = await broker.sync_order_status()
    log.info("cycle.reconcile.synced", run_id=run_id, changes=len(changes))
    report = await reconcile(broker, ledger, account=account, run_id=run_id, now=now, alert=alert)
    return ReconcileRunReport(
        run_id=run_id,
        account=account,
        server_time=now,
        reconciliation=report,
        sync_changes=changes,
        broker_positions=await broker.positions(),
        ledger_positions=ledger_positions(ledger, account),
        open_orders=await broker.open_orders(),
        history=reconciliation_history(ledger, account),
    )


async def run_reconciliation(
    settings: Any,
    ledger: Any,
    *,
    run_id: str,
    session_factory: Callable[..., Any] = BrokerSession,
    alerter: AlertSink | None = None,
) -> ReconcileRunReport:
    """Connect, sync order status, reconcile, disconnect. The notebook's one call. Findings, locks,
    a failed reconciliation and the session's risk events alert a human (the alert file when no
    channel is set)."""
    alerter = alerter or alerter_from_settings(settings, ledger=ledger, run_id=run_id)
    event_alerts = RiskEventAlerts(alerter)
    try:
        broker = session_factory(settings, ledger=ledger, run_id=run_id, on_risk_event=event_alerts)
        await broker.connect()
        try:
            return await reconcile_with(broker, ledger, run_id=run_id, alert=alert_function(alerter))
        finally:
            await broker.close()
    finally:
        await asyncio.to_thread(event_alerts.close)
