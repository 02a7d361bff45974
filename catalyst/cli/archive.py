"""`catalyst runs list|show|verify|seal`: browse, verify and acknowledge the audit archive (runs/).

``verify`` compares the archive with itself (hashes, chain) and with the ledger's ``runs`` table (a
recorded run whose folder is gone, a folder the ledger never recorded); ``seal`` acknowledges a run
that crashed before it could seal itself, so the chain verifies again and still shows it.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from catalyst.errors import CatalystError


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def _settings() -> Any:
    from catalyst.config import load_settings

    return load_settings()


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _recorded(settings: Any) -> tuple[list[Any] | None, str | None]:
    """The ledger's archived runs, or ``None`` and why when the ledger cannot be read."""
    from catalyst.ledger import Ledger
    from catalyst.runs.archive import recorded_runs

    try:
        return recorded_runs(Ledger(settings.ledger_path)), None
    except (CatalystError, OSError) as exc:
        from catalyst.runs.preflight import ledger_hint

        return None, (
            f"{exc}\n          what to do: {ledger_hint(str(exc))}; "
            "`catalyst runs verify --no-ledger` checks the archive alone meanwhile"
        )


def runs_list() -> None:
    """Every run, oldest first: id, kind, mode, status."""
    from catalyst.runs.archive import list_runs

    try:
        found = list_runs(Path(_settings().runs_dir))
    except CatalystError as exc:
        raise _fail(str(exc)) from exc
    if not found:
        typer.echo("The archive is empty: `catalyst cycle` makes the first run.")
    for r in found:
        m = r.manifest
        status = m.status if m else "UNSEALED"
        typer.echo(f"{r.relative:40} {(m.kind if m else '?'):10} {(m.mode if m else '?'):6} {status}")


def runs_show(
    run: str = typer.Argument(..., help="run id, YYYY-MM-DD/folder, folder path or id suffix"),
) -> None:
    """A run's manifest: parameters, status, artifacts and their hashes, code version, chain link."""
    from catalyst.runs.archive import resolve_run

    try:
        r = resolve_run(Path(_settings().runs_dir), run)
    except CatalystError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"Run {r.run_id} in {r.path}")
    if r.manifest is None:
        raise _fail(
            "no manifest: the run is unsealed (still running, or crashed before sealing; "
            f"`catalyst runs seal {r.run_id} --reason TEXT` acknowledges a crashed run)",
            1,
        )
    typer.echo(r.manifest.to_json())


def runs_verify(
    run: str | None = typer.Argument(None, help="check only this run"),
    no_ledger: bool = typer.Option(
        False, "--no-ledger", help="do not compare the archive with the ledger's runs table"
    ),
) -> None:
    """Recompute every artifact's SHA-256 and the manifests' hash chain; compare the archive with the
    ledger's runs; name what changed, what is missing and what does not belong."""
    from catalyst.runs.archive import verify_archive

    settings = _settings()
    recorded, why = (None, None) if no_ledger else _recorded(settings)
    try:
        report = verify_archive(Path(settings.runs_dir), run, recorded=recorded)
    except CatalystError as exc:
        raise _fail(str(exc)) from exc
    for problem in report.problems:
        typer.secho(str(problem), fg=typer.colors.RED)
    if why is not None:
        typer.secho(
            f"LEDGER    cannot compare the archive with the ledger: {why}",
            fg=typer.colors.RED,
        )
    if not report.ok or why is not None:
        count = len(report.problems) + (why is not None)
        raise _fail(f"archive verification FAILED: {count} problem(s)", 1)
    compared = "" if no_ledger else ", every run the ledger records is archived"
    typer.secho(
        f"archive verified: {report.runs_checked} run(s), {report.artifacts_checked} artifact(s), "
        f"chain intact{compared}",
        fg=typer.colors.GREEN,
    )


def runs_seal(
    run: str = typer.Argument(..., help="the unsealed run: id, YYYY-MM-DD/folder or id suffix"),
    reason: str = typer.Option(..., "--reason", "-r", help="why (goes into the manifest, with your name)"),
) -> None:
    """Acknowledge a run that crashed before sealing: seal what is there as status `crashed`."""
    from catalyst.ledger import Ledger
    from catalyst.runs.archive import recorded_runs
    from catalyst.runs.crash_seal import CRASHED, seal_crashed

    settings = _settings()
    ledger = Ledger(settings.ledger_path)
    recorded = recorded_runs(ledger)
    try:
        archived, manifest, sha = seal_crashed(
            Path(settings.runs_dir), run, reason=reason, by=_who(), recorded=recorded
        )
    except CatalystError as exc:
        raise _fail(str(exc)) from exc
    if any(r.run_id == archived.run_id for r in recorded):
        ledger.upsert(
            "runs",
            {"run_id": archived.run_id, "status": CRASHED, "finished_at": datetime.now(UTC)},
        )
    typer.echo(
        f"run {archived.run_id} sealed as {CRASHED} by {_who()}: chain position {manifest.sequence}, "
        f"{len(manifest.artifacts)} artifact(s), manifest {sha[:12]}; `catalyst runs verify` checks it"
    )


def register_runs(app: typer.Typer) -> None:
    """Add the ``runs`` group to the root app."""
    runs = typer.Typer(help="Browse, verify and acknowledge the audit archive (runs/).", no_args_is_help=True)
    app.add_typer(runs, name="runs")
    runs.command("list")(runs_list)
    runs.command("show")(runs_show)
    runs.command("verify")(runs_verify)
    runs.command("seal")(runs_seal)
