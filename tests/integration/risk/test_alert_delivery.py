"""Layer 4 over real sockets: alerts reach a local SMTP server and HTTP receiver; with both down,
the alert file has them and the failure is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
from risk_alert_receivers import HttpReceiver, SmtpReceiver

from catalyst.risk.alert_channels import AppriseChannels, channel_label, channel_urls_from_env
from catalyst.risk.alerts import Alerter, Severity, read_alert_file
from catalyst.risk.errors import AlertConfigError


def test_an_alert_arrives_at_the_smtp_server_and_the_http_receiver(
    smtp_receiver: SmtpReceiver, http_receiver: HttpReceiver, tmp_path: Path
) -> None:
    alerter = Alerter(
        AppriseChannels([smtp_receiver.url, http_receiver.url], min_interval=0),
        alert_file=tmp_path / "alerts.jsonl",
    )
    outcome = alerter.alert(Severity.CRITICAL, "Breaker tripped", "day loss 31,000 HKD")
    assert outcome.delivered and all(o.delivered for o in outcome.channels)
    assert len(smtp_receiver.messages) == 1 and "Breaker tripped" in smtp_receiver.bodies()[0]
    assert smtp_receiver.messages[0].rcpt_tos == ["trader@localhost"]
    assert [p["title"] for p in http_receiver.posts] == ["Breaker tripped"]
    assert "day loss 31,000 HKD" in http_receiver.posts[0]["message"]
    assert not (tmp_path / "alerts.jsonl").exists()


def test_with_every_channel_down_the_alert_file_has_the_alerts(
    smtp_receiver: SmtpReceiver, http_receiver: HttpReceiver, tmp_path: Path
) -> None:
    smtp_receiver.stop()
    http_receiver.stop()
    alerter = Alerter(
        AppriseChannels([smtp_receiver.url, http_receiver.url], min_interval=0),
        alert_file=tmp_path / "alerts.jsonl",
    )
    first = alerter.alert(Severity.CRITICAL, "Unprotected 700", "stop missing", dedup_key="a")
    alerter.alert(Severity.WARNING, "Gateway down", "for 120 s", dedup_key="b")
    lines = read_alert_file(tmp_path / "alerts.jsonl")
    assert [line["title"] for line in lines] == ["Unprotected 700", "Gateway down"]
    assert not first.delivered and first.to_file
    assert "mailto://127.0.0.1" in first.failure and "json://127.0.0.1" in first.failure


def test_one_channel_down_still_delivers_through_the_other(
    smtp_receiver: SmtpReceiver, http_receiver: HttpReceiver, tmp_path: Path
) -> None:
    smtp_receiver.stop()
    alerter = Alerter(
        AppriseChannels([smtp_receiver.url, http_receiver.url], min_interval=0),
        alert_file=tmp_path / "alerts.jsonl",
    )
    outcome = alerter.alert(Severity.WARNING, "Drift in 5")
    assert outcome.delivered and len(http_receiver.posts) == 1
    assert outcome.failure.startswith("mailto://127.0.0.1")
    assert not (tmp_path / "alerts.jsonl").exists()


def test_a_repeat_within_the_dedup_window_is_not_sent_again(
    http_receiver: HttpReceiver, tmp_path: Path
) -> None:
    alerter = Alerter(AppriseChannels([http_receiver.url], min_interval=0), alert_file=tmp_path / "a.jsonl")
    alerter.alert(Severity.WARNING, "Gateway down", dedup_key="gw")
    alerter.alert(Severity.WARNING, "Gateway down", dedup_key="gw")
    assert len(http_receiver.posts) == 1


def test_no_channels_configured_sends_everything_to_the_alert_file(tmp_path: Path) -> None:
    alerter = Alerter(AppriseChannels([]), alert_file=tmp_path / "a.jsonl")
    outcome = alerter.alert(Severity.INFO, "hello")
    assert "no alert channels configured" in outcome.failure
    assert read_alert_file(tmp_path / "a.jsonl")[0]["title"] == "hello"


def test_urls_come_from_the_environment_separated_by_space_or_semicolon() -> None:
    env = {"CATALYST_ALERT_URLS": "json://a/ ; mailto://u:p@h?to=x@y,z@w  ntfy://topic"}
    assert channel_urls_from_env(env) == ["json://a/", "mailto://u:p@h?to=x@y,z@w", "ntfy://topic"]


def test_a_channel_is_named_without_its_credentials() -> None:
    assert channel_label("tgram://123456:SECRETTOKEN@chat/") == "tgram://chat"
    assert "secret" not in channel_label("mailto://user:secret@mail.example.com:25")


def test_a_url_apprise_cannot_use_is_refused_without_echoing_it() -> None:
    with pytest.raises(AlertConfigError) as err:
        AppriseChannels(["nosuchscheme://user:hunter2@host/"])
    assert "hunter2" not in str(err.value)


def test_an_undelivered_alert_is_recorded_in_the_ledger_with_its_failure(tmp_path: Path) -> None:
    from catalyst.ledger import Ledger

    ledger = Ledger(tmp_path / "ledger.duckdb")
    dead = "json://127.0.0.1:9/"  # discard port: nothing listens
    alerter = Alerter(AppriseChannels([dead], min_interval=0), alert_file=tmp_path / "a.jsonl", ledger=ledger)
    alerter.alert(Severity.CRITICAL, "Flatten failed", "700 still open")
    row = ledger.query("SELECT severity, title, delivered, failure FROM alerts").iloc[0]
    assert (row["severity"], row["title"], bool(row["delivered"])) == ("critical", "Flatten failed", False)
    assert "json://127.0.0.1:9" in row["failure"]
