"""Entry point of the `catalyst` console script.

Each command group lives in its own ``*_cli.py`` module exposing ``register(app)``; this module only
assembles them, so groups can grow independently.
"""

from __future__ import annotations

import contextlib
import importlib

import typer

from catalyst.cli.error_translation import ErrorTranslatingGroup

app = typer.Typer(
    name="catalyst",
    cls=ErrorTranslatingGroup,  # a ledger or file error names the file and what to do, never a traceback
    help="Catalyst: research-to-trading for HKEX stocks through Interactive Brokers.",
    no_args_is_help=True,
    add_completion=False,
)

#: The modules that register commands, in the order they appear in --help.
COMMAND_MODULES: tuple[str, ...] = (
    "catalyst.cli.market",
    "catalyst.cli.universe",
    "catalyst.cli.config",
    "catalyst.cli.gateway",
    "catalyst.cli.broker",
    "catalyst.cli.risk",
    "catalyst.cli.monitor",
    "catalyst.cli.runs",
    "catalyst.cli.research",
    "catalyst.cli.strategy",
    "catalyst.cli.rehearse",
)



@app.callback()
def _apply_settings_to_market_rules() -> None:
    """Before any command: make the HKEX rules follow the settings (the Phase 2 spread-table date).

    A bad configuration is not reported here: the command that needs the settings reports it with
    the key named (and ``catalyst config check`` exists to ask for exactly that).
    """
    from catalyst.config import ConfigError, load_settings

    with contextlib.suppress(ConfigError):
        load_settings().apply_market_rules()


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    app()
