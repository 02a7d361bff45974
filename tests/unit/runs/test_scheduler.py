"""The scheduler loop runs each slot's job as a process, and one scheduler per account."""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import pytest

from catalyst.market import HK_TZ
from catalyst.runs.errors import SchedulerAlreadyRunningError
from catalyst.runs.schedule_slots import SchedulePlan
from catalyst.runs.scheduler import Scheduler, job_argv, scheduler_lock


def test_a_second_scheduler_for_the_same_account_is_refused(tmp_path: Path) -> None:
    with (
        scheduler_lock(tmp_path, "DU111"),
        pytest.raises(SchedulerAlreadyRunningError, match="already running"),
        scheduler_lock(tmp_path, "DU111"),
    ):
        pass


def test_schedulers_for_different_accounts_coexist(tmp_path: Path) -> None:
    with scheduler_lock(tmp_path, "DU111"), scheduler_lock(tmp_path, "DU222"):
        pass


def test_jobs_run_the_catalyst_command_in_the_schedulers_mode() -> None:
    assert job_argv("cycle", "paper", ["catalyst"]) == ["catalyst", "cycle", "--mode", "paper"]
    assert job_argv("monitor", "paper", ["catalyst"]) == ["catalyst", "monitor"]


def test_the_loop_runs_the_next_slot_when_its_time_comes(tmp_path: Path) -> None:
    start = datetime(2026, 11, 24, 9, 44, 59, 800000, tzinfo=HK_TZ)
    t0 = time.monotonic()

    def clock() -> datetime:
        return start + timedelta(seconds=time.monotonic() - t0)

    marker = tmp_path / "ran"
    base = [sys.executable, "-c", f"import sys; open({str(marker)!r}, 'w').write(' '.join(sys.argv[1:]))"]
    plan = SchedulePlan(cycle_times=(dtime(9, 45),), monitor=False)
    sched = Scheduler(plan, mode="sim", base_command=base, clock=clock)
    sched.run(max_slots=1)
    assert [(s.job, code) for s, code in sched.ran] == [("cycle", 0)]
    assert marker.read_text() == "cycle --mode sim"


def test_a_slot_found_long_after_its_time_is_skipped(tmp_path: Path) -> None:
    late = datetime(2026, 11, 24, 10, 0, tzinfo=HK_TZ)
    plan = SchedulePlan(cycle_times=(dtime(9, 45),), monitor=False)
    sched = Scheduler(
        plan, mode="sim", base_command=[sys.executable, "-c", "raise SystemExit(3)"], clock=lambda: late
    )
    from catalyst.runs.schedule_slots import Slot

    sched.run_slot(Slot(datetime(2026, 11, 24, 9, 45, tzinfo=HK_TZ), "cycle"))
    assert sched.ran == []


def test_a_cycle_that_exits_unproven_is_alerted_with_what_the_code_means(tmp_path: Path) -> None:
    from catalyst.risk.alert_channels import AppriseChannels
    from catalyst.risk.alerts import Alerter, read_alert_file

    alerter = Alerter(AppriseChannels([]), alert_file=tmp_path / "alerts.jsonl", say=lambda _line: None)
    now = datetime(2026, 11, 24, 10, 0, tzinfo=HK_TZ)
    sched = Scheduler(
        SchedulePlan(monitor=False),
        mode="sim",
        base_command=[sys.executable, "-c", "raise SystemExit(6)"],
        clock=lambda: now,
        alerter=alerter,
    )
    assert sched.run_job("cycle") == 6
    [alert] = read_alert_file(tmp_path / "alerts.jsonl")
    assert alert["severity"] == "critical"
    assert alert["title"] == "Scheduled cycle exited 6 (unproven)"
    assert "NOT proven at the broker" in alert["body"]


def test_a_job_that_exits_0_raises_no_alert_and_a_halted_cycle_only_a_warning(tmp_path: Path) -> None:
    from catalyst.risk.alert_channels import AppriseChannels
    from catalyst.risk.alerts import Alerter, read_alert_file

    alerter = Alerter(AppriseChannels([]), alert_file=tmp_path / "alerts.jsonl", say=lambda _line: None)
    ok = Scheduler(
        SchedulePlan(monitor=False), mode="sim", base_command=[sys.executable, "-c", "pass"], alerter=alerter
    )
    assert ok.run_job("cycle") == 0
    assert read_alert_file(tmp_path / "alerts.jsonl") == []
    halted = Scheduler(
        SchedulePlan(monitor=False),
        mode="sim",
        base_command=[sys.executable, "-c", "raise SystemExit(4)"],
        alerter=alerter,
    )
    assert halted.run_job("cycle") == 4
    assert [a["severity"] for a in read_alert_file(tmp_path / "alerts.jsonl")] == ["warning"]


def test_exit_codes_outside_the_table_are_named_too() -> None:
    from catalyst.runs.scheduler import exit_meaning

    assert exit_meaning(-9) == "killed by signal 9"
    assert exit_meaning(77) == "unknown exit code 77"
    assert exit_meaning(5).startswith("blocked:")
