"""`catalyst monitor`: the long-running guard of one account (layers 2 and 3, order-status sync,
hourly reconciliation). This module only assembles the parts and handles signals; the duties
live in ``catalyst.risk.monitor_daemon``."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
import typer

from catalyst.broker import BrokerSession
from catalyst.config import ConfigError, Settings, load_settings
from catalyst.ledger import Ledger, new_id
from catalyst.log import configure_logging
from catalyst.reconcile.ledger_book import ledger_positions
from catalyst.reconcile.reconciler import reconcile
from catalyst.risk.alerts import Alerter, alerter_from_settings
from catalyst.risk.monitor_daemon import Monitor, MonitorConfig
from catalyst.risk.monitor_pidfile import MonitorPidLock
from catalyst.risk.risk_errors import MonitorAlreadyRunningError
from catalyst.risk.risk_limits import RiskLimits

log = structlog.get_logger(__name__)

#: The monitor connects with its own client id, this far above ``broker.client_id`` by default.
CLIENT_ID_OFFSET = 50
RECONCILE_MODES = ("direct", "notebook", "off")


def build_monitor(
    settings: Settings,
    *,
    ledger: Ledger,
    alerter: Alerter,
    config: MonitorConfig,
    client_id: int | None = None,
    reconnect_delays: tuple[float, ...] | None = None,
    reconcile_with: str = "direct",
) -> tuple[Monitor, BrokerSession]:
    """A monitor wired to a new broker session, the ledger's book and the reconciler.

    ``reconcile_with``: ``direct`` reconciles in-process; ``notebook`` runs `catalyst reconcile`
    (the archived reconcile notebook) as a child process; ``off`` leaves it to the scheduler.
    """
    if reconcile_with not in RECONCILE_MODES:
        raise typer.BadParameter(f"--reconcile-with must be one of {', '.join(RECONCILE_MODES)}")
    kwargs: dict[str, Any] = {}
    if reconnect_delays is not None:
        kwargs["reconnect_delays"] = reconnect_delays
    session = BrokerSession(
        settings,
        ledger=ledger,
        run_id=config.run_id,
        client_id=client_id if client_id is not None else settings.broker.client_id + CLIENT_ID_OFFSET,
        **kwargs,
    )

    def alert(severity: str, title: str, body: str, key: str) -> object:
        return alerter.alert(severity, title, body, dedup_key=key)

    async def reconcile_now() -> Any:
        return await reconcile(session, ledger, account=config.account, run_id=config.run_id, alert=alert)

    async def reconcile_notebook() -> int:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "from catalyst.cli.app import main; main()",
            "reconcile",
            "--mode",
            settings.mode,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await proc.communicate()
        if proc.returncode != 0:
            tail = err.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise RuntimeError(f"`catalyst reconcile` exited with {proc.returncode}: {' | '.join(tail)}")
        return 0

    chosen = {"direct": reconcile_now, "notebook": reconcile_notebook, "off": None}[reconcile_with]

    monitor = Monitor(
        session,
        ledger,
        alerter,
        RiskLimits.from_settings(settings),
        config,
        book=ledger_positions,
        reconcile=chosen,
    )
    return monitor, session


async def run_monitor(monitor: Monitor, session: BrokerSession, stop: asyncio.Event) -> None:
    """Connect (retrying while the gateway is down), run until ``stop``, close the session."""
    try:
        await monitor.run(stop, connect=session.connect)
    finally:
        await session.close()


_CONFIG = typer.Option(None, "--config", "-c", help="The settings file.")


def _settings(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc


def monitor(
    config: Path | None = _CONFIG,
    client_id: int | None = typer.Option(
        None, "--client-id", help=f"API client id (default: broker.client_id + {CLIENT_ID_OFFSET})."
    ),
    poll_interval: float = typer.Option(30.0, help="Seconds between safety-net polls."),
    sync_interval: float = typer.Option(60.0, help="Seconds between order-status syncs (at most 60)."),
    reconcile_interval: float = typer.Option(3600.0, help="Seconds between reconciliations."),
    down_alert_after: float = typer.Option(120.0, help="Alert when the gateway is down this long."),
    reconcile_with: str = typer.Option(
        "direct", help="direct (in-process), notebook (archived `catalyst reconcile` run) or off (scheduler)."
    ),
) -> None:
    """Watch one account until SIGTERM: stops and targets, the daily loss limit, order status, drift."""
    settings = _settings(config)
    if sync_interval > 60:
        typer.echo("error: --sync-interval must be at most 60 s (rule 7)", err=True)
        raise typer.Exit(code=2)
    account = settings.broker.account
    run_id = f"monitor-{new_id()}"
    ledger = Ledger(settings.ledger_path)
    configure_logging(
        json_file=settings.state_dir / "monitor.jsonl", secrets=settings.secret_values(), ledger=ledger
    )
    lock = MonitorPidLock(settings.state_dir, account)
    try:
        lock.acquire()
    except MonitorAlreadyRunningError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=3) from exc
    cfg = MonitorConfig(
        account=account,
        run_id=run_id,
        poll_interval=poll_interval,
        sync_interval=sync_interval,
        reconcile_interval=reconcile_interval,
        down_alert_after=down_alert_after,
    )
    started = datetime.now(UTC)
    ledger.upsert(
        "runs",
        {
            "run_id": run_id,
            "kind": "monitor",
            "mode": settings.mode,
            "account": account or None,
            "started_at": started,
            "status": "running",
            "parameters": json.dumps({k: str(v) for k, v in asdict(cfg).items()}),
        },
    )
    status = "failed"
    try:
        alerter = alerter_from_settings(settings, ledger=ledger, run_id=run_id)
        mon, session = build_monitor(
            settings, ledger=ledger, alerter=alerter, config=cfg, client_id=client_id
        )
        typer.echo(
            f"catalyst monitor: account {account or '(default)'}, gateway "
            f"{settings.broker.host}:{settings.broker_port}, pid lock {lock.path}; SIGTERM stops it"
        )

        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            await run_monitor(mon, session, stop)

        asyncio.run(main())
        status = "ok"
    finally:
        ledger.upsert(
            "runs",
            {
                "run_id": run_id,
                "kind": "monitor",
                "mode": settings.mode,
                "started_at": started,
                "finished_at": datetime.now(UTC),
                "status": status,
            },
        )
        lock.release()
        typer.echo(f"catalyst monitor stopped ({status})")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("monitor")(monitor)
