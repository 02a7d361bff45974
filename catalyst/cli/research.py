"""`catalyst bars ...`: import the trader's bar files into the cache and show what it holds.

(Running the research notebook is ``catalyst research``, registered by the runs group.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from catalyst.research.bar_import import import_bars
from catalyst.research.bar_store import BarStore, default_bar_root
from catalyst.research.errors import ResearchError

bars_app = typer.Typer(
    help="Bar data for research: import CSV/Parquet files, show the cache.", no_args_is_help=True
)


StateDirOpt = Annotated[Path | None, typer.Option(help="State directory (default: settings paths.state_dir)")]


def _store(state_dir: Path | None) -> BarStore:
    if state_dir is None:
        from catalyst.config import load_settings

        state_dir = load_settings().state_dir
    return BarStore(default_bar_root(state_dir))


@bars_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="CSV (.csv, .csv.gz) or Parquet file of bars")],
    symbol: Annotated[str | None, typer.Option(help="Stock code for a file without a symbol column")] = None,
    naive_tz: Annotated[str, typer.Option(help="Time zone of times written without one")] = "Asia/Hong_Kong",
    bar_seconds: Annotated[
        int | None, typer.Option(help="Bar length (60, 86400); inferred if omitted")
    ] = None,
    state_dir: StateDirOpt = None,
) -> None:
    """Validate FILE and merge its bars into the cache under <state_dir>/bars/."""
    try:
        frame, report = import_bars(file, naive_tz=naive_tz, symbol=symbol, seconds_per_bar=bar_seconds)
        written = _store(state_dir).write(frame)
    except ResearchError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(report.summary())
    for path in written:
        typer.echo(f"cached {path}")


@bars_app.command("show")
def show_command(
    symbol: Annotated[
        str | None, typer.Argument(help="Show this stock's last bars instead of the summary")
    ] = None,
    rows: Annotated[int, typer.Option(help="How many of the last bars to show")] = 10,
    bar_size: Annotated[str, typer.Option(help="1min or 1day")] = "1min",
    state_dir: StateDirOpt = None,
) -> None:
    """What the bar cache holds (per symbol: rows, first and last bar), or one symbol's last bars."""
    store = _store(state_dir)
    try:
        table = store.coverage() if symbol is None else store.read([symbol], bar_size=bar_size).tail(rows)
    except ResearchError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if table.empty:
        typer.echo(f"the bar cache under {store.root} is empty; add bars with `catalyst bars import FILE`")
        return
    typer.echo(table.to_string(index=False))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(bars_app, name="bars")
