"""`catalyst cycle|reconcile|review|research`, `catalyst schedule`, `catalyst demo` (and `runs ...`, from
:mod:`catalyst.cli.archive`).

Thin: every command parses its options and calls :mod:`catalyst.runs`.
"""

from __future__ import annotations

import signal
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from catalyst.errors import CatalystError

_RUN_CONTEXT = {"allow_extra_args": True, "ignore_unknown_options": True}
_MODE_HELP = "sim (default: the simulated gateway), paper or live (gated)"


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def parse_param_args(args: Sequence[str]) -> list[tuple[str, str]]:
    """``-p NAME VALUE`` pairs from the extra command-line arguments; anything else is refused."""
    pairs: list[tuple[str, str]] = []
    i = 0
    while i < len(args):
        if args[i] not in ("-p", "--param"):
            raise typer.BadParameter(
                f"unexpected argument {args[i]!r}; parameters are given as -p NAME VALUE"
            )
        if i + 2 >= len(args):
            raise typer.BadParameter(f"{args[i]} needs a NAME and a VALUE")
        pairs.append((args[i + 1], args[i + 2]))
        i += 3
    return pairs


def _run_kind(kind: str, ctx: typer.Context, mode: str | None, progress: bool, notebook: Path | None) -> None:
    from catalyst.cycle.outcome import ExitCode
    from catalyst.runs.launcher import launch_run
    from catalyst.runs.notebook_runner import describe_failure
    from catalyst.runs.outcome import refusal_code

    try:
        result = launch_run(
            kind,
            mode=mode,
            pairs=parse_param_args(ctx.args),
            notebook=notebook,
            progress=progress,
            say=typer.echo,
        )
    except CatalystError as exc:
        raise _fail(str(exc), int(refusal_code(exc))) from exc
    typer.echo(f"Run folder: {result.folder.path}")
    typer.echo(f"Report:     {result.folder.html}")
    for note in result.notes:
        typer.secho(note, fg=typer.colors.YELLOW)
    _say_alerts(result.folder.trade_log)
    outcome = result.outcome
    if not result.ok:
        assert result.manifest.failure is not None
        typer.secho(
            f"{kind} run FAILED (archived): {describe_failure(result.manifest.failure)}",
            fg=typer.colors.RED,
            err=True,
        )
    if outcome.code is not ExitCode.OK:
        raise _fail(f"{kind} run {result.folder.run_id}: {outcome.line()}", int(outcome.code))
    typer.secho(f"{kind} run ok: {result.folder.run_id}", fg=typer.colors.GREEN)


def _say_alerts(trade_log: Path) -> None:
    """One line per alert the run raised; the ones no channel delivered in red, with where they are."""
    from catalyst.runs.summary import run_alerts

    raised = run_alerts(trade_log)
    if not raised:
        return
    where = _alert_file_name()
    for a in raised:
        if a["delivered"]:
            typer.echo(f"alert sent ({a['severity']}): {a['title']}")
        else:
            typer.secho(
                f"ALERT {a['severity'].upper()} NOT DELIVERED ({a['failure']}), written to {where}: "
                f"{a['title']}",
                fg=typer.colors.RED,
                err=True,
            )


def _alert_file_name() -> str:
    from catalyst.config import ConfigError, load_settings

    try:
        return str(load_settings().alert_file)
    except ConfigError:
        return "the alert file (alerts.alert_file)"


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    for kind, help_text in (
        ("cycle", "Run one trading cycle (notebooks/trading_cycle.ipynb) and archive it."),
        ("reconcile", "Reconcile positions and sync order status (notebooks/reconcile.ipynb); archived."),
        ("review", "Review a day or a range of the archive (notebooks/review.ipynb); archived."),
        ("research", "Run notebooks/research.ipynb with parameters; archived."),
    ):
        _register_run_command(app, kind, help_text)

    from catalyst.cli.archive import register_runs

    register_runs(app)  # runs list | show | verify | seal

    @app.command("schedule")
    def schedule(
        mode: str | None = typer.Option(None, "--mode", help=_MODE_HELP),
        cycle_times: str | None = typer.Option(None, "--cycle-times", help="HH:MM,... (HK time)"),
        print_crontab: bool = typer.Option(False, "--print-crontab", help="print cron entries and exit"),
        run_due: str | None = typer.Option(
            None, "--run-due", help="(for cron) run JOB if the calendar says so"
        ),
        no_monitor: bool = typer.Option(False, "--no-monitor", help="do not start `catalyst monitor`"),
    ) -> None:
        """Run reconciliations, trading cycles, the monitor and the review on the HKEX calendar."""
        _schedule(mode, cycle_times, print_crontab, run_due, no_monitor)

    @app.command("demo")
    def demo() -> None:
        """Start the simulated gateway if needed, run a cycle, a reconciliation and a review."""
        from catalyst.runs.demo_run import run_demo

        try:
            code = run_demo(say=typer.echo)
        except CatalystError as exc:
            raise _fail(str(exc)) from exc
        raise typer.Exit(code)


