"""`catalyst monitor`: the long-running guard of one account (layers 2 and 3, order-status sync,
hourly reconciliation). This module only assembles the parts and handles signals; the duties
live in ``catalyst.risk.monitor_daemon``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import Awaitable, Iterator
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
import typer

from catalyst.broker import BrokerSession
from catalyst.broker.errors import AccountNotManagedError, BrokerError, ClientIdInUseError
from catalyst.config import ConfigError, Settings, load_settings
from catalyst.errors import CatalystError
from catalyst.ledger import Ledger, new_id
from catalyst.log import configure_logging
from catalyst.reconcile.engine import reconcile
from catalyst.reconcile.ledger_book import ledger_positions
from catalyst.risk.alerts import Alerter, alerter_from_settings
from catalyst.risk.errors import MonitorAlreadyRunningError
from catalyst.risk.event_alerts import MONITOR_SESSION_KINDS, RiskEventAlerts
from catalyst.risk.limits import RiskLimits
from catalyst.risk.monitor_daemon import CONNECT_RETRY_MAX, Monitor, MonitorConfig
from catalyst.risk.monitor_pidfile import MonitorPidLock, running_monitors

log = structlog.get_logger(__name__)

#: The monitor connects with its own client id, this far above ``broker.client_id`` by default.
CLIENT_ID_OFFSET = 50
RECONCILE_MODES = ("direct", "notebook", "off")


def monitor_session(
    settings: Settings,
    *,
    ledger: Ledger,
    run_id: str,
    client_id: int | None = None,
    reconnect_delays: tuple[float, ...] | None = None,
    on_risk_event: RiskEventAlerts | None = None,
) -> BrokerSession:
    """The monitor's own broker session (its own client id, ``broker.client_id + 50`` by default)."""
    kwargs: dict[str, Any] = {"on_risk_event": on_risk_event}
    if reconnect_delays is not None:
        kwargs["reconnect_delays"] = reconnect_delays
    return BrokerSession(
        settings,
        ledger=ledger,
        run_id=run_id,
        client_id=client_id if client_id is not None else settings.broker.client_id + CLIENT_ID_OFFSET,
        **kwargs,
    )


def build_monitor(
    settings: Settings,
    *,
    session: BrokerSession,
    ledger: Ledger,
    alerter: Alerter,
    config: MonitorConfig,
    reconcile_with: str = "direct",
) -> Monitor:
    """A monitor of ``config.account`` (the session's, resolved at connect) wired to the session,
    the ledger's book and the reconciler.

    ``reconcile_with``: ``direct`` reconciles in-process; ``notebook`` runs `catalyst reconcile`
    (the archived reconcile notebook) as a child process; ``off`` leaves it to the scheduler.
    """
    if reconcile_with not in RECONCILE_MODES:
        raise typer.BadParameter(f"--reconcile-with must be one of {', '.join(RECONCILE_MODES)}")

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
    return Monitor(
        session,
        ledger,
        alerter,
        RiskLimits.from_settings(settings),
        config,
        book=ledger_positions,
        reconcile=chosen,
    )


async def connect_for_account(
    session: BrokerSession, stop: asyncio.Event, *, alerter: Alerter, down_alert_after: float
) -> str | None:
    """Connect, retrying while the gateway is down, and return the account the session resolved
    (the one the monitor guards); None when stopped first. A refused account or client id is not
    retried: waiting would not change it."""
    delay, started, alerted = 0.5, time.monotonic(), False
    while not stop.is_set():
        try:
            await session.connect()
            return session.account
        except (AccountNotManagedError, ClientIdInUseError):
            raise
        except (BrokerError, OSError) as exc:
            down_for = time.monotonic() - started
            log.warning("monitor.connect.failed", error=str(exc), retry_in=delay, down_seconds=down_for)
            if not alerted and down_for >= down_alert_after:
                alerted = True
                await asyncio.to_thread(
                    alerter.alert,
                    "critical",
                    "GATEWAY DOWN (monitor not started)",
                    f"the monitor cannot reach the gateway for {down_for:.0f} s ({exc}); it keeps "
                    "retrying. Positions rely on the broker-held stops meanwhile.",
                    dedup_key="gw-down:monitor-start",
                )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(CONNECT_RETRY_MAX, delay * 2)
    return None


