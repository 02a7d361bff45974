"""When each scheduled job runs on a given HKEX day: pure functions of the day and the plan.

Jobs: ``monitor`` (start the monitor before the pre-open; it runs all day), ``reconcile`` at the
start of the session (the pre-open) and every hour until the closing auction ends, ``cycle`` at the
configured times that fall inside continuous trading (so a 14:00 cycle vanishes on a half day and a
12:30 cycle never runs: that is lunch), and ``review`` a while after the closing auction. Holidays
and weekends have no slots. Times are Hong Kong's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from catalyst.market import HK_TZ
from catalyst.market.calendar import CONTINUOUS_PHASES, TradingDay, session_for
from catalyst.runs.errors import BadRunParameterError

Job = Literal["monitor", "reconcile", "cycle", "review"]
JOBS: tuple[Job, ...] = ("monitor", "reconcile", "cycle", "review")


@dataclass(frozen=True)
class SchedulePlan:
    """What the scheduler runs. Defaults suit an intraday strategy on HKEX."""

    cycle_times: tuple[time, ...] = (time(9, 45), time(10, 30), time(11, 15), time(13, 30), time(14, 30))
    reconcile_every: timedelta = timedelta(hours=1)
    monitor_lead: timedelta = timedelta(minutes=5)  # monitor starts this long before the pre-open
    review_delay: timedelta = timedelta(minutes=15)  # review this long after the closing auction ends
    monitor: bool = True

    def __post_init__(self) -> None:
        if self.reconcile_every < timedelta(minutes=5):
            raise BadRunParameterError("reconcile_every must be at least 5 minutes")
        if self.review_delay < timedelta(0) or self.monitor_lead < timedelta(0):
            raise BadRunParameterError("review_delay and monitor_lead must not be negative")


@dataclass(frozen=True, order=True)
class Slot:
    at: datetime
    job: Job


def parse_times(text: str) -> tuple[time, ...]:
    """``"09:45,10:30,14:00"`` → times; a bad entry raises naming it."""
    out: list[time] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            out.append(time.fromisoformat(part))
        except ValueError:
            raise BadRunParameterError(f"not a time of day (HH:MM): {part!r}") from None
    if not out:
        raise BadRunParameterError("no cycle times given (expected e.g. 09:45,10:30,14:00)")
    return tuple(sorted(set(out)))


def slots_for_session(td: TradingDay, plan: SchedulePlan) -> list[Slot]:
    """Every slot of one trading day, in time order."""
    slots: list[Slot] = []
    if plan.monitor:
        slots.append(Slot(td.pre_open - plan.monitor_lead, "monitor"))
    at = td.pre_open
    while at < td.auction_end:
        slots.append(Slot(at, "reconcile"))
        at += plan.reconcile_every
    for t in plan.cycle_times:
        when = datetime.combine(td.day, t, tzinfo=HK_TZ)
        if td.phase_at(when) in CONTINUOUS_PHASES:
            slots.append(Slot(when, "cycle"))
    slots.append(Slot(td.auction_end + plan.review_delay, "review"))
    return sorted(slots)


def day_slots(day: date, plan: SchedulePlan) -> list[Slot]:
    """Every slot of ``day`` (none on a holiday or weekend)."""
    td = session_for(day)
    return [] if td is None else slots_for_session(td, plan)


def slots_between(start: datetime, end: datetime, plan: SchedulePlan) -> list[Slot]:
    """Slots with ``start < at <= end`` (both tz-aware)."""
    out: list[Slot] = []
    d = start.astimezone(HK_TZ).date()
    last = end.astimezone(HK_TZ).date()
    while d <= last:
        out += [s for s in day_slots(d, plan) if start < s.at <= end]
        d += timedelta(days=1)
    return out


def next_slot(now: datetime, plan: SchedulePlan, *, horizon_days: int = 15) -> Slot:
    """The first slot strictly after ``now`` (looks ahead over holidays, up to ``horizon_days``)."""
    found = slots_between(now, now + timedelta(days=horizon_days), plan)
    if not found:
        raise BadRunParameterError(f"no HKEX session within {horizon_days} days of {now.isoformat()}")
    return found[0]


def due_job(now: datetime, job: Job, plan: SchedulePlan, tolerance: timedelta) -> Slot | None:
    """The slot of ``job`` within ``tolerance`` of ``now``, if any: what a cron entry asks before it
    runs, so cron lines written for weekdays skip holidays and half-day afternoons by themselves."""
    for slot in day_slots(now.astimezone(HK_TZ).date(), plan):
        if slot.job == job and abs(slot.at - now) <= tolerance:
            return slot
    return None


def crontab_lines(plan: SchedulePlan, sample_days: Iterable[date], command: str) -> list[str]:
    """Cron entries covering every slot time seen on ``sample_days`` (pass a full day and a half day).

    Each entry runs ``<command> --run-due JOB``, which checks the HKEX calendar and does nothing when
    that job is not due (a holiday, a half day's afternoon).
    """
    seen: set[tuple[int, int, str]] = set()
    for d in sample_days:
        for s in day_slots(d, plan):
            local = s.at.astimezone(HK_TZ)
            seen.add((local.hour, local.minute, s.job))
    lines = [
        "# Catalyst schedule (generated by `catalyst schedule --print-crontab`). Times are Hong Kong's.",
        "# Each entry checks the HKEX calendar itself (holidays, half days) before it runs anything.",
        "CRON_TZ=Asia/Hong_Kong",
    ]
    for hour, minute, job in sorted(seen):
        lines.append(f"{minute} {hour} * * 1-5 {command} --run-due {job}")
    return lines
