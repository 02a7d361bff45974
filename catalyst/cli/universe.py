"""`catalyst universe import FILE | show | undo`: the trader's universe from HKEX's List of Securities.

``import`` reads the list HKEX publishes daily (.xlsx, or the same saved as .csv), checks every row,
and only then swaps the trader's universe file (``market.universe_file``) atomically, keeping the one
it replaces beside it. A bad file changes nothing: the error names each row and column at fault.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import typer

from catalyst.cli.error_translation import translate_errors
from catalyst.config import ConfigError, Settings, load_settings
from catalyst.market import ActiveUniverse, UniverseFileError, active_universe, hk_today
from catalyst.market.security_record import KIND_PLURALS, KINDS
from catalyst.market.universe_import import import_document
from catalyst.market.universe_store import previous_path, read_universe_file, write_universe

universe_app = typer.Typer(
    help="The universe: import HKEX's List of Securities; show which universe is active.",
    no_args_is_help=True,
)

#: Lot changes listed after an import (the rest are counted).
_SHOW_LOT_CHANGES = 20


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    settings.apply_market_rules()
    return settings


def kind_counts(active: ActiveUniverse) -> tuple[str, str]:
    """("2,704 equities, 205 ETFs/ETPs", "7,017 warrants, ...") for the tradable and left-out sets."""
    tradable: Counter[str] = Counter(s.kind for s in active.tradable.values())
    left: Counter[str] = Counter(s.kind for k, s in active.every.items() if k not in active.tradable)

    def line(c: Counter[str]) -> str:
        return ", ".join(f"{c[k]:,} {KIND_PLURALS[k]}" for k in KINDS if c[k]) or "none"

    return line(tradable), line(left)


def lot_changes(before: ActiveUniverse, after: ActiveUniverse) -> list[str]:
    """Each tradable security whose board lot differs from the universe it replaces."""
    out: list[str] = []
    for code, sec in after.tradable.items():
        old = before.every.get(code)
        if old is not None and old.board_lot != sec.board_lot:
            out.append(f"{code} {sec.name}: board lot {old.board_lot:,} -> {sec.board_lot:,}")
    return sorted(out, key=lambda s: int(s.split(" ", 1)[0]))


def describe_active(active: ActiveUniverse) -> list[str]:
    tradable, left = kind_counts(active)
    lines = [
        f"Active universe: {active.describe()}",
        f"  tradable:  {tradable}",
        f"  kept out:  {left}",
    ]
    warning = active.age_warning(hk_today())
    if warning:
        lines.append(f"  warning:   {warning}")
    return lines


@universe_app.command("import")
@translate_errors
def import_file(
    file: Path = typer.Argument(  # noqa: B008
        ..., help="HKEX's List of Securities: ListOfSecurities.xlsx as published, or saved as .csv."
    ),
) -> None:
    """Check HKEX's List of Securities row by row, then make it the active universe (atomically)."""
    settings = _settings()
    try:
        before: ActiveUniverse | None = active_universe()
    except UniverseFileError as exc:  # the file this import replaces is unreadable: say so, go on
        typer.secho(f"note: the current universe file is unreadable and will be replaced: {exc}", err=True)
        before = None
    doc = import_document(file)  # raises before anything is written
    target = settings.universe_file
    kept = write_universe(doc, target)
    settings.apply_market_rules()
    after = active_universe()
    typer.echo(
        f"Imported {file.name}: HKEX list as at {doc.as_of}, {len(doc.securities):,} securities, "
        f"written to {target}"
    )
    if kept is not None:
        typer.echo(f"The universe file it replaces is kept as {kept}")
    if before is not None and before.as_of > doc.as_of:
        typer.secho(
            f"note: this list (as at {doc.as_of}) is older than the one it replaces (as at {before.as_of})",
            fg=typer.colors.YELLOW,
        )
    changes = lot_changes(before, after) if before is not None else []
    if changes:
        typer.echo(f"Board lots changed since the previous universe ({len(changes)}):")
        for line in changes[:_SHOW_LOT_CHANGES]:
            typer.echo(f"  {line}")
        if len(changes) > _SHOW_LOT_CHANGES:
            typer.echo(f"  ... and {len(changes) - _SHOW_LOT_CHANGES} more")
    for line in describe_active(after):
        typer.echo(line)


@universe_app.command("undo")
@translate_errors
def undo() -> None:
    """Make the universe the last import replaced active again (the two files swap, atomically)."""
    settings = _settings()
    target = settings.universe_file
    kept = previous_path(target)
    if not kept.exists():
        typer.secho(f"error: there is no previous universe to go back to ({kept} does not exist)", err=True)
        raise typer.Exit(code=2)
    doc = read_universe_file(kept)  # refused, with the file named, if it is unreadable
    write_universe(doc, target)
    settings.apply_market_rules()
    typer.echo(f"Back to the universe as at {doc.as_of}; the one it replaces is kept as {kept}")
    for line in describe_active(active_universe()):
        typer.echo(line)


@universe_app.command("show")
@translate_errors
def show() -> None:
    """Which universe is active, its HKEX date, and what is tradable or kept out."""
    _settings()
    for line in describe_active(active_universe()):
        typer.echo(line)


def register(app: typer.Typer) -> None:
    """Add the `universe` group to the root app."""
    app.add_typer(universe_app, name="universe")
