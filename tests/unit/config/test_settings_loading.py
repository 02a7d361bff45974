"""Settings come from defaults, catalyst.toml and CATALYST_* variables, in that order of precedence."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest

from catalyst.config import ConfigError, Settings, load_settings
from catalyst.config.settings_loader import ENV_ALIASES
from catalyst.market import phase2_date, set_phase2_date

ROOT = Path(__file__).resolve().parents[3]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalyst.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_without_a_file_or_environment_the_defaults_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert (settings.mode, settings.risk.max_positions, settings.golive.paper_days) == ("sim", 10, 10)
    assert settings.config_file is None


def test_the_committed_example_file_is_valid_and_equals_the_defaults() -> None:
    settings = load_settings(ROOT / "catalyst.example.toml", environ={})
    assert settings.model_dump() == Settings().model_dump()


def test_toml_values_override_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "[risk]\nmax_positions = 4\n"), environ={})
    assert settings.risk.max_positions == 4
    assert settings.source_of("risk.max_positions").startswith("toml:")


def test_environment_overrides_the_toml(tmp_path: Path) -> None:
    path = write(tmp_path, "[risk]\nmax_positions = 4\n")
    settings = load_settings(path, environ={"CATALYST_RISK__MAX_POSITIONS": "6"})
    assert settings.risk.max_positions == 6
    assert settings.source_of("risk.max_positions") == "env:CATALYST_RISK__MAX_POSITIONS"


def test_catalyst_config_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'mode = "paper"\n')
    assert load_settings(environ={"CATALYST_CONFIG": str(path)}).mode == "paper"


def test_a_missing_file_named_by_catalyst_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(environ={"CATALYST_CONFIG": str(tmp_path / "nope.toml")})


def test_the_short_ib_aliases_set_the_broker_section() -> None:
    settings = load_settings(
        environ={
            "CATALYST_IB_HOST": "10.0.0.2",
            "CATALYST_IB_PORT": "4001",
            "CATALYST_IB_ACCOUNT": "DU123456",
        }
    )
    assert (settings.broker.host, settings.broker.port, settings.broker.account) == (
        "10.0.0.2",
        4001,
        "DU123456",
    )


def test_sim_mode_connects_to_the_simulator_port_by_default() -> None:
    settings = load_settings(environ={"CATALYST_SIM__PORT": "4100"})
    assert settings.broker_port == 4100


@pytest.mark.parametrize(
    ("mode", "account", "port"), [("paper", "DU1234567", 7497), ("live", "U1234567", 7496)]
)
def test_paper_and_live_default_to_the_tws_ports(mode: str, account: str, port: int) -> None:
    settings = load_settings(environ={"CATALYST_MODE": mode, "CATALYST_IB_ACCOUNT": account})
    assert settings.broker_port == port


def test_an_explicit_broker_port_wins_in_every_mode() -> None:
    assert (
        load_settings(environ={"CATALYST_BROKER__PORT": "4002", "CATALYST_MODE": "paper"}).broker_port == 4002
    )


def test_percentages_are_exact_decimals(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "[risk]\nmax_risk_per_trade_pct = 0.1\n"), environ={})
    assert settings.risk.max_risk_per_trade_pct == Decimal("0.1")


def test_the_contract_name_for_the_notional_limit_reads_the_hkd_setting() -> None:
    settings = load_settings(environ={"CATALYST_RISK__MAX_NOTIONAL_PER_POSITION_HKD": "250000"})
    assert settings.risk.max_notional_per_position == Decimal("250000")


def test_none_in_the_environment_disables_an_optional_limit() -> None:
    assert (
        load_settings(environ={"CATALYST_RISK__DAILY_LOSS_LIMIT_PCT": "none"}).risk.daily_loss_limit_pct
        is None
    )


def test_relative_paths_resolve_against_the_folder_of_the_settings_file(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, '[paths]\nledger = "db/ledger.duckdb"\n'), environ={})
    assert settings.ledger_path == tmp_path.resolve() / "db" / "ledger.duckdb"


def test_paths_root_overrides_where_relative_paths_resolve(tmp_path: Path) -> None:
    settings = load_settings(environ={"CATALYST_PATHS__ROOT": str(tmp_path)})
    assert settings.state_dir == tmp_path / "state"
    assert settings.runs_dir == tmp_path / "runs"


def test_without_a_file_relative_paths_resolve_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings(environ={}).ledger_path == tmp_path.resolve() / "state" / "ledger.duckdb"


def test_run_bookkeeping_variables_are_not_mistaken_for_settings() -> None:
    settings = load_settings(environ={"CATALYST_RUN_ID": "r1", "CATALYST_RUN_DIR": "/tmp/x"})
    assert settings.mode == "sim"


def test_applying_the_settings_moves_the_phase2_date_of_the_market_rules() -> None:
    settings = load_settings(environ={"CATALYST_MARKET__PHASE2_DATE": "2027-01-04"})
    try:
        settings.apply_market_rules()
        assert phase2_date() == dt.date(2027, 1, 4)
    finally:
        set_phase2_date(None)


def _switches_read_outside_the_settings() -> set[str]:
    """Every CATALYST_ variable that CI exports or that code reads straight from the environment."""
    found: set[str] = set()
    exported = re.compile(r"\bexport (CATALYST_[A-Z0-9_]+)=")
    read = re.compile(r"""(?:environ\.get\(|environ\[|getenv\(|_ENV = )["'](CATALYST_[A-Z0-9_]+)["']""")
    for path in [ROOT / ".ci" / "run", ROOT / "Makefile"]:
        found |= set(exported.findall(path.read_text(encoding="utf-8")))
    for folder in ("catalyst", "tests", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(read.findall(path.read_text(encoding="utf-8")))
    return {
        name for name in found if "__" not in name and name not in ENV_ALIASES and name != "CATALYST_CONFIG"
    }


def test_every_switch_ci_or_the_code_sets_is_accepted_by_every_command() -> None:
    """CI once exported CATALYST_REQUIRE_CLIENTS, which every command then refused as a misspelt
    setting: 40 tests failed on a clean checkout."""
    switches = _switches_read_outside_the_settings()
    assert {"CATALYST_REQUIRE_CLIENTS", "CATALYST_LEDGER_SYNC_APPENDS", "CATALYST_CHAOS_SEED"} <= switches
    for name in sorted(switches):
        load_settings(environ={name: "1"})  # no ConfigError
