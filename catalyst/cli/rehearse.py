"""`catalyst rehearse`: the pre-trading checklist, run for real, as a pass/fail table.

Thin: options in, :func:`catalyst.runs.rehearsal_driver.rehearse` does the steps, the table and the
exit code come from :mod:`catalyst.runs.rehearsal`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from catalyst.errors import CatalystError

EXIT_REFUSED = 2

_HELP_TEXT = """Rehearse a trading day against the gateway and print a pass/fail table.

The checks: a full cycle (papermill, as `catalyst cycle`); every bracket's structure read back
from the broker by a separate read-only session (entry, target, stop: side, type, quantity,
prices, parent link, OCA); a stop triggered by moving the price and seen to fill; the circuit
breaker tripped by `catalyst monitor` with a HK$1 daily loss limit, then one more cycle that must
send no entry; a cycle killed with SIGKILL after it sent, then a rerun: one entry per symbol and
every order of the dead run in the ledger.

WHAT IT DOES TO THE ACCOUNT. On the simulator (--mode sim, the default) it starts a fresh simulated
gateway of its own at 10:00 HKT of the next session, whatever the hour (or uses the running one
given by --gateway-state, moving its clock into continuous trading if it is not there), moves the
clock to the next trading day for the rerun, moves prices, places and cancels
orders and opens and closes positions. On a paper account (--mode paper) it places NO order unless
--place-orders is given: without it, the cycle runs as a dry run and the other checks are
skipped; with it, it sends real paper brackets, lets the monitor flatten the account and cancel
every order of the login, and cancels and flattens whatever is left at the end. It needs a flat
account with nothing working before it places orders. Checks that need the simulator's control
channel (moving a price) are skipped on paper. It never runs against a live account.

Everything is recorded in a rehearsal project of its own (a new temporary folder, or --project):
its own ledger, run archive, alert file and state. Your ledger and runs/ are never touched, unless
you point --project at your own project (it then says so and writes into that ledger).

Exit codes: 0 every check passed; 1 a check failed; 3 nothing failed but some were skipped;
2 refused (live mode, bad option, unusable --project or --gateway-state)."""
#: One line per paragraph: the terminal wraps them to its width.
HELP = "\n\n".join(" ".join(paragraph.split()) for paragraph in _HELP_TEXT.split("\n\n"))


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(EXIT_REFUSED)


def _strategy_params(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise _fail(f"--strategy-params is not JSON ({exc}); e.g. '{{\"max_candidates\": 2}}'") from None
    if not isinstance(value, dict):
        raise _fail("--strategy-params must be a JSON object, e.g. '{\"max_candidates\": 2}'")
    return value


def rehearse(
    mode: Annotated[
        str | None, typer.Option("--mode", help="sim (default: a simulator of its own) or paper.")
    ] = None,
    place_orders: Annotated[
        bool,
        typer.Option("--place-orders", help="On a paper account: send real paper orders (see above)."),
    ] = False,
    gateway_state: Annotated[
        Path | None,
        typer.Option("--gateway-state", help="Use the running simulator with this state dir instead."),
    ] = None,
    project: Annotated[
        Path | None, typer.Option("--project", help="Folder for the rehearsal's project (new or empty).")
    ] = None,
    universe: Annotated[str | None, typer.Option("--universe", help="Stock codes the cycles scan.")] = None,
    strategy_params: Annotated[
        str | None, typer.Option("--strategy-params", help="JSON of the strategy's parameters.")
    ] = None,
    wait: Annotated[float, typer.Option(help="Longest wait, in seconds, for any broker event.")] = 120.0,
) -> None:
    from catalyst.config import ConfigError, load_settings
    from catalyst.runs import rehearsal as r
    from catalyst.runs.rehearsal_driver import (
        DEFAULT_STRATEGY_PARAMS,
        DEFAULT_UNIVERSE,
        RehearsalOptions,
    )
    from catalyst.runs.rehearsal_driver import rehearse as run_rehearsal

    try:
        settings = load_settings()
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    chosen = mode or settings.mode
    if chosen not in ("sim", "paper", "live"):
        raise _fail(f"--mode must be sim or paper, got {chosen!r}")
    if place_orders and chosen == "sim":
        typer.echo("note: --place-orders only matters on a paper account; the simulator always places them")
    if gateway_state is not None and chosen != "sim":
        raise _fail("--gateway-state names a simulator; it cannot be used with --mode paper")
    if wait <= 0:
        raise _fail("--wait must be a positive number of seconds")
    options = RehearsalOptions(
        mode=chosen,
        place_orders=place_orders,
        universe=universe or DEFAULT_UNIVERSE,
        strategy_params=_strategy_params(strategy_params)
        if strategy_params
        else dict(DEFAULT_STRATEGY_PARAMS),
        gateway_state=gateway_state,
        project=project,
        wait=wait,
    )
    try:
        results, root = run_rehearsal(settings, options, say=typer.echo)
    except CatalystError as exc:
        raise _fail(str(exc)) from None
    typer.echo("")
    typer.echo(r.render_table(results))
    typer.echo("")
    code = r.exit_code(results)
    colour = {r.EXIT_ALL_PASSED: typer.colors.GREEN, r.EXIT_FAILED: typer.colors.RED}.get(code)
    typer.secho(r.summary_line(results), fg=colour or typer.colors.YELLOW)
    typer.echo(f"Rehearsal project (ledger, runs, logs): {root}")
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add `catalyst rehearse` to the root app."""
    app.command("rehearse", help=HELP)(rehearse)
