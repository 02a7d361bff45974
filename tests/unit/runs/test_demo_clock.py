"""The demo moves the simulated clock into continuous trading only when it has to."""

from __future__ import annotations

from datetime import datetime

from catalyst.market import HK_TZ
from catalyst.runs.demo_run import trading_time


def test_a_clock_in_the_morning_session_is_left_alone() -> None:
    assert trading_time(datetime(2026, 11, 24, 10, 0, tzinfo=HK_TZ)) is None


def test_a_clock_near_the_close_moves_to_ten_the_next_trading_morning() -> None:
    assert trading_time(datetime(2026, 11, 24, 15, 50, tzinfo=HK_TZ)) == datetime(
        2026, 11, 25, 10, 0, tzinfo=HK_TZ
    )


def test_a_clock_on_a_holiday_moves_past_it() -> None:
    assert trading_time(datetime(2026, 12, 25, 11, 0, tzinfo=HK_TZ)) == datetime(
        2026, 12, 28, 10, 0, tzinfo=HK_TZ
    )
