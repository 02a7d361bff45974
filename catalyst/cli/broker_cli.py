"""`catalyst broker ...`: look at the account through the one broker module.

``check`` connects read-only with the configured settings (sim, paper or live: only host, port and
account differ), prints the account snapshot in HKD, positions and the open orders of every
client, then disconnects. ``sync`` brings the ledger's open orders up to date (rule 7).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from catalyst.broker import BrokerError, SyncBrokerSession
from catalyst.config import load_settings
from catalyst.ledger import Ledger

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


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(broker_app, name="broker")