def _exit_codes_epilog() -> str:
    """The exit-code table for ``--help`` (one paragraph per code, so the help keeps the lines)."""
    from catalyst.cycle.outcome import ExitCode

    rows = "\n\n".join(f"{int(code)} {code.name.lower()}: {code.meaning}" for code in ExitCode)
    return f"Exit codes (cron and `catalyst schedule` see them):\n\n{rows}"


def _register_run_command(app: typer.Typer, kind: str, help_text: str) -> None:
    @app.command(
        kind,
        context_settings=_RUN_CONTEXT,
        help=help_text + " Parameters: -p NAME VALUE (JSON or text).",
        epilog=_exit_codes_epilog(),
    )
    def command(
        ctx: typer.Context,
        mode: str | None = typer.Option(None, "--mode", help=_MODE_HELP),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="papermill's progress bar"),
        notebook: Path | None = typer.Option(  # noqa: B008 - typer's way of declaring an option
            None, "--notebook", help="run this notebook instead", hidden=True
        ),
    ) -> None:
        _run_kind(kind, ctx, mode, progress, notebook)


def _schedule(
    mode: str | None, cycle_times: str | None, print_crontab: bool, run_due: str | None, no_monitor: bool
) -> None:
    from catalyst.market import HK_TZ
    from catalyst.market.calendar import session_for
    from catalyst.runs.launcher import settings_for_mode
    from catalyst.runs.notebook_runner import project_root
    from catalyst.runs.schedule_slots import JOBS, SchedulePlan, crontab_lines, due_job, parse_times
    from catalyst.runs.scheduler import Scheduler, catalyst_command, scheduler_lock

    try:
        plan = (
            SchedulePlan(monitor=not no_monitor)
            if cycle_times is None
            else SchedulePlan(cycle_times=parse_times(cycle_times), monitor=not no_monitor)
        )
        if print_crontab:
            today = datetime.now(HK_TZ).date()
            days = [today + timedelta(days=i) for i in range(400)]
            full = next(d for d in days if (td := session_for(d)) is not None and not td.half_day)
            half = next((d for d in days if (td := session_for(d)) is not None and td.half_day), full)
            base = " ".join(catalyst_command())
            command = f"cd {project_root()} && {base} schedule" + (f" --mode {mode}" if mode else "")
            if cycle_times:
                command += f" --cycle-times {cycle_times}"
            for line in crontab_lines(plan, [full, half], command):
                typer.echo(line)
            return
        settings = settings_for_mode(mode)
        effective = mode or settings.mode
        sched = Scheduler(plan, mode=effective, alerter=_schedule_alerter(settings))
        if run_due is not None:
            if run_due not in JOBS:
                raise _fail(f"--run-due takes one of {', '.join(JOBS)}, got {run_due!r}")
            slot = due_job(datetime.now(HK_TZ), run_due, plan, timedelta(minutes=5))
            if slot is None:
                typer.echo(f"{run_due} is not due now on the HKEX calendar; nothing to do")
                return
            raise typer.Exit(sched.run_job(slot.job))
        with scheduler_lock(settings.state_dir, settings.broker.account):
            stop = sched.stop
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            signal.signal(signal.SIGINT, lambda *_: stop.set())
            typer.echo(f"Scheduler running ({effective} mode, HK time); Ctrl-C or SIGTERM stops it.")
            sched.run()
    except CatalystError as exc:
        raise _fail(str(exc)) from exc


def _schedule_alerter(settings: Any) -> Any:
    """The scheduler's alerter: a job that exits non-zero, or a monitor that dies, alerts a human."""
    from catalyst.ledger import Ledger
    from catalyst.risk.alerts import alerter_from_settings

    return alerter_from_settings(settings, ledger=Ledger(settings.ledger_path), run_id="")
