"""The schedule on the HKEX calendar, as pure functions of a day and a plan."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from catalyst.market import HK_TZ
from catalyst.runs.errors import BadRunParameterError
from catalyst.runs.schedule_slots import (
    SchedulePlan,
    crontab_lines,
    day_slots,
    due_job,
    next_slot,
    parse_times,
)

FULL_DAY = date(2026, 11, 24)  # a Tuesday
HALF_DAY = date(2026, 12, 24)  # Christmas Eve: morning only
HOLIDAY = date(2026, 12, 25)
PLAN = SchedulePlan(cycle_times=(time(9, 45), time(12, 30), time(14, 0)))


def _times(day: date, job: str, plan: SchedulePlan = PLAN) -> list[str]:
    return [s.at.astimezone(HK_TZ).strftime("%H:%M") for s in day_slots(day, plan) if s.job == job]


def test_reconcile_runs_at_the_pre_open_and_hourly_until_the_auction_ends() -> None:
    assert _times(FULL_DAY, "reconcile") == [
        "09:00",
        "10:00",
        "11:00",
        "12:00",
        "13:00",
        "14:00",
        "15:00",
        "16:00",
    ]


def test_cycles_run_only_inside_continuous_trading() -> None:
    assert _times(FULL_DAY, "cycle") == ["09:45", "14:00"]  # 12:30 is lunch


def test_a_half_day_drops_afternoon_cycles_and_reviews_after_the_noon_auction() -> None:
    assert _times(HALF_DAY, "cycle") == ["09:45"]
    assert _times(HALF_DAY, "reconcile") == ["09:00", "10:00", "11:00", "12:00"]
    assert _times(HALF_DAY, "review") == ["12:25"]


def test_a_holiday_has_no_slots() -> None:
    assert day_slots(HOLIDAY, PLAN) == []


def test_a_weekend_has_no_slots() -> None:
    assert day_slots(date(2026, 11, 28), PLAN) == []


def test_the_monitor_starts_before_the_pre_open_and_the_review_follows_the_close() -> None:
    assert _times(FULL_DAY, "monitor") == ["08:55"]
    assert _times(FULL_DAY, "review") == ["16:25"]


def test_next_slot_skips_a_holiday() -> None:
    after_half_day = datetime(2026, 12, 24, 13, 0, tzinfo=HK_TZ)
    slot = next_slot(after_half_day, PLAN)
    assert (slot.at.date(), slot.job) == (date(2026, 12, 28), "monitor")


def test_due_job_finds_a_slot_within_tolerance_only() -> None:
    near = datetime(2026, 11, 24, 14, 1, tzinfo=HK_TZ)
    assert due_job(near, "cycle", PLAN, timedelta(minutes=2)) is not None
    assert due_job(near, "cycle", PLAN, timedelta(seconds=30)) is None
    assert due_job(datetime(2026, 12, 24, 14, 0, tzinfo=HK_TZ), "cycle", PLAN, timedelta(minutes=2)) is None


def test_crontab_covers_full_and_half_day_times_with_a_calendar_guard() -> None:
    lines = crontab_lines(PLAN, [FULL_DAY, HALF_DAY], "catalyst schedule")
    assert "CRON_TZ=Asia/Hong_Kong" in lines
    assert "45 9 * * 1-5 catalyst schedule --run-due cycle" in lines
    assert "25 12 * * 1-5 catalyst schedule --run-due review" in lines
    assert "25 16 * * 1-5 catalyst schedule --run-due review" in lines


def test_cycle_times_parse_and_sort() -> None:
    assert parse_times("14:00, 09:45") == (time(9, 45), time(14, 0))


def test_a_bad_cycle_time_is_named() -> None:
    with pytest.raises(BadRunParameterError, match="'25:00'"):
        parse_times("09:45,25:00")
