"""The broker session's risk events alert a human: an unproven bracket (and what its failure path
flattened) as a critical alert, into the alert file when no channel is set, with the ledger saying it
was not delivered and why, and a line on the terminal."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from catalyst.ledger import Ledger
from catalyst.risk.alert_channels import AppriseChannels, ChannelOutcome
from catalyst.risk.alerts import Alerter, Severity, read_alert_file
from catalyst.risk.event_alerts import (
    MONITOR_SESSION_KINDS,
    RiskEventAlerts,
    alert_function,
    alert_severity,
    alert_title,
)


def unproven_event(intent: str = "it-1", symbol: str = "941", flattened: int = 3000) -> dict[str, Any]:
    return {
        "event_id": f"e-{intent}",
        "run_id": "20261124-100000-cycle-abcdef",
        "account": "DU0000001",
        "kind": "bracket_unproven",
        "severity": "critical",
        "symbol": symbol,
        "message": f"bracket {intent} not proven at the broker: stop, target missing",
        "detail": {
            "cancelled": 1,
            "entry_filled": flattened,
            "flattened": flattened,
            "flatten_ref": f"{intent}:FLAT",
        },
    }


def no_channel_alerter(tmp_path: Path, said: list[str], ledger: Ledger | None = None) -> Alerter:
    return Alerter(AppriseChannels([]), alert_file=tmp_path / "alerts.jsonl", ledger=ledger, say=said.append)


def test_an_unproven_bracket_goes_to_the_alert_file_as_critical_naming_what_was_flattened(
    tmp_path: Path,
) -> None:
    said: list[str] = []
    ledger = Ledger(tmp_path / "ledger.duckdb")
    hook = RiskEventAlerts(no_channel_alerter(tmp_path, said, ledger))
    hook(unproven_event())
    assert hook.close() == 0
    [line] = read_alert_file(tmp_path / "alerts.jsonl")
    assert line["severity"] == "critical"
    assert line["title"] == "Bracket NOT proven: 941 (DU0000001), flattened 3000"
    assert "it-1:FLAT" in line["body"] and "no alert channels configured" in line["failure"]
    row = ledger.query("SELECT delivered, failure FROM alerts").to_dict("records")
    assert len(row) == 1 and not row[0]["delivered"] and "CATALYST_ALERT_URLS is empty" in row[0]["failure"]
    assert len(said) == 1 and said[0].startswith("ALERT CRITICAL: Bracket NOT proven: 941")
    assert "alerts.jsonl" in said[0]


def test_a_failed_flatten_is_in_the_title() -> None:
    event = unproven_event()
    event["detail"] = {"flattened": 0, "flatten_error": "Timeout"}
    assert alert_title(event).endswith("FLATTEN FAILED")


def test_two_brackets_failing_are_two_alerts_and_a_repeat_is_one(tmp_path: Path) -> None:
    hook = RiskEventAlerts(no_channel_alerter(tmp_path, []))
    hook(unproven_event("it-1", "941"))
    hook(unproven_event("it-1", "941"))
    hook(unproven_event("it-2", "700"))
    hook.close()
    assert [a["title"].split(":")[1].split()[0] for a in read_alert_file(tmp_path / "alerts.jsonl")] == [
        "941",
        "700",
    ]


def test_severities_info_is_silent_warning_is_warning_exposure_kinds_are_critical() -> None:
    assert alert_severity({"kind": "symbol_unlocked", "severity": "info"}) is None
    assert alert_severity({"kind": "order_refused", "severity": "warning"}) is Severity.WARNING
    for kind in ("bracket_unproven", "flatten_unconfirmed", "naked_exit", "breaker_tripped"):
        assert alert_severity({"kind": kind, "severity": "warning"}) is Severity.CRITICAL, kind
    assert alert_severity({"kind": "new_kind", "severity": "weird"}) is Severity.WARNING


class Blocking:
    """A channel that delivers only once released: the hook must not wait for it."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.sent: list[str] = []

    def send(self, title: str, body: str, severity: str) -> list[ChannelOutcome]:
        assert self.release.wait(60), "never released"
        self.sent.append(title)
        return [ChannelOutcome("test://channel", True)]

    def __len__(self) -> int:
        return 1


def test_the_hook_returns_at_once_and_drain_waits_for_delivery(tmp_path: Path) -> None:
    """The hook runs on the broker's event loop; a slow channel must not stall it, and the process
    must not end before the alert is out."""
    channel = Blocking()
    hook = RiskEventAlerts(Alerter(channel, alert_file=tmp_path / "a.jsonl"))
    hook(unproven_event())  # would block for 60 s if delivered inline
    assert channel.sent == []
    channel.release.set()
    assert hook.close() == 0
    assert channel.sent == ["Bracket NOT proven: 941 (DU0000001), flattened 3000"]
    assert not (tmp_path / "a.jsonl").exists()


def test_the_reconciliation_alert_function_raises_alerts(tmp_path: Path) -> None:
    alert = alert_function(no_channel_alerter(tmp_path, []))
    alert("critical", "Reconciliation: orphan in 700 (DU1), 700 LOCKED", "body", "recon:DU1:700:orphan")
    assert read_alert_file(tmp_path / "alerts.jsonl")[0]["title"].endswith("700 LOCKED")


def test_a_delivered_alert_prints_no_undelivered_line(tmp_path: Path) -> None:
    said: list[str] = []
    channel = Blocking()
    channel.release.set()
    Alerter(channel, alert_file=tmp_path / "a.jsonl", say=said.append).alert(Severity.CRITICAL, "x")
    assert said == []


def test_the_monitor_session_alerts_the_events_the_monitor_does_not_alert_itself_once(tmp_path: Path) -> None:
    """A flatten the broker never acknowledged reaches a person; a repair failure the monitor
    alerts in its own words is not alerted a second time by its session."""
    said: list[str] = []
    hook = RiskEventAlerts(no_channel_alerter(tmp_path, said), only=MONITOR_SESSION_KINDS)
    unconfirmed = {**unproven_event(), "kind": "flatten_unconfirmed", "message": "flatten 941:FLAT not acked"}
    hook(unconfirmed)
    hook({**unproven_event(), "kind": "protection_unproven", "message": "protective orders not proven"})
    assert hook.close() == 0
    lines = read_alert_file(tmp_path / "alerts.jsonl")
    assert [line["severity"] for line in lines] == ["critical"]
    assert "flatten 941:FLAT not acked" in lines[0]["body"]
