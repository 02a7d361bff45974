"""`catalyst risk status|reset|unlock` read and write the halt and the locks in the ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from catalyst.cli.app import app
from catalyst.ledger import Ledger
from catalyst.risk.state import load_risk_state, lock_symbol, trip_breaker

ACC = "DU7654321"


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Ledger:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CATALYST_CONFIG", raising=False)
    monkeypatch.setenv("CATALYST_BROKER__ACCOUNT", ACC)
    monkeypatch.setenv("CATALYST_MODE", "paper")
    monkeypatch.setenv("CATALYST_PATHS__LEDGER", str(tmp_path / "ledger.duckdb"))
    monkeypatch.setenv("CATALYST_PATHS__STATE_DIR", str(tmp_path / "state"))
    return Ledger(tmp_path / "ledger.duckdb")


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["risk", *args])
    return result.exit_code, result.output


def test_status_shows_a_halt_and_the_locks(ledger: Ledger) -> None:
    now = datetime.now(UTC)
    trip_breaker(ledger, account=ACC, message="day loss 31,000 HKD", ts=now)
    lock_symbol(ledger, account=ACC, symbol="700", message="unexplained drift", ts=now)
    code, out = cli("status")
    assert code == 0 and "HALTED" in out and "day loss 31,000 HKD" in out and "700: unexplained drift" in out


def test_reset_with_a_reason_lifts_the_halt(ledger: Ledger) -> None:
    trip_breaker(ledger, account=ACC, message="loss", ts=datetime.now(UTC))
    code, out = cli("reset", "--reason", "checked the fills with the desk")
    assert code == 0 and "reset" in out
    assert not load_risk_state(ledger, ACC, datetime.now(UTC)).halted


def test_reset_without_a_reason_is_refused(ledger: Ledger) -> None:
    trip_breaker(ledger, account=ACC, message="loss", ts=datetime.now(UTC))
    code, _ = cli("reset")
    assert code != 0 and load_risk_state(ledger, ACC, datetime.now(UTC)).halted


def test_unlock_releases_one_symbol(ledger: Ledger) -> None:
    now = datetime.now(UTC)
    for symbol in ("700", "5"):
        lock_symbol(ledger, account=ACC, symbol=symbol, message="drift", ts=now)
    code, _ = cli("unlock", "700", "--reason", "position confirmed with IB statement")
    assert code == 0
    assert dict(load_risk_state(ledger, ACC, datetime.now(UTC)).locks) == {"5": "drift"}
