"""``catalyst schedule``: run the day's jobs at their slots on the HKEX calendar.

Each job runs as its own ``catalyst`` process (a failing notebook never takes the scheduler down; its
run is archived and the next slot still runs). The monitor is a long-running child, restarted when
it dies. One scheduler per account: a lock file under ``state/`` refuses a second one. A job that
exits non-zero (a cycle with an unproven bracket, refused, halted, blocked, crashed: see
:class:`~catalyst.cycle.outcome.ExitCode`) and a monitor that died are logged and alerted.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import structlog

from catalyst.cycle.outcome import ExitCode
from catalyst.market import HK_TZ
from catalyst.risk.alerts import Severity
from catalyst.risk.event_alerts import AlertSink
from catalyst.runs.errors import SchedulerAlreadyRunningError
from catalyst.runs.schedule_slots import Job, SchedulePlan, Slot, next_slot

log = structlog.get_logger(__name__)

#: A slot found later than this (the machine slept, a job overran) is skipped, not run late.
LATE_TOLERANCE = timedelta(minutes=10)
MONITOR_CHECK_SECONDS = 30.0


def catalyst_command() -> list[str]:
    """How to invoke this installation's ``catalyst`` script (next to the running interpreter)."""
    beside = Path(sys.executable).with_name("catalyst")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("catalyst")
    return [found] if found else [sys.executable, "-c", "from catalyst.cli.app import main; main()"]


def job_argv(job: Job, mode: str, base: Sequence[str]) -> list[str]:
    """The command line of one job."""
    if job == "monitor":
        return [*base, "monitor"]  # the monitor reads the mode from CATALYST_MODE (see job_env)
    return [*base, job, "--mode", mode]


def job_env(mode: str) -> dict[str, str]:
    return {**os.environ, "CATALYST_MODE": mode}


def exit_meaning(code: int) -> str:
    """What a job's exit code means (the table of :class:`~catalyst.cycle.outcome.ExitCode`)."""
    known = ExitCode.known(code)
    if known is not None:
        return f"{known.name.lower()}: {known.meaning}"
    if code < 0:
        return f"killed by signal {-code}"
    return f"unknown exit code {code}"


@contextmanager
def scheduler_lock(state_dir: Path, account: str) -> Iterator[Path]:
    """Hold ``state/schedule-<account>.lock`` for the scheduler's life; a second holder is refused."""
    state_dir.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() else "_" for c in (account or "default"))
    path = state_dir / f"schedule-{safe}.lock"
    fh = path.open("a+")
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            raise SchedulerAlreadyRunningError(
                f"a scheduler for account {account or 'default'} is already running (pid {holder}, "
                f"lock {path}); stop it first, or use cron with --print-crontab instead"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        yield path
    finally:
        fh.close()


class Scheduler:
    """The loop: sleep until the next slot, run it, repeat, until ``stop`` is set."""

    def __init__(
        self,
        plan: SchedulePlan,
        *,
        mode: str,
        base_command: Sequence[str] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(HK_TZ),
        stop: threading.Event | None = None,
        alerter: AlertSink | None = None,
    ) -> None:
        self.plan = plan
        self.alerter = alerter
        self.mode = mode
        self.base = list(base_command or catalyst_command())
        self.clock = clock
        self.stop = stop or threading.Event()
        self.monitor: subprocess.Popen[bytes] | None = None
        self.ran: list[tuple[Slot, int]] = []

    def run_job(self, job: Job) -> int:
        argv = job_argv(job, self.mode, self.base)
        log.info("schedule.job.start", job=job, argv=argv)
        code = subprocess.call(argv, env=job_env(self.mode))
        if code == 0:
            log.info("schedule.job.done", job=job, exit_code=code)
        else:
            self.job_failed(job, code)
        return code

    def job_failed(self, job: Job, code: int) -> None:
        """Log and alert a job that exited non-zero, naming what its exit code means."""
        meaning = exit_meaning(code)
        log.error("schedule.job.failed", job=job, exit_code=code, meaning=meaning)
        known = ExitCode.known(code)
        severity = Severity.WARNING if known in (ExitCode.REFUSED, ExitCode.HALTED) else Severity.CRITICAL
        self._alert(
            severity,
            f"Scheduled {job} exited {code} ({meaning.split(':')[0]})",
            f"`catalyst {job}` at {self.clock():%Y-%m-%d %H:%M} HKT ({self.mode} mode) exited {code}: "
            f"{meaning}. Its run folder is in the archive (`catalyst runs list`).",
            f"schedule:{job}:{code}:{self.clock():%Y%m%d%H%M}",
        )

    def _alert(self, severity: Severity, title: str, body: str, key: str) -> None:
        if self.alerter is None:
            return
        try:
            self.alerter.alert(severity, title, body, dedup_key=key)
        except Exception as exc:  # the scheduler goes on; the log has the failure
            log.critical("schedule.alert_failed", title=title, error=str(exc))

    def ensure_monitor(self) -> None:
        if self.monitor is not None and self.monitor.poll() is None:
            return
        if self.monitor is not None:
            died = self.monitor.returncode
            log.warning("schedule.monitor.died", exit_code=died)
            self._alert(
                Severity.CRITICAL,
                f"The monitor died (exit {died}); restarting it",
                "layer 2 (protection, breaker) was not watching until the restart; check its log",
                f"schedule:monitor-died:{self.clock():%Y%m%d%H%M}",
            )
        argv = job_argv("monitor", self.mode, self.base)
        self.monitor = subprocess.Popen(argv, env=job_env(self.mode))
        log.info("schedule.monitor.started", pid=self.monitor.pid, argv=argv)

    def run_slot(self, slot: Slot) -> None:
        late = self.clock() - slot.at
        if late > LATE_TOLERANCE:
            log.warning(
                "schedule.slot.skipped", job=slot.job, at=slot.at.isoformat(), late_s=late.total_seconds()
            )
            return
        if slot.job == "monitor":
            self.ensure_monitor()
            self.ran.append((slot, 0))
            return
        self.ran.append((slot, self.run_job(slot.job)))

    def _wait_until(self, at: datetime) -> bool:
        """Sleep until ``at``; False when stopped first. Restarts a dead monitor meanwhile."""
        while True:
            left = (at - self.clock()).total_seconds()
            if left <= 0:
                return True
            if self.stop.wait(min(left, MONITOR_CHECK_SECONDS)):
                return False
            if self.monitor is not None:
                self.ensure_monitor()

    def run(self, *, max_slots: int | None = None) -> None:
        after = self.clock()
        done = 0
        try:
            while not self.stop.is_set() and (max_slots is None or done < max_slots):
                slot = next_slot(after, self.plan)
                log.info("schedule.next", job=slot.job, at=slot.at.isoformat())
                if not self._wait_until(slot.at):
                    break
                self.run_slot(slot)
                after = slot.at
                done += 1
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        if self.monitor is not None and self.monitor.poll() is None:
            self.monitor.terminate()
            try:
                self.monitor.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.monitor.kill()
            log.info("schedule.monitor.stopped", pid=self.monitor.pid)
