"""`catalyst broker ...`: look at the account through the one broker module.

``check`` connects read-only with the configured settings (sim, paper or live: only host, port and
account differ), prints the account snapshot in HKD, positions and the open orders of every
client, then disconnects. ``sync`` brings the ledger's open orders up to date (rule 7). ``audit``
checks the account's invariants against the broker and the ledger (``catalyst.risk.audit``).
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated, NoReturn

import pandas as pd
import typer

from catalyst.broker import BrokerError, BrokerSession, SyncBrokerSession
from catalyst.cli.error_translation import describe
from catalyst.config import Settings, load_settings
from catalyst.errors import CatalystError
from catalyst.ledger import Ledger
from catalyst.risk.audit import DEFAULT_FILL_GRACE, Violation, read_audit_inputs
from catalyst.risk.audit import audit as run_audit
from catalyst.risk.limits import RiskLimits

broker_app = typer.Typer(
    help="The broker: account, positions, open orders, status sync.", no_args_is_help=True
)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="catalyst.toml to read (default: search).")]
ClientOpt = Annotated[
    int | None, typer.Option("--client-id", help="Client id for this look (default: broker.client_id + 100).")
]


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


def _show(title: str, frame: pd.DataFrame) -> None:
    typer.echo(f"\n{title} ({len(frame)})")
    if not frame.empty:
        typer.echo(frame.to_string(index=False))


@broker_app.command("check")
def check(config: ConfigOpt = None, client_id: ClientOpt = None) -> None:
    """Connect read-only and print the account snapshot, positions and open orders."""
    settings = load_settings(config)
    cid = client_id if client_id is not None else settings.broker.client_id + 100
    try:
        with SyncBrokerSession(settings, client_id=cid, readonly=True) as broker:
            snap = broker.account_snapshot()
            typer.echo(
                f"mode {settings.mode}  account {snap.account}  "
                f"({settings.broker.host}:{settings.broker_port})"
            )
            typer.echo(
                f"net liquidation {snap.net_liquidation} HKD  cash {snap.cash} HKD  "
                f"buying power {snap.buying_power} HKD"
            )
            _show("positions", broker.positions())
            _show("open orders (all clients)", broker.open_orders())
    except BrokerError as exc:
        _fail(str(exc))


@broker_app.command("sync")
def sync(config: ConfigOpt = None, client_id: ClientOpt = None) -> None:
    """Bring every non-terminal order in the ledger up to date from the broker."""
    settings = load_settings(config)
    cid = client_id if client_id is not None else settings.broker.client_id + 100
    ledger = Ledger(settings.ledger_path)
    try:
        with SyncBrokerSession(settings, client_id=cid, ledger=ledger, run_id="cli-sync") as broker:
            _show("orders changed", broker.sync_order_status())
    except BrokerError as exc:
        _fail(str(exc))


GraceOpt = Annotated[
    float,
    typer.Option(
        "--grace", help="Seconds after a fill in which a missing stop or target is not yet a violation."
    ),
]
DEFAULT_GRACE_SECONDS = DEFAULT_FILL_GRACE.total_seconds()
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the violations as JSON lines.")]


@broker_app.command("audit")
def audit(
    config: ConfigOpt = None,
    client_id: ClientOpt = None,
    grace: GraceOpt = DEFAULT_GRACE_SECONDS,
    as_json: JsonOpt = False,
) -> None:
    """Check the account's invariants now (read-only): every position protected, no naked or
    over-covering exit, one entry per symbol within the limits, every Catalyst order in the ledger,
    no entry sent while halted. Exit 0 clean, 1 naming each violation, 2 when it cannot check."""
    if not 0 <= grace < 86_400:
        _refuse(f"--grace must be a number of seconds from 0 to 86400, got {grace}")
    settings = load_settings(config)
    cid = client_id if client_id is not None else settings.broker.client_id + 100
    ledger_path = Path(settings.ledger_path)
    if not ledger_path.is_file():
        _refuse(
            f"no ledger at {ledger_path}; run `catalyst reconcile` first or fix paths.ledger in catalyst.toml"
        )
    try:
        account, found = asyncio.run(_audit(settings, Ledger(ledger_path), cid, timedelta(seconds=grace)))
    except CatalystError as exc:
        _refuse(describe(exc) or str(exc))  # a ledger error says what to do
    if as_json:
        for v in found:
            typer.echo(json.dumps({"account": account, **v.as_dict()}))
    else:
        for v in found:
            typer.echo(v.describe())
        typer.echo(
            f"audit of {account}: {len(found)} violation(s)" if found else f"audit of {account}: clean"
        )
    raise typer.Exit(code=1 if found else 0)


async def _audit(
    settings: Settings, ledger: Ledger, client_id: int, grace: timedelta
) -> tuple[str, list[Violation]]:
    async with BrokerSession(settings, client_id=client_id, readonly=True) as broker:
        now = await broker.server_time()
        view = await read_audit_inputs(
            broker,
            ledger,
            account=broker.account,
            now=now,
            limits=RiskLimits.from_settings(settings),
            fill_grace=grace,
        )
        return broker.account, run_audit(view)


def _refuse(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(broker_app, name="broker")
