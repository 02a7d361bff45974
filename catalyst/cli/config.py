"""`catalyst config show|check`: the effective settings (secrets redacted) and their validation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from catalyst.config import ConfigError, Settings, load_settings
from catalyst.log import Redactor

config_app = typer.Typer(
    help="Settings: catalyst.toml plus CATALYST_* environment variables.", no_args_is_help=True
)

_CONFIG_OPTION = typer.Option(
    None, "--config", "-c", help="The settings file (default: $CATALYST_CONFIG or ./catalyst.toml)."
)


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and key != "secrets":
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _source(settings: Settings, key: str) -> str:
    if key == "broker.effective_port":
        if settings.broker.port is not None:
            return "broker.port"
        return "sim.port (mode sim)" if settings.mode == "sim" else f"default for mode {settings.mode}"
    if key == "secrets":
        names = sorted(s for k, s in settings.sources.items() if k.startswith("secrets."))
        return ", ".join(names) if names else "default"
    return settings.source_of(key)


def effective_settings(settings: Settings) -> dict[str, dict[str, Any]]:
    """``{dotted key: {"value": ..., "source": ...}}`` with every secret shown as ``***``."""
    flat = _flatten(settings.redacted())
    return {key: {"value": value, "source": _source(settings, key)} for key, value in flat.items()}


def _load(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc


@config_app.command("show")
def show(
    config: Path | None = _CONFIG_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Print the effective settings, where each value came from, secrets as ***."""
    settings = _load(config)
    rows = effective_settings(settings)
    guard = Redactor(settings.secret_values())
    if as_json:
        payload = {
            "config_file": str(settings.config_file) if settings.config_file else None,
            "settings": settings.redacted(),
            "sources": {k: v["source"] for k, v in rows.items()},
        }
        typer.echo(guard.text(json.dumps(payload, indent=2, default=str)))
        return
    file = settings.config_file or "none (defaults and environment only)"
    lines = [f"# settings file: {file}"]
    width = max(len(k) for k in rows)
    for key, row in rows.items():
        value = json.dumps(row["value"], default=str)
        lines.append(f"{key:<{width}}  {value:<28}  [{row['source']}]")
    typer.echo(guard.text("\n".join(lines)))


@config_app.command("check")
def check(config: Path | None = _CONFIG_OPTION) -> None:
    """Validate the settings; exit 2 with the offending key named if they are wrong."""
    settings = _load(config)
    file = settings.config_file or "no settings file (defaults and environment)"
    typer.echo(f"settings OK: mode {settings.mode}, {file}")


def register(app: typer.Typer) -> None:
    """Add the `config` group to the root app."""
    app.add_typer(config_app, name="config")
