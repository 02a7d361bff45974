"""Secrets come from the environment only, are held as SecretStr and are listed for the redactor."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from catalyst.cli.app import app
from catalyst.config import load_settings

ENV = {
    "CATALYST_ALERT_URLS": "mailtos://alerts:s3cretPass@smtp.example.com?to=ops@example.com, "
    "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/987654",
    "CATALYST_SMTP_PASSWORD": "smtp-pw-4711",
    "CATALYST_IB_PASSWORD": "ib-pw-0815",
}
SECRETS = ["s3cretPass", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "smtp-pw-4711", "ib-pw-0815"]


def test_alert_urls_are_read_from_the_environment_as_secrets() -> None:
    settings = load_settings(environ=ENV)
    assert len(settings.alerts.urls) == 2
    assert "s3cretPass" not in repr(settings)
    assert settings.alert_urls()[0].startswith("mailtos://")


def test_secret_values_lists_every_secret_and_the_credentials_inside_urls() -> None:
    values = load_settings(environ=ENV).secret_values()
    for secret in SECRETS:
        assert secret in values
    assert any(v.startswith("tgram://") for v in values)


def test_password_variables_are_kept_as_named_secrets() -> None:
    settings = load_settings(environ=ENV)
    assert settings.secrets["smtp_password"].get_secret_value() == "smtp-pw-4711"


def test_config_show_never_prints_a_secret() -> None:
    result = CliRunner().invoke(app, ["config", "show"], env=ENV)
    assert result.exit_code == 0, result.output
    assert "***" in result.output
    for secret in SECRETS:
        assert secret not in result.output


def test_config_show_json_never_prints_a_secret_and_names_sources() -> None:
    result = CliRunner().invoke(
        app, ["config", "show", "--json"], env={**ENV, "CATALYST_RISK__MAX_POSITIONS": "4"}
    )
    assert result.exit_code == 0, result.output
    for secret in SECRETS:
        assert secret not in result.output
    data = json.loads(result.output)
    assert data["settings"]["risk"]["max_positions"] == 4
    assert data["sources"]["risk.max_positions"] == "env:CATALYST_RISK__MAX_POSITIONS"
    assert data["sources"]["mode"] == "default"


def test_config_check_exits_non_zero_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "catalyst.toml"
    path.write_text("[risk]\nmax_positions = 1000\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["config", "check", "--config", str(path)], env={})
    assert result.exit_code == 2
    assert "risk.max_positions" in result.output


def test_config_check_accepts_valid_settings(tmp_path: Path) -> None:
    path = tmp_path / "catalyst.toml"
    path.write_text('mode = "sim"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["config", "check", "--config", str(path)], env={})
    assert result.exit_code == 0
    assert "settings OK" in result.output
