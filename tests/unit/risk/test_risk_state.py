"""The halt and the symbol locks are folded from risk events, so a restart sees the same state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from catalyst.risk.state import derive_risk_state

TRIP = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 11:00 HKT
NEXT_OPEN = datetime(2026, 11, 25, 1, 30, tzinfo=UTC)  # 09:30 HKT next day


def next_open(_: datetime) -> datetime:
    return NEXT_OPEN


def events(*rows: tuple[datetime, str, str | None, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["ts", "kind", "symbol", "message"])


def test_no_events_means_no_halt_and_no_locks() -> None:
    state = derive_risk_state(events(), TRIP, next_open)
    assert not state.halted and dict(state.locks) == {}


def test_a_trip_halts_until_the_next_session_opens() -> None:
    ev = events((TRIP, "breaker_tripped", None, "loss"))
    assert derive_risk_state(ev, TRIP + timedelta(hours=5), next_open).halted
    assert not derive_risk_state(ev, NEXT_OPEN, next_open).halted


def test_a_reset_after_the_trip_lifts_the_halt() -> None:
    ev = events(
        (TRIP, "breaker_tripped", None, "loss"), (TRIP + timedelta(minutes=5), "breaker_reset", None, "ok")
    )
    assert not derive_risk_state(ev, TRIP + timedelta(minutes=6), next_open).halted


def test_a_trip_after_a_reset_halts_again() -> None:
    ev = events(
        (TRIP, "breaker_reset", None, "ok"), (TRIP + timedelta(minutes=5), "breaker_tripped", None, "2nd")
    )
    state = derive_risk_state(ev, TRIP + timedelta(minutes=6), next_open)
    assert state.halted and state.halt_reason == "2nd" and state.halt_until == NEXT_OPEN


def test_a_lock_holds_until_an_unlock_of_that_symbol() -> None:
    ev = events(
        (TRIP, "symbol_locked", "700", "drift"),
        (TRIP, "symbol_locked", "5", "orphan"),
        (TRIP + timedelta(minutes=1), "symbol_unlocked", "5", "checked"),
    )
    assert dict(derive_risk_state(ev, TRIP + timedelta(minutes=2), next_open).locks) == {"700": "drift"}


def test_a_trip_in_the_pre_open_halts_the_whole_trading_day() -> None:
    from catalyst.market import HK_TZ
    from catalyst.risk.state import halt_expiry

    tripped = datetime(2026, 11, 24, 9, 10, tzinfo=HK_TZ)
    assert halt_expiry(tripped) == datetime(2026, 11, 25, 9, 30, tzinfo=HK_TZ)


def test_a_trip_on_a_friday_afternoon_halts_until_monday_open() -> None:
    from catalyst.market import HK_TZ
    from catalyst.risk.state import halt_expiry

    tripped = datetime(2026, 11, 27, 14, 0, tzinfo=HK_TZ)
    assert halt_expiry(tripped) == datetime(2026, 11, 30, 9, 30, tzinfo=HK_TZ)
