"""`catalyst risk status|reset|unlock`: the breaker's halt and the symbol locks, read from and
written to the ledger (so every process sees the same state).

These commands do not connect to the broker: the account is ``--account``, else ``broker.account``,
else the one account the ledger knows (:mod:`catalyst.risk.known_accounts`); never "" (no account).
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path

import typer

from catalyst.cli.error_translation import describe
from catalyst.config import ConfigError, Settings, load_settings
from catalyst.errors import CatalystError
from catalyst.ledger import Ledger
from catalyst.risk.errors import AccountAmbiguousError
from catalyst.risk.known_accounts import choose_account, known_accounts
from catalyst.risk.monitor_pidfile import running_monitor_pid
from catalyst.risk.state import load_risk_state, reset_breaker, unlock_symbol

risk_app = typer.Typer(help="Risk state: the circuit breaker's halt and symbol locks.", no_args_is_help=True)

_CONFIG = typer.Option(
    None, "--config", "-c", help="The settings file (default: $CATALYST_CONFIG or ./catalyst.toml)."
)
_REASON = typer.Option(..., "--reason", "-r", help="Why; recorded in the ledger with your user name.")
_ACCOUNT = typer.Option(
    None,
    "--account",
    "-a",
    help="The broker account (default: broker.account, else the one account the ledger knows).",
)


def _settings(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc


def _fail(exc: CatalystError) -> typer.Exit:
    typer.echo(f"error: {describe(exc) or exc}", err=True)  # a ledger error says what to do
    return typer.Exit(code=2)


def _account(settings: Settings, ledger: Ledger, given: str | None) -> str:
    return choose_account(given=given, configured=settings.broker.account, known=known_accounts(ledger))


def _who() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


@risk_app.command("status")
def status(account: str | None = _ACCOUNT, config: Path | None = _CONFIG) -> None:
    """Is trading halted, which symbols are locked, is a monitor running."""
    settings = _settings(config)
    try:
        ledger = Ledger(settings.ledger_path)
        known = known_accounts(ledger)
        try:
            chosen = choose_account(given=account, configured=settings.broker.account, known=known)
        except AccountAmbiguousError as exc:
            if known:
                raise
            typer.echo(f"account   none yet: {exc}")
            return
        state = load_risk_state(ledger, chosen, datetime.now(UTC))
    except CatalystError as exc:
        raise _fail(exc) from exc
    pid = running_monitor_pid(settings.state_dir, chosen)
    typer.echo(f"account   {chosen}")
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
def reset(reason: str = _REASON, account: str | None = _ACCOUNT, config: Path | None = _CONFIG) -> None:
    """Lift the circuit breaker's halt before the next session."""
    settings = _settings(config)
    try:
        ledger = Ledger(settings.ledger_path)
        chosen = _account(settings, ledger, account)
        if not load_risk_state(ledger, chosen, datetime.now(UTC)).halted:
            typer.echo(f"the circuit breaker of {chosen} is not tripped; nothing to reset")
            return
        reset_breaker(ledger, account=chosen, reason=reason, ts=datetime.now(UTC), by=_who())
    except CatalystError as exc:
        raise _fail(exc) from exc
    typer.echo(f"circuit breaker reset for {chosen}: {reason}")


@risk_app.command("unlock")
def unlock(
    symbol: str, reason: str = _REASON, account: str | None = _ACCOUNT, config: Path | None = _CONFIG
) -> None:
    """Acknowledge a discrepancy and allow new entries in SYMBOL again."""
    settings = _settings(config)
    try:
        ledger = Ledger(settings.ledger_path)
        chosen = _account(settings, ledger, account)
        if symbol not in load_risk_state(ledger, chosen, datetime.now(UTC)).locks:
            typer.echo(f"{symbol} is not locked in {chosen}; nothing to unlock")
            return
        unlock_symbol(ledger, account=chosen, symbol=symbol, reason=reason, ts=datetime.now(UTC), by=_who())
    except CatalystError as exc:
        raise _fail(exc) from exc
    typer.echo(f"{symbol} unlocked for {chosen}: {reason}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(risk_app, name="risk")
