"""Trading phases on XHKG plus the auctions (hkex-rules.md §3, §3.1)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta

import pytest

from catalyst.market import (
    HK_TZ,
    CalendarRangeError,
    NaiveDatetimeError,
    Phase,
    accepts_new_orders,
    is_trading_day,
    minutes_to_close,
    next_session_open,
    phase,
    session_for,
    sessions_between,
)

HOLIDAYS = {
    2025: ["01-01", "01-29", "01-30", "01-31", "04-04", "04-18", "04-21", "05-01", "05-05", "07-01",
           "10-01", "10-07", "10-29", "12-25", "12-26"],
    2026: ["01-01", "02-17", "02-18", "02-19", "04-03", "04-06", "04-07", "05-01", "05-25", "06-19",
           "07-01", "10-01", "10-19", "12-25"],
}  # fmt: skip
HALF_DAYS = {2025: ["01-28", "12-24", "12-31"], 2026: ["02-16", "12-24", "12-31"]}


def _days(table: dict[int, list[str]]) -> list[date]:
    return [date.fromisoformat(f"{y}-{md}") for y, mds in table.items() for md in mds]


def hk(day: date, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm, ss), tzinfo=HK_TZ)


FULL_DAY = date(2026, 11, 24)  # a Tuesday
HALF_DAY = date(2026, 2, 16)  # Lunar New Year's Eve


@pytest.mark.parametrize("day", _days(HOLIDAYS), ids=str)
def test_listed_holidays_are_closed_all_day(day: date) -> None:
    assert not is_trading_day(day)
    assert session_for(day) is None
    assert phase(hk(day, 10, 0)) is Phase.CLOSED
    assert phase(hk(day, 14, 0)) is Phase.CLOSED


@pytest.mark.parametrize("day", _days(HALF_DAYS), ids=str)
def test_listed_half_days_trade_the_morning_then_auction_until_12_10(day: date) -> None:
    td = session_for(day)
    assert td is not None and td.half_day
    assert phase(hk(day, 9, 0)) is Phase.PRE_OPEN
    assert phase(hk(day, 11, 59, 59)) is Phase.MORNING
    assert phase(hk(day, 12, 0)) is Phase.CLOSING_AUCTION
    assert phase(hk(day, 12, 9, 59)) is Phase.CLOSING_AUCTION
    assert phase(hk(day, 12, 10)) is Phase.CLOSED
    assert phase(hk(day, 14, 0)) is Phase.CLOSED


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_other_weekday_of_the_year_is_a_full_trading_day(year: int) -> None:
    closed = set(_days(HOLIDAYS)) | set(_days(HALF_DAYS))
    day = date(year, 1, 1)
    while day.year == year:
        if day.weekday() < 5 and day not in closed:
            td = session_for(day)
            assert td is not None and not td.half_day, day
        day += timedelta(days=1)


def test_weekends_are_closed() -> None:
    assert not is_trading_day(date(2026, 11, 28))
    assert phase(hk(date(2026, 11, 29), 10, 0)) is Phase.CLOSED


def test_weather_closures_missing_from_exchange_calendars_are_added() -> None:
    assert not is_trading_day(date(2023, 9, 1))
    assert not is_trading_day(date(2023, 9, 8))
    assert not is_trading_day(date(2024, 9, 6))  # already in XHKG


@pytest.mark.parametrize(
    ("hh", "mm", "ss", "expected"),
    [
        (8, 59, 59, Phase.CLOSED),
        (9, 0, 0, Phase.PRE_OPEN),
        (9, 29, 59, Phase.PRE_OPEN),
        (9, 30, 0, Phase.MORNING),
        (11, 59, 59, Phase.MORNING),
        (12, 0, 0, Phase.LUNCH),
        (12, 59, 59, Phase.LUNCH),
        (13, 0, 0, Phase.AFTERNOON),
        (15, 59, 59, Phase.AFTERNOON),
        (16, 0, 0, Phase.CLOSING_AUCTION),
        (16, 9, 59, Phase.CLOSING_AUCTION),
        (16, 10, 0, Phase.CLOSED),
        (23, 59, 59, Phase.CLOSED),
        (0, 0, 0, Phase.CLOSED),
    ],
)
def test_full_day_phase_boundaries(hh: int, mm: int, ss: int, expected: Phase) -> None:
    assert phase(hk(FULL_DAY, hh, mm, ss)) is expected


@pytest.mark.parametrize(
    ("hh", "mm", "accepts"), [(9, 15, False), (9, 30, True), (12, 30, False), (13, 0, True), (16, 5, False)]
)
def test_only_continuous_trading_accepts_new_orders(hh: int, mm: int, accepts: bool) -> None:
    assert accepts_new_orders(hk(FULL_DAY, hh, mm)) is accepts


def test_any_time_zone_is_read_as_the_same_instant() -> None:
    assert phase(datetime(2026, 11, 24, 1, 30, tzinfo=UTC)) is Phase.MORNING  # 09:30 HKT
    assert phase(datetime(2026, 11, 24, 7, 59, tzinfo=UTC)) is Phase.AFTERNOON  # 15:59 HKT


def test_naive_datetimes_raise() -> None:
    with pytest.raises(NaiveDatetimeError, match="no time zone"):
        phase(datetime(2026, 11, 24, 10, 0))
    with pytest.raises(NaiveDatetimeError):
        accepts_new_orders(datetime(2026, 11, 24, 10, 0))


def test_a_trading_day_carries_every_boundary_in_hong_kong_time() -> None:
    td = session_for(FULL_DAY)
    assert td is not None
    assert [(ts.strftime("%H:%M"), ph) for ts, ph in td.boundaries()] == [
        ("09:00", Phase.PRE_OPEN),
        ("09:30", Phase.MORNING),
        ("12:00", Phase.LUNCH),
        ("13:00", Phase.AFTERNOON),
        ("16:00", Phase.CLOSING_AUCTION),
        ("16:10", Phase.CLOSED),
    ]
    assert all(ts.tzinfo == HK_TZ for ts, _ in td.boundaries())


def test_a_half_day_has_no_lunch_and_no_afternoon() -> None:
    td = session_for(HALF_DAY)
    assert td is not None
    assert [ph for _, ph in td.boundaries()] == [
        Phase.PRE_OPEN,
        Phase.MORNING,
        Phase.CLOSING_AUCTION,
        Phase.CLOSED,
    ]
    assert td.close == hk(HALF_DAY, 12, 0) and td.auction_end == hk(HALF_DAY, 12, 10)


def test_next_open_before_the_bell_is_the_same_day() -> None:
    assert next_session_open(hk(FULL_DAY, 9, 10)) == hk(FULL_DAY, 9, 30)


def test_next_open_once_trading_has_started_is_the_next_trading_day() -> None:
    assert next_session_open(hk(FULL_DAY, 9, 30)) == hk(date(2026, 11, 25), 9, 30)


def test_next_open_skips_the_weekend_and_the_lunar_new_year() -> None:
    assert next_session_open(hk(date(2026, 11, 27), 16, 30)) == hk(date(2026, 11, 30), 9, 30)
    assert next_session_open(hk(HALF_DAY, 12, 5)) == hk(date(2026, 2, 20), 9, 30)


def test_minutes_to_close_counts_to_the_end_of_continuous_trading() -> None:
    assert minutes_to_close(hk(FULL_DAY, 15, 30)) == 30.0
    assert minutes_to_close(hk(FULL_DAY, 12, 30)) == 210.0  # lunch counts
    assert minutes_to_close(hk(HALF_DAY, 11, 0)) == 60.0


@pytest.mark.parametrize("ts", [hk(FULL_DAY, 16, 5), hk(FULL_DAY, 8, 0), hk(date(2026, 2, 17), 10, 0)])
def test_minutes_to_close_is_none_when_the_market_is_not_open_or_auctioning_the_close(ts: datetime) -> None:
    assert minutes_to_close(ts) is None


def test_the_calendar_covers_2020_to_2027_and_refuses_dates_beyond() -> None:
    assert is_trading_day(date(2020, 1, 2))
    assert is_trading_day(date(2027, 12, 30))
    with pytest.raises(CalendarRangeError, match="outside"):
        is_trading_day(date(2031, 1, 2))


def test_sessions_between_lists_trading_days_inclusive() -> None:
    assert sessions_between(date(2026, 2, 13), date(2026, 2, 23)) == [
        date(2026, 2, 13), date(2026, 2, 16), date(2026, 2, 20), date(2026, 2, 23),
    ]  # fmt: skip


def test_importing_the_market_package_does_not_import_exchange_calendars() -> None:
    code = "import sys, catalyst.market, catalyst.domain; sys.exit('exchange_calendars' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
