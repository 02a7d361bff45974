"""`catalyst gateway move` and `catalyst gateway clock` steer a real gateway process from the shell.

The gateway runs with a frozen clock (speed 0), so every change seen is the command's own: the
clock moves exactly as asked and a refused command leaves price and clock as they were.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sim_gateway_helpers import TRADING_CLOCK, start_fresh_gateway
from typer.testing import CliRunner, Result

from catalyst.cli.gateway import ClockArgumentError, gateway_app, parse_clock_target, parse_duration
from catalyst.market import HK_TZ
from catalyst.sim.gateway.launcher import GatewayHandle

pytestmark = pytest.mark.integration

runner = CliRunner()


@pytest.fixture(scope="module")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHandle]:
    handle = start_fresh_gateway(tmp_path_factory.mktemp("steered"), speed=0)
    yield handle
    handle.stop()


def _gateway(handle: GatewayHandle, *args: str) -> Result:
    return runner.invoke(gateway_app, [*args, "--state", str(handle.state_dir)])


def _clock(handle: GatewayHandle) -> datetime:
    return datetime.fromisoformat(handle.control.status()["clock"])


def _last(handle: GatewayHandle, symbol: str) -> Decimal:
    return Decimal(handle.control.quote(symbol)["last"])


def _refused(result: Result, *needles: str) -> None:
    """Exit 2 with the reason on the terminal, never a traceback."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, result.output


# --- move ------------------------------------------------------------------------------------------


def test_move_by_percent_shocks_the_price_and_prints_old_and_new(frozen: GatewayHandle) -> None:
    old = _last(frozen, "941")
    result = _gateway(frozen, "move", "941", "--pct", "-5")
    assert result.exit_code == 0, result.output
    new = _last(frozen, "941")
    assert abs(new - old * Decimal("0.95")) <= old * Decimal("0.005"), (old, new)
    assert f"941: last {old} -> {new}" in result.output


def test_move_to_a_price_on_the_ladder_lands_there_within_a_tick_or_two(frozen: GatewayHandle) -> None:
    result = _gateway(frozen, "move", "0700", "--to", "380.2")
    assert result.exit_code == 0, result.output
    assert abs(_last(frozen, "700") - Decimal("380.2")) <= Decimal("0.6")
    assert "700: last" in result.output and "asked 380.2" in result.output


def test_a_price_off_the_tick_ladder_is_refused_not_snapped(frozen: GatewayHandle) -> None:
    before = _last(frozen, "941")
    result = _gateway(frozen, "move", "941", "--to", "80.01")
    _refused(result, "off tick", "80 and 80.05", "nothing was moved")
    assert _last(frozen, "941") == before


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["move", "XYZ", "--pct", "3"], "lists no stock 'XYZ'"),
        (["move", "941"], "exactly one of --pct P or --to PRICE"),
        (["move", "941", "--pct", "1", "--to", "90"], "exactly one of --pct P or --to PRICE"),
        (["move", "941", "--pct", "-100"], "above -100"),
        (["move", "941", "--pct", "abc"], "is not a number"),
        (["move", "941", "--to", "-3"], "positive price"),
        (["move", "941", "--to", "cheap"], "is not a price"),
    ],
)
def test_bad_move_input_is_refused_with_exit_2_and_no_change(
    frozen: GatewayHandle, args: list[str], needle: str
) -> None:
    before = _last(frozen, "941")
    _refused(_gateway(frozen, *args), needle)
    assert _last(frozen, "941") == before


# --- clock -----------------------------------------------------------------------------------------


def test_clock_advance_moves_the_clock_by_exactly_the_duration(frozen: GatewayHandle) -> None:
    before = _clock(frozen)
    result = _gateway(frozen, "clock", "--advance", "1h30m")
    assert result.exit_code == 0, result.output
    after = _clock(frozen)
    assert after - before == timedelta(hours=1, minutes=30)
    shown = f"clock {before.isoformat(timespec='seconds')} -> {after.isoformat(timespec='seconds')}"
    assert shown in result.output


def test_clock_to_a_later_time_of_day_sets_that_hk_time_today(frozen: GatewayHandle) -> None:
    day = _clock(frozen).date()
    result = _gateway(frozen, "clock", "--to", "15:10")
    assert result.exit_code == 0, result.output
    assert _clock(frozen) == datetime(day.year, day.month, day.day, 15, 10, tzinfo=HK_TZ)


def test_moving_the_clock_backwards_is_refused_and_changes_nothing(frozen: GatewayHandle) -> None:
    # Past TRADING_CLOCK whichever test of this module ran first on this worker.
    assert _gateway(frozen, "clock", "--advance", "1m").exit_code == 0
    before = _clock(frozen)
    _refused(_gateway(frozen, "clock", "--to", TRADING_CLOCK), "cannot go back", "--fresh")
    assert _clock(frozen) == before


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["clock", "--advance", "-5m"], "negative"),
        (["clock", "--advance", "soon"], "not a duration"),
        (["clock", "--advance", "0s"], "positive duration"),
        (["clock", "--to", "25:00"], "not a time of day"),
        (["clock"], "exactly one of --advance DURATION or --to TIME"),
        (["clock", "--advance", "5m", "--to", "16:00"], "exactly one of --advance DURATION or --to TIME"),
    ],
)
def test_bad_clock_input_is_refused_with_exit_2_and_no_change(
    frozen: GatewayHandle, args: list[str], needle: str
) -> None:
    before = _clock(frozen)
    _refused(_gateway(frozen, *args), needle)
    assert _clock(frozen) == before


def test_without_a_gateway_both_commands_say_so_with_exit_2(tmp_path: Path) -> None:
    for args in (["move", "941", "--pct", "1"], ["clock", "--advance", "5m"]):
        result = runner.invoke(gateway_app, [*args, "--state", str(tmp_path)])
        _refused(result, "no gateway is running", "catalyst gateway start")


# --- the argument parsers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("5m", 300), ("1h30m", 5400), ("2h5m10s", 7510), ("45", 45)]
)
def test_durations_are_read_as_hours_minutes_seconds(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


def test_a_naive_iso_time_is_hk_time_and_hh_mm_is_the_simulators_day() -> None:
    sim_now = datetime(2026, 11, 24, 2, 0, tzinfo=HK_TZ).astimezone(HK_TZ)
    assert parse_clock_target("2026-11-25T10:00", sim_now) == datetime(2026, 11, 25, 10, 0, tzinfo=HK_TZ)
    assert parse_clock_target("09:30", sim_now) == datetime(2026, 11, 24, 9, 30, tzinfo=HK_TZ)
    with pytest.raises(ClockArgumentError):
        parse_clock_target("9h30", sim_now)