async def run_monitor(monitor: Monitor, session: BrokerSession, stop: asyncio.Event) -> None:
    """Run a monitor over a connected session until ``stop`` (the session reconnects by itself
    after a drop), then close the session."""
    try:
        await monitor.run(stop)
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
    """Watch one account until SIGTERM: stops and targets, the daily loss limit, order status, drift.

    The account is the one the gateway session resolves at connect (broker.account, or the login's
    only account), so the monitor connects first and then takes its per-account pid lock."""
    settings = _settings(config)
    _check_options(sync_interval=sync_interval, reconcile_with=reconcile_with)
    run_id = f"monitor-{new_id()}"
    try:
        ledger = Ledger(settings.ledger_path)
    except CatalystError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    configure_logging(
        json_file=settings.state_dir / "monitor.jsonl", secrets=settings.secret_values(), ledger=ledger
    )
    alerter = alerter_from_settings(settings, ledger=ledger, run_id=run_id)
    session_alerts = RiskEventAlerts(alerter, only=MONITOR_SESSION_KINDS)
    session = monitor_session(
        settings, ledger=ledger, run_id=run_id, client_id=client_id, on_risk_event=session_alerts
    )
    wanted = "(none configured: the gateway login's only account)"
    typer.echo(
        f"catalyst monitor: connecting to the gateway {settings.broker.host}:{settings.broker_port} "
        f"(client id {session.client_id}) for account {settings.broker.account or wanted}"
        "; SIGTERM stops it"
    )
    # the account is the one the session resolves at connect: _watch fills it in
    cfg = MonitorConfig(
        account="",
        run_id=run_id,
        state_dir=settings.state_dir,
        poll_interval=poll_interval,
        sync_interval=sync_interval,
        reconcile_interval=reconcile_interval,
        down_alert_after=down_alert_after,
    )
    with _exit_codes(settings):
        try:
            status = asyncio.run(
                _watch(
                    settings,
                    session=session,
                    ledger=ledger,
                    alerter=alerter,
                    config=cfg,
                    reconcile_with=reconcile_with,
                )
            )
        finally:
            session_alerts.drain()
    typer.echo(f"catalyst monitor stopped ({status})")


@contextlib.contextmanager
def _exit_codes(settings: Settings) -> Iterator[None]:
    """A monitor that cannot start says why and exits 3 (one already runs) or 2 (fix the call)."""
    try:
        yield
    except MonitorAlreadyRunningError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=3) from exc
    except ClientIdInUseError as exc:
        running = running_monitors(settings.state_dir)
        if running:
            shown = ", ".join(f"pid {pid} ({path})" for path, pid in running.items())
            typer.echo(f"error: a catalyst monitor is already running: {shown}; {exc}", err=True)
            raise typer.Exit(code=3) from exc
        typer.echo(f"error: {exc}; or pass --client-id", err=True)
        raise typer.Exit(code=2) from exc
    except AccountNotManagedError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc


def _check_options(*, sync_interval: float, reconcile_with: str) -> None:
    """Refuse an order-status sync slower than rule 7 allows, or an unknown reconcile mode."""
    if sync_interval > 60:
        typer.echo("error: --sync-interval must be at most 60 s (rule 7)", err=True)
        raise typer.Exit(code=2)
    if reconcile_with not in RECONCILE_MODES:
        typer.echo(f"error: --reconcile-with must be one of {', '.join(RECONCILE_MODES)}", err=True)
        raise typer.Exit(code=2)


async def _watch(
    settings: Settings,
    *,
    session: BrokerSession,
    ledger: Ledger,
    alerter: Alerter,
    config: MonitorConfig,
    reconcile_with: str,
) -> str:
    """Connect, take the account's pid lock, and run the monitor until SIGTERM or SIGINT; returns
    how it ended. ``config`` is complete but for the account, which the session resolves."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        account = await connect_for_account(
            session, stop, alerter=alerter, down_alert_after=config.down_alert_after
        )
    except BaseException:
        await session.close()
        raise
    if account is None:
        await session.close()
        return "stopped before connecting"
    lock = MonitorPidLock(settings.state_dir, account)
    try:
        lock.acquire()
    except MonitorAlreadyRunningError:
        await session.close()
        raise
    try:
        cfg = replace(config, account=account)
        mon = build_monitor(
            settings,
            session=session,
            ledger=ledger,
            alerter=alerter,
            config=cfg,
            reconcile_with=reconcile_with,
        )
        typer.echo(f"catalyst monitor: account {account}, pid lock {lock.path}")
        return await _recorded(settings, ledger, cfg, run_monitor(mon, session, stop))
    finally:
        lock.release()


async def _recorded(settings: Settings, ledger: Ledger, cfg: MonitorConfig, body: Awaitable[None]) -> str:
    """Run ``body`` with the monitor's row in the ledger's runs (running, then ok or failed)."""
    started = datetime.now(UTC)
    row = {"run_id": cfg.run_id, "kind": "monitor", "mode": settings.mode, "account": cfg.account}
    ledger.upsert(
        "runs",
        {
            **row,
            "started_at": started,
            "status": "running",
            "parameters": json.dumps({k: str(v) for k, v in asdict(cfg).items()}),
        },
    )
    status = "failed"
    try:
        await body
        status = "ok"
    finally:
        ledger.upsert(
            "runs", {**row, "started_at": started, "finished_at": datetime.now(UTC), "status": status}
        )
    return status


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("monitor")(monitor)
