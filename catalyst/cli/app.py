"""Entry point of the `catalyst` console script.

Each command group lives in its own ``*_cli.py`` module exposing ``register(app)``; this module only
assembles them, so groups can grow independently.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="catalyst",
    help="Catalyst: research-to-trading for HKEX stocks through Interactive Brokers.",
    no_args_is_help=True,
    add_completion=False,
)

#: The modules that register commands, in the order they appear in --help.
COMMAND_MODULES: tuple[str, ...] = (
    "catalyst.cli.market_cli",
    "catalyst.cli.config_cli",
    "catalyst.cli.gateway_cli",
    "catalyst.cli.broker_cli",
    "catalyst.cli.risk_cli",
    "catalyst.cli.monitor_cli",
    "catalyst.cli.runs_cli",
    "catalyst.cli.research_cli",
)

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    app()
