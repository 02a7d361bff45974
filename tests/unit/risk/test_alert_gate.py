"""Layer 4 policy: severity threshold, deduplication window and rate limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from catalyst.risk.alerts import Alert, AlertGate, AlertPolicy, Severity, Verdict
from catalyst.risk.errors import AlertConfigError

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def a(title: str = "x", severity: Severity = Severity.WARNING, key: str = "") -> Alert:
    return Alert(severity=severity, title=title, dedup_key=key)


def test_the_same_key_within_the_window_is_sent_once() -> None:
    gate = AlertGate(AlertPolicy(dedup_window=timedelta(minutes=10)))
    assert gate.decide(a(key="k"), T0) is Verdict.SEND
    assert gate.decide(a(key="k"), T0 + timedelta(minutes=9)) is Verdict.DUPLICATE
    assert gate.decide(a(key="k"), T0 + timedelta(minutes=10)) is Verdict.SEND


def test_different_keys_are_not_duplicates() -> None:
    gate = AlertGate(AlertPolicy())
    assert [gate.decide(a(key=k), T0) for k in "ab"] == [Verdict.SEND, Verdict.SEND]


def test_alerts_beyond_the_rate_limit_are_held_back() -> None:
    gate = AlertGate(AlertPolicy(rate_limit=2, rate_window=timedelta(minutes=1)))
    verdicts = [gate.decide(a(title=str(i)), T0) for i in range(3)]
    assert verdicts == [Verdict.SEND, Verdict.SEND, Verdict.RATE_LIMITED]
    assert gate.decide(a(title="later"), T0 + timedelta(minutes=1)) is Verdict.SEND


def test_critical_alerts_are_never_rate_limited() -> None:
    gate = AlertGate(AlertPolicy(rate_limit=1))
    gate.decide(a(title="1"), T0)
    assert gate.decide(a(title="2", severity=Severity.CRITICAL), T0) is Verdict.SEND


def test_alerts_below_the_threshold_are_not_sent() -> None:
    gate = AlertGate(AlertPolicy(min_severity=Severity.WARNING))
    assert gate.decide(a(severity=Severity.INFO), T0) is Verdict.BELOW_THRESHOLD


def test_an_unknown_severity_is_refused() -> None:
    with pytest.raises(AlertConfigError, match="severity"):
        Severity.parse("loud")


def test_a_rate_limit_below_one_is_refused() -> None:
    with pytest.raises(AlertConfigError, match="rate limit"):
        AlertPolicy(rate_limit=0)
