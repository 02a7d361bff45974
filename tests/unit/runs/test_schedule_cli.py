"""`catalyst schedule --print-crontab` prints calendar-guarded cron entries."""

from __future__ import annotations

from typer.testing import CliRunner

from catalyst.cli.app import app


def test_print_crontab_lists_every_job_with_a_calendar_guard() -> None:
    done = CliRunner().invoke(app, ["schedule", "--print-crontab", "--cycle-times", "09:45,14:00"])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert "CRON_TZ=Asia/Hong_Kong" in lines
    jobs = {line.rsplit(" ", 1)[-1] for line in lines if "--run-due" in line}
    assert jobs == {"monitor", "reconcile", "cycle", "review"}
    assert any(line.startswith("0 14 * * 1-5 ") and line.endswith("--run-due cycle") for line in lines)
