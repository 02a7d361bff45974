"""Bad settings fail loudly, and the error names the key a trader has to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalyst.config import ConfigError, load_settings


def load_toml(tmp_path: Path, text: str) -> None:
    path = tmp_path / "catalyst.toml"
    path.write_text(text, encoding="utf-8")
    load_settings(path, environ={})


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[risk]\nmax_positions = 500\n", "risk.max_positions"),
        ("[risk]\nmax_positions = -1\n", "risk.max_positions"),
        ('[risk]\nmax_positions = "ten"\n', "risk.max_positions"),
        ("[risk]\nmax_risk_per_trade_pct = 25\n", "risk.max_risk_per_trade_pct"),
        ("[risk]\nmax_risk_per_trade_pct = 0\n", "risk.max_risk_per_trade_pct"),
        ("[risk]\ndaily_loss_limit_hkd = -100\n", "risk.daily_loss_limit_hkd"),
        ("[risk]\ndaily_loss_limit_pct = 80\n", "risk.daily_loss_limit_pct"),
        ('[risk]\nmissing_protection = "ignore"\n', "risk.missing_protection"),
        ("[broker]\nport = 70000\n", "broker.port"),
        ('[broker]\nconnect_timeout = "soon"\n', "broker.connect_timeout"),
        ('mode = "production"\n', "mode"),
        ("[golive]\npaper_days = 0\n", "golive.paper_days"),
        ("[sim]\nspeed = -2\n", "sim.speed"),
        ('[market]\nphase2_date = "someday"\n', "market.phase2_date"),
    ],
)
def test_a_wrong_type_or_an_absurd_value_names_the_key(tmp_path: Path, toml: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_toml(tmp_path, toml)
    assert key in str(caught.value)
    assert key in caught.value.keys


def test_an_unknown_toml_key_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"risk\.max_position\b.*unknown setting"):
        load_toml(tmp_path, "[risk]\nmax_position = 5\n")


def test_an_unknown_toml_section_names_the_section(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="riks"):
        load_toml(tmp_path, "[riks]\nmax_positions = 5\n")


def test_an_unknown_key_in_the_environment_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"risk\.max_position\b"):
        load_settings(environ={"CATALYST_RISK__MAX_POSITION": "5"})


def test_an_unknown_section_in_the_environment_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="CATALYST_RISKS__MAX_POSITIONS"):
        load_settings(environ={"CATALYST_RISKS__MAX_POSITIONS": "5"})


def test_an_unknown_catalyst_variable_is_refused() -> None:
    with pytest.raises(ConfigError, match="CATALYST_MOOD"):
        load_settings(environ={"CATALYST_MOOD": "live"})


def test_a_wrong_type_in_the_environment_names_the_key_and_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"broker\.port.*CATALYST_IB_PORT"):
        load_settings(environ={"CATALYST_IB_PORT": "seven"})


def test_live_mode_without_an_account_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"broker\.account.*live account"):
        load_settings(environ={"CATALYST_MODE": "live"})


def test_live_mode_with_a_paper_account_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"broker\.account.*'DU1234567'"):
        load_settings(environ={"CATALYST_MODE": "live", "CATALYST_IB_ACCOUNT": "DU1234567"})


def test_paper_mode_with_a_live_account_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"broker\.account.*paper account"):
        load_settings(environ={"CATALYST_MODE": "paper", "CATALYST_IB_ACCOUNT": "U1234567"})


def test_live_mode_with_a_live_account_is_accepted() -> None:
    assert load_settings(environ={"CATALYST_MODE": "live", "CATALYST_IB_ACCOUNT": "U1234567"}).mode == "live"


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[alerts]\nurls = ["discord://id/token"]\n', "alerts.urls"),
        ('[broker]\npassword = "hunter22"\n', "broker.password"),
        ('[alerts]\nsmtp_token = "abc"\n', "alerts.smtp_token"),
        ('[broker]\nhost = "https://u:p@example.com"\n', "broker.host"),
    ],
)
def test_a_secret_in_the_toml_is_refused_naming_the_key(tmp_path: Path, toml: str, key: str) -> None:
    with pytest.raises(ConfigError, match="environment variables only") as caught:
        load_toml(tmp_path, toml)
    assert key in str(caught.value)


def test_the_secret_itself_is_not_repeated_in_the_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_toml(tmp_path, '[broker]\npassword = "hunter22"\n')
    assert "hunter22" not in str(caught.value)


def test_invalid_toml_syntax_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_toml(tmp_path, "[risk\nmax_positions = 5\n")
