"""`catalyst risk status|reset|unlock` in the default settings (no broker.account): they act for the
one account the ledger knows, refuse to guess between several, and never use "" (issue 10)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from catalyst.cli.app import app
from catalyst.ledger import Ledger
from catalyst.risk.state import load_risk_state, lock_symbol, trip_breaker

ACC = "DU0000001"


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Ledger:
    monkeypatch.chdir(tmp_path)
    for name in ("CATALYST_CONFIG", "CATALYST_BROKER__ACCOUNT", "CATALYST_IB_ACCOUNT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CATALYST_MODE", "sim")
    monkeypatch.setenv("CATALYST_PATHS__LEDGER", str(tmp_path / "ledger.duckdb"))
    monkeypatch.setenv("CATALYST_PATHS__STATE_DIR", str(tmp_path / "state"))
    return Ledger(tmp_path / "ledger.duckdb")


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["risk", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_status_shows_the_halt_of_the_one_account_the_ledger_knows(ledger: Ledger) -> None:
    trip_breaker(ledger, account=ACC, message="day loss 2,823 HKD", ts=datetime.now(UTC))
    code, out = cli("status")
    assert code == 0
    assert f"account   {ACC}" in out and "HALTED" in out and "day loss 2,823 HKD" in out


def test_reset_and_unlock_act_for_the_one_account_the_ledger_knows(ledger: Ledger) -> None:
    now = datetime.now(UTC)
    trip_breaker(ledger, account=ACC, message="loss", ts=now)
    lock_symbol(ledger, account=ACC, symbol="700", message="drift", ts=now)
    assert cli("reset", "--reason", "checked the fills with the desk")[0] == 0
    assert cli("unlock", "700", "--reason", "position confirmed with IB")[0] == 0
    state = load_risk_state(ledger, ACC, datetime.now(UTC))
    assert not state.halted and dict(state.locks) == {}
    assert ledger.scalar("SELECT count(*) FROM risk_events WHERE account IS NULL OR account = ''") == 0


def test_several_accounts_are_refused_naming_them_and_the_option_chooses(ledger: Ledger) -> None:
    now = datetime.now(UTC)
    trip_breaker(ledger, account="DU0000001", message="loss one", ts=now)
    trip_breaker(ledger, account="DU0000002", message="loss two", ts=now)
    code, out = cli("status")
    assert code == 2 and "DU0000001, DU0000002" in out and "--account" in out
    code, out = cli("status", "--account", "DU0000002")
    assert code == 0 and "account   DU0000002" in out and "loss two" in out
    code, out = cli("reset", "--reason", "checked the fills")
    assert code == 2 and "DU0000001, DU0000002" in out
    assert load_risk_state(ledger, "DU0000001", datetime.now(UTC)).halted


def test_a_fresh_ledger_says_no_account_is_known_yet_and_reset_is_refused(ledger: Ledger) -> None:
    code, out = cli("status")
    assert code == 0 and "none yet" in out and "nothing is halted" in out
    code, out = cli("reset", "--reason", "checked the fills")
    assert code == 2 and "--account" in out
    assert ledger.scalar("SELECT count(*) FROM risk_events") == 0


def test_an_unreadable_ledger_is_named_without_a_traceback(ledger: Ledger, tmp_path: Path) -> None:
    bad = tmp_path / "garbage.duckdb"
    bad.write_bytes(b"this is not a database")
    runner = CliRunner()
    result = runner.invoke(app, ["risk", "status"], env={"CATALYST_PATHS__LEDGER": str(bad)})
    assert result.exit_code == 2 and str(bad) in result.output
    assert "Traceback" not in result.output
