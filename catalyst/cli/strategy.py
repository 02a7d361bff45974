"""`catalyst strategy list | new NAME`: the strategies Catalyst finds, and a starting file for your own.

``list`` shows every strategy by name, where it came from (built-in, a file of ``strategies/``, a
module of ``research.strategy_modules``, a ``catalyst.strategies`` entry point) and its parameters
with their defaults. ``new NAME`` writes a commented, working strategy into the first folder of
``research.strategy_paths`` (``strategies/`` at the project root by default).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from catalyst.config import ConfigError, Settings, load_settings
from catalyst.research.strategy_registry import configure_from_settings, strategy_info, strategy_infos
from catalyst.research.strategy_template import write_template

strategy_app = typer.Typer(
    help="Strategies: list what Catalyst finds (built-in and your own); start a new one.",
    no_args_is_help=True,
)


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    configure_from_settings(settings)
    return settings


def _value(v: object) -> str:
    return v.isoformat(timespec="minutes") if hasattr(v, "isoformat") and not isinstance(v, str) else repr(v)


@strategy_app.command("list")
def list_command() -> None:
    """Every strategy: its name, where it came from, its parameters and their defaults."""
    _settings()
    for info in strategy_infos():
        typer.secho(info.name, bold=True)
        typer.echo(f"  from: {info.origin}")
        for path, sha in info.sha256.items():
            typer.echo(f"  source: {path} (sha256 {sha[:12]})")
        defaults = info.defaults()
        if not defaults:
            typer.echo("  parameters: none")
        for key, value in defaults.items():
            typer.echo(f"  {key} = {_value(value)}")


@strategy_app.command("new")
def new_command(
    name: Annotated[str, typer.Argument(help="the strategy's name: lowercase words joined by hyphens")],
    folder: Annotated[
        Path | None, typer.Option(help="where to write it (default: research.strategy_paths[0])")
    ] = None,
) -> None:
    """Write a commented starting file for strategy NAME into strategies/ (it passes the contract tests)."""
    settings = _settings()
    if name in {i.name for i in strategy_infos()}:
        typer.secho(
            f"error: a strategy named {name!r} exists already ({strategy_info(name).origin})",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(code=2)
    paths = settings.research.strategy_paths
    target = folder or settings.resolve(Path(paths[0]) if paths else Path("strategies"))
    path = write_template(target, name)
    typer.echo(f"wrote {path}")
    typer.echo(
        f"next: edit it, then `catalyst strategy list` and `catalyst research -p strategy {name} "
        "-p params '{}'`"
    )


def register(app: typer.Typer) -> None:
    """Add the `strategy` group to the root app."""
    app.add_typer(strategy_app, name="strategy")
