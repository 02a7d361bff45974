"""`catalyst risk status|reset|unlock`: the breaker's halt and the symbol locks, read from and
written to the ledger (so every process sees the same state)."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path

import typer

from catalyst.config import ConfigError, Settings, load_settings
from catalyst.ledger import Ledger
from catalyst.risk.monitor_pidfile import running_monitor_pid
from catalyst.risk.risk_errors import RiskCommandError
from catalyst.risk.risk_state import load_risk_state, reset_breaker, unlock_symbol

risk_app = typer.Typer(help="Risk state: the circuit breaker's halt and symbol locks.", no_args_is_help=True)

_CONFIG = typer.Option(
    None, "--config", "-c", help="The settings file (default: $CATALYST_CONFIG or ./catalyst.toml)."
)
_REASON = typer.Option(..., "--reason", "-r", help="Why; recorded in the ledger with your user name.")


def _settings(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc


def _who() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


@risk_app.command("status")
def status(config: Path | None = _CONFIG) -> None:
    """Is trading halted, which symbols are locked, is a monitor running."""
    settings = _settings(config)
    account = settings.broker.account
    ledger = Ledger(settings.ledger_path)
    state = load_risk_state(ledger, account, datetime.now(UTC))
    pid = running_monitor_pid(settings.state_dir, account)
    typer.echo(f"account   {account or '(default)'}")
    if state.halted:
        until = f"{state.halt_until:%Y-%m-%d %H:%M %Z}" if state.halt_until else "?"
        typer.echo(f"breaker   HALTED since {state.halted_at:%Y-%m-%d %H:%M:%S %Z}: {state.halt_reason}")
        typer.echo(f"          until {until}, or `catalyst risk reset --reason TEXT`")
    else:
        typer.echo("breaker   ok: new entries allowed")
    if state.locks:
        for symbol, why in sorted(state.locks.items()):
            typer.echo(f"locked    {symbol}: {why}")
    else:
        typer.echo("locked    none")
    typer.echo(f"monitor   {'running, pid ' + str(pid) if pid else 'not running'}")


@risk_app.command("reset")
def reset(reason: str = _REASON, config: Path | None = _CONFIG) -> None:
    """Lift the circuit breaker's halt before the next session."""
    settings = _settings(config)
    ledger = Ledger(settings.ledger_path)
    account = settings.broker.account
    if not load_risk_state(ledger, account, datetime.now(UTC)).halted:
        typer.echo("the circuit breaker is not tripped; nothing to reset")
        return
    try:
        reset_breaker(ledger, account=account, reason=reason, ts=datetime.now(UTC), by=_who())
    except RiskCommandError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(f"circuit breaker reset for {account or '(default)'}: {reason}")


@risk_app.command("unlock")
def unlock(symbol: str, reason: str = _REASON, config: Path | None = _CONFIG) -> None:
    """Acknowledge a discrepancy and allow new entries in SYMBOL again."""
    settings = _settings(config)
    ledger = Ledger(settings.ledger_path)
    account = settings.broker.account
    if symbol not in load_risk_state(ledger, account, datetime.now(UTC)).locks:
        typer.echo(f"{symbol} is not locked; nothing to unlock")
        return
    try:
        unlock_symbol(ledger, account=account, symbol=symbol, reason=reason, ts=datetime.now(UTC), by=_who())
    except RiskCommandError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(f"{symbol} unlocked for {account or '(default)'}: {reason}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(risk_app, name="risk")
