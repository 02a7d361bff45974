"""`catalyst market snapshot`: phase, next open and lot/tick per security, from the rules alone."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal as D
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from catalyst.cli.market import register
from catalyst.market import HK_TZ, Phase, set_phase2_date
from catalyst.market.snapshot import market_snapshot

runner = CliRunner()
root = typer.Typer()


@root.callback()
def _root() -> None:
    """Stands in for the `catalyst` root app (which assembles every group) in this module's tests."""


register(root)


@pytest.fixture(autouse=True)
def _default_phase2() -> Iterator[None]:
    yield
    set_phase2_date(None)


def test_snapshot_values_at_a_known_moment() -> None:
    snap = market_snapshot(datetime(2026, 2, 16, 11, 0, tzinfo=HK_TZ), ["0700", "2800"])
    assert snap.phase is Phase.MORNING and snap.accepts_new_orders
    assert snap.minutes_to_close == 60.0
    assert snap.next_open == datetime(2026, 2, 20, 9, 30, tzinfo=HK_TZ)
    assert [(ln.symbol, ln.board_lot, ln.tick, ln.lot_value) for ln in snap.lines] == [
        ("700", 100, D("0.5"), D("60000")),
        ("2800", 500, D("0.02"), D("13000")),
    ]


def test_the_cli_prints_phase_next_open_and_every_security() -> None:
    result = runner.invoke(root, ["market", "snapshot", "--at", "2026-11-24T15:30"])
    assert result.exit_code == 0, result.output
    assert "AFTERNOON" in result.output
    assert "next open   2026-11-25 09:30 HKT" in result.output
    assert "TENCENT" in result.output and "TRACKER FUND" in result.output
    assert len([ln for ln in result.output.splitlines() if ln[:1].isdigit()]) == 20


def test_the_cli_reads_an_offset_and_a_symbol_list() -> None:
    result = runner.invoke(
        root, ["market", "snapshot", "--at", "2026-02-16T04:05+00:00", "-s", "700,3988", "-s", "5"]
    )
    assert result.exit_code == 0, result.output
    assert "CLOSING_AUCTION" in result.output and "half day" in result.output
    assert [ln.split()[0] for ln in result.output.splitlines() if ln[:1].isdigit()] == ["700", "3988", "5"]


def test_the_cli_takes_the_phase2_date_from_settings() -> None:
    result = runner.invoke(
        root,
        ["market", "snapshot", "--at", "2026-11-24T10:00", "-s", "3988"],
        env={"CATALYST_CONFIG": "", "CATALYST_MARKET__PHASE2_DATE": "2026-12-07"},
    )
    assert result.exit_code == 0, result.output
    assert "Phase 1 (from 2025-08-04; Phase 2 expected 2026-12-07)" in result.output
    assert " 0.01 " in result.output.splitlines()[-3]  # 4.50 keeps the Phase 1 tick


def test_the_cli_rejects_an_unknown_symbol_with_a_clear_message() -> None:
    result = runner.invoke(root, ["market", "snapshot", "-s", "700.HK"])
    assert result.exit_code == 2
    assert "not an HKEX stock code" in result.output


def test_the_cli_rejects_a_malformed_time() -> None:
    result = runner.invoke(root, ["market", "snapshot", "--at", "tomorrow"])
    assert result.exit_code != 0
    assert "ISO date-time" in result.output


def test_the_installed_catalyst_command_prints_a_snapshot_and_exits_0() -> None:
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "catalyst"), "market", "snapshot", "-s", "700"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "HKEX market snapshot" in proc.stdout
