"""Gateway start-up choices: the automatic clock, fault specs, pacing windows, bar end times."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from catalyst.market import HK_TZ
from catalyst.sim.engine.errors import UnknownFaultError
from catalyst.sim.gateway.connection_faults import ConnectionFaults, PacingWindow, parse_fault_spec
from catalyst.sim.gateway.gateway_main import GatewayConfig, auto_start_clock, resolve_start
from catalyst.sim.gateway.wire_views import BadEndDateTimeError, parse_end_datetime


def test_auto_clock_keeps_now_during_continuous_trading() -> None:
    now = datetime(2026, 11, 24, 10, 30, tzinfo=HK_TZ)  # a Tuesday morning
    assert auto_start_clock(now) == now


def test_auto_clock_on_a_saturday_starts_at_ten_on_monday() -> None:
    assert auto_start_clock(datetime(2026, 11, 28, 15, 0, tzinfo=HK_TZ)) == datetime(
        2026, 11, 30, 10, 0, tzinfo=HK_TZ
    )


def test_auto_clock_at_lunch_starts_at_ten_on_the_next_trading_day() -> None:
    lunch = datetime(2026, 11, 24, 12, 30, tzinfo=HK_TZ)
    assert auto_start_clock(lunch) == datetime(2026, 11, 25, 10, 0, tzinfo=HK_TZ)


def test_a_restarted_gateway_keeps_its_persisted_clock() -> None:
    config = GatewayConfig(state_dir=Path("x"))
    assert resolve_start(config, state_exists=True, now=datetime(2026, 11, 24, 10, 30, tzinfo=HK_TZ)) is None


def test_an_explicit_clock_needs_a_time_zone() -> None:
    with pytest.raises(ValueError, match="time zone"):
        resolve_start(
            GatewayConfig(state_dir=Path("x"), clock="2026-11-24T10:00:00"), False, datetime.now(UTC)
        )


def test_fault_spec_with_parameters() -> None:
    assert parse_fault_spec("latency:ms=250") == ("latency", {"ms": 250})
    assert parse_fault_spec("disconnect:after=3:client_id=7") == ("disconnect", {"after": 3, "client_id": 7})


def test_unknown_fault_name_is_refused() -> None:
    with pytest.raises(UnknownFaultError, match="drop-children"):
        parse_fault_spec("meteor")


def test_pacing_window_refuses_the_message_over_the_limit() -> None:
    window = PacingWindow()
    assert all(window.admit(0.1 * i / 10, limit=5) for i in range(5))
    assert not window.admit(0.2, limit=5)
    assert window.violations == 1
    assert window.admit(1.5, limit=5)  # a second later the window has emptied


def test_disconnect_after_n_counts_down_to_the_nth_message() -> None:
    faults = ConnectionFaults()
    faults.set("disconnect", True, {"after": 2})
    assert [faults.count_message_for_disconnect() for _ in range(2)] == [False, True]


def test_end_datetime_formats_ib_accepts() -> None:
    now = datetime(2026, 11, 24, 10, 0, tzinfo=HK_TZ)
    assert parse_end_datetime("", now) == now
    assert parse_end_datetime("20261124 02:00:00 UTC", now) == datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    assert parse_end_datetime("20261124-02:00:00", now) == datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    assert parse_end_datetime("20261124 10:00:00 Asia/Hong_Kong", now) == now
    assert parse_end_datetime("20261124 10:00:00", now) == now


def test_bad_end_datetime_is_refused() -> None:
    with pytest.raises(BadEndDateTimeError):
        parse_end_datetime("yesterday", datetime.now(UTC))
