"""Findings acted on only once they last: the exit grace (naked exits) and the breach grace, and the
moment the monitor must wake for them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from catalyst.risk.errors import RiskInputError
from catalyst.risk.position_monitor import BreachTracker, GraceTracker, LevelBreach

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def test_a_finding_is_due_once_it_has_lasted_the_grace() -> None:
    tracker = GraceTracker(timedelta(seconds=2))
    assert tracker.due(["naked:700"], T0) == set()
    assert tracker.next_due() == T0 + timedelta(seconds=2)
    assert tracker.due(["naked:700"], T0 + timedelta(seconds=1.9)) == set()
    assert tracker.due(["naked:700"], T0 + timedelta(seconds=2)) == {"naked:700"}


def test_a_finding_that_goes_away_starts_again() -> None:
    tracker = GraceTracker(timedelta(seconds=2))
    tracker.due(["naked:700"], T0)
    tracker.due([], T0 + timedelta(seconds=1))  # the OCA cancel of the other leg arrived
    assert tracker.next_due() is None
    assert tracker.due(["naked:700"], T0 + timedelta(seconds=3)) == set()


def test_zero_grace_acts_at_once_and_a_negative_one_is_refused() -> None:
    assert GraceTracker(timedelta(0)).due(["x"], T0) == {"x"}
    with pytest.raises(RiskInputError):
        GraceTracker(timedelta(seconds=-1))


def test_the_breach_tracker_says_when_its_earliest_breach_becomes_due() -> None:
    tracker = BreachTracker(timedelta(seconds=2))
    assert tracker.next_due() is None
    breach = LevelBreach("700", 100, "stop", Decimal("380"), Decimal("379"))
    tracker.due([breach], T0)
    assert tracker.next_due() == T0 + timedelta(seconds=2)
