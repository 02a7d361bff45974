"""Risk state belongs to one broker account: nothing is read or written under an empty one
(issue 10, finding 1: a trip recorded under "" never stopped a cycle reading under DU...)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from catalyst.ledger import Ledger
from catalyst.risk.errors import AccountUnknownError
from catalyst.risk.state import (
    load_risk_state,
    lock_symbol,
    record_risk_event,
    reset_breaker,
    trip_breaker,
    unlock_symbol,
)

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.duckdb")


@pytest.mark.parametrize("account", ["", "   "])
def test_reading_risk_state_without_an_account_is_refused(ledger: Ledger, account: str) -> None:
    with pytest.raises(AccountUnknownError, match=r"without an account.*BrokerSession.account"):
        load_risk_state(ledger, account, NOW)


@pytest.mark.parametrize(
    "write",
    [
        lambda lg: trip_breaker(lg, account="", message="loss", ts=NOW),
        lambda lg: reset_breaker(lg, account="", reason="checked with the desk", ts=NOW),
        lambda lg: lock_symbol(lg, account="", symbol="700", message="drift", ts=NOW),
        lambda lg: unlock_symbol(lg, account="", symbol="700", reason="checked with IB", ts=NOW),
        lambda lg: record_risk_event(
            lg, kind="protection_recreated", severity="warning", message="x", account="", ts=NOW
        ),
    ],
)
def test_writing_a_risk_event_without_an_account_is_refused_and_writes_nothing(
    ledger: Ledger, write: object
) -> None:
    with pytest.raises(AccountUnknownError):
        write(ledger)  # type: ignore[operator]
    assert ledger.scalar("SELECT count(*) FROM risk_events") == 0


def test_a_trip_is_seen_by_its_own_account_only(ledger: Ledger) -> None:
    trip_breaker(ledger, account="DU0000001", message="day loss", ts=NOW)
    assert load_risk_state(ledger, "DU0000001", NOW).halted
    assert not load_risk_state(ledger, "DU0000002", NOW).halted
    assert list(ledger.query("SELECT account FROM risk_events")["account"]) == ["DU0000001"]


def test_a_reset_lifts_a_trip_stamped_on_a_broker_clock_ahead_of_the_wall_clock(ledger: Ledger) -> None:
    """The simulator's clock can run a day ahead: the trip is stamped tomorrow (broker time), the
    person's reset today (wall time); the reset still follows the trip and lifts the halt."""
    tomorrow = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)
    trip_breaker(ledger, account="DU0000001", message="day loss", ts=tomorrow)
    assert load_risk_state(ledger, "DU0000001", tomorrow).halted
    reset_breaker(ledger, account="DU0000001", reason="checked the fills", ts=NOW)
    assert not load_risk_state(ledger, "DU0000001", tomorrow).halted
    lock_symbol(ledger, account="DU0000001", symbol="700", message="drift", ts=tomorrow)
    unlock_symbol(ledger, account="DU0000001", symbol="700", reason="checked with IB", ts=NOW)
    assert not load_risk_state(ledger, "DU0000001", tomorrow).locks


def test_a_reset_on_the_same_clock_keeps_its_own_time(ledger: Ledger) -> None:
    trip_breaker(ledger, account="DU0000001", message="day loss", ts=NOW)
    later = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)
    reset_breaker(ledger, account="DU0000001", reason="checked the fills", ts=later)
    stamped = ledger.scalar("SELECT max(ts) FROM risk_events WHERE kind = 'breaker_reset'")
    assert stamped.astimezone(UTC) == later
