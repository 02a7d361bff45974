"""The validated settings model: every knob of Catalyst, its default and its limits.

Read settings with :func:`catalyst.config.load_settings` (``settings_loader``), which layers
defaults < ``catalyst.toml`` < ``CATALYST_*`` environment variables and turns every problem into a
:class:`ConfigError` naming the key. Secrets (alert URLs, passwords, tokens) come from environment
variables only and are held as ``SecretStr``.

Ports: ``broker.port`` left unset follows the mode: ``sim`` uses ``sim.port`` (4002 by default, the
simulated gateway), ``paper`` uses 7497 (TWS paper) and ``live`` 7496 (TWS live). IB Gateway users
set ``broker.port`` explicitly (4002 paper, 4001 live).

Paths: relative paths are resolved against ``paths.root`` when set, else the folder holding the
``catalyst.toml`` in use, else the current working directory.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from catalyst.config.secret_parts import secret_parts
from catalyst.market import set_phase2_date, use_universe

Mode = Literal["sim", "paper", "live"]

LIVE_ACCOUNT = re.compile(r"^U\d{4,}$")
PAPER_ACCOUNT = re.compile(r"^DU\d{4,}$")

#: Default broker port per mode when ``broker.port`` is not set (sim follows ``sim.port``).
DEFAULT_PORTS: dict[str, int] = {"paper": 7497, "live": 7496}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class BrokerSettings(_Section):
    host: str = Field(default="127.0.0.1", min_length=1)
    #: unset: ``sim.port`` in sim mode, 7497 paper, 7496 live
    port: int | None = Field(default=None, ge=1, le=65535)
    client_id: int = Field(default=1, ge=0, le=32767)
    account: str = ""
    connect_timeout: float = Field(default=10.0, gt=0, le=300)
    request_timeout: float = Field(default=30.0, gt=0, le=600)
    readonly: bool = False
    #: The market data asked of IB at connect (reqMarketDataType): ``live`` (1), ``frozen`` (2: the
    #: last live quote outside hours), ``delayed`` (3: 15+ minutes late, where the account has no
    #: live subscription), ``delayed-frozen`` (4). IB serves live data wherever the account is entitled.
    market_data_type: Literal["live", "frozen", "delayed", "delayed-frozen"] = "live"


class RiskSettings(_Section):
    max_positions: int = Field(default=10, ge=0, le=100)
    max_risk_per_trade_pct: Decimal = Field(default=Decimal("1.0"), gt=0, le=10)
    max_notional_per_position_hkd: Decimal | None = Field(default=Decimal("500000"), gt=0, le=Decimal("1e9"))
    daily_loss_limit_hkd: Decimal | None = Field(default=None, gt=0, le=Decimal("1e9"))
    daily_loss_limit_pct: Decimal | None = Field(default=Decimal("3.0"), gt=0, le=50)
    allow_shorts: bool = False
    no_entry_minutes_before_close: int = Field(default=10, ge=0, le=180)
    missing_protection: Literal["recreate", "flatten"] = "recreate"
    commission_plan: Literal["fixed", "tiered"] = "fixed"
    #: How long a trading cycle waits for another trader of the same account (a cycle from another
    #: terminal, the schedule, a notebook run by hand) to finish deciding and sending before it is
    #: refused. Long enough for one cycle to prove its brackets (about 15 s each at worst), so a
    #: second cycle started moments after the first waits and then decides on the new positions.
    lease_wait_seconds: float = Field(default=90.0, ge=0, le=3600)

    @property
    def max_notional_per_position(self) -> Decimal | None:
        """The contract's name for ``max_notional_per_position_hkd``."""
        return self.max_notional_per_position_hkd


class AlertSettings(_Section):
    severity_threshold: Literal["info", "warning", "critical"] = "warning"
    dedup_window_seconds: int = Field(default=300, ge=0, le=86400)
    rate_limit_per_minute: int = Field(default=10, ge=1, le=1000)
    alert_file: Path = Path("state/alerts.jsonl")
    #: From the environment only (``CATALYST_ALERT_URLS``); a toml value is refused.
    urls: list[SecretStr] = Field(default_factory=list)


class PathSettings(_Section):
    root: Path | None = None
    state_dir: Path = Path("state")
    runs_dir: Path = Path("runs")
    ledger: Path = Path("state/ledger.duckdb")


UniverseKind = Literal["rmb_counter", "warrant", "cbbc", "debt", "other"]


class MarketSettings(_Section):
    phase2_date: dt.date = dt.date(2026, 8, 3)
    #: The trader's universe, written by `catalyst universe import FILE` from HKEX's List of
    #: Securities; while it does not exist the 20 securities shipped with Catalyst are the universe.
    universe_file: Path = Path("state/universe.json")
    #: Kinds let into the tradable set beyond equities, ETFs/ETPs and REITs.
    universe_include: list[UniverseKind] = Field(default_factory=list)
    #: A universe whose HKEX list is older than this is a warning in every cycle report.
    universe_max_age_days: int = Field(default=7, ge=1, le=366)


class ResearchSettings(_Section):
    #: Folders of the trader's own strategies (every ``*.py`` in them), relative to the project root.
    strategy_paths: list[Path] = Field(default_factory=lambda: [Path("strategies")])
    #: Importable modules of strategies (``mypkg.strategies``), besides the folders and entry points.
    strategy_modules: list[str] = Field(default_factory=list)
    #: A strategy's ``signals`` taking longer than this is an error (in the cycle and the backtest).
    strategy_timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    #: The strategy of `catalyst cycle` (and so of `catalyst schedule`) when ``-p strategy`` is not
    #: given; empty: the notebook's default, catalyst-momentum. ``cycle_strategy_params``: its overrides.
    cycle_strategy: str = ""
    cycle_strategy_params: dict[str, Any] = Field(default_factory=dict)


class SimSettings(_Section):
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=4002, ge=1, le=65535)
    seed: int = Field(default=7, ge=0)
    speed: float = Field(default=1.0, gt=0, le=100000)


class GoLiveSettings(_Section):
    paper_days: int = Field(default=10, ge=1, le=365)


class Settings(BaseSettings):
    """Effective settings. Build with ``load_settings()``; ``Settings()`` alone is the defaults."""

    model_config = SettingsConfigDict(extra="forbid", validate_assignment=False, frozen=False)

    mode: Mode = "sim"
    broker: BrokerSettings = Field(default_factory=BrokerSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    paths: PathSettings = Field(default_factory=PathSettings)
    market: MarketSettings = Field(default_factory=MarketSettings)
    sim: SimSettings = Field(default_factory=SimSettings)
    research: ResearchSettings = Field(default_factory=ResearchSettings)
    golive: GoLiveSettings = Field(default_factory=GoLiveSettings)
    #: Other secrets found in the environment (``CATALYST_SMTP_PASSWORD`` -> ``smtp_password``).
    secrets: dict[str, SecretStr] = Field(default_factory=dict)

    _sources: dict[str, str] = PrivateAttr(default_factory=dict)
    _config_file: Path | None = PrivateAttr(default=None)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings() reads the toml and the environment itself so it can name the source
        # of every value and refuse unknown keys; the model only validates what it is given.
        return (init_settings,)

    @model_validator(mode="after")
    def _check_mode(self) -> Settings:
        account = self.broker.account
        if self.mode == "live":
            if not LIVE_ACCOUNT.match(account):
                shown = repr(account) if account else "empty"
                raise ValueError(
                    f"broker.account: live mode needs a live account id (U followed by digits); got {shown}. "
                    "Set CATALYST_IB_ACCOUNT, or use mode 'paper' with a DU account"
                )
        elif self.mode == "paper" and account and not PAPER_ACCOUNT.match(account):
            raise ValueError(
                "broker.account: paper mode needs a paper account id (DU followed by digits); "
                f"got {account!r}"
            )
        return self

    # -- derived values --------------------------------------------------------------------------

    @property
    def broker_port(self) -> int:
        """The port to connect to: ``broker.port`` if set, else the mode's default."""
        if self.broker.port is not None:
            return self.broker.port
        return self.sim.port if self.mode == "sim" else DEFAULT_PORTS[self.mode]

    @property
    def root(self) -> Path:
        if self.paths.root is not None:
            return self.paths.root
        if self._config_file is not None:
            return self._config_file.parent
        return Path.cwd()

    def resolve(self, path: Path) -> Path:
        """``path`` made absolute against the project root (see the module docstring)."""
        path = path.expanduser()
        return path if path.is_absolute() else (self.root / path).resolve()

    @property
    def state_dir(self) -> Path:
        return self.resolve(self.paths.state_dir)

    @property
    def runs_dir(self) -> Path:
        return self.resolve(self.paths.runs_dir)

    @property
    def ledger_path(self) -> Path:
        return self.resolve(self.paths.ledger)

    @property
    def alert_file(self) -> Path:
        return self.resolve(self.alerts.alert_file)

    @property
    def config_file(self) -> Path | None:
        """The toml file these settings were read from, if any."""
        return self._config_file

    @property
    def sources(self) -> dict[str, str]:
        """Where each non-default value came from: ``{"risk.max_positions": "toml:/path"}``."""
        return dict(self._sources)

    def source_of(self, key: str) -> str:
        return self._sources.get(key, "default")

    @property
    def universe_file(self) -> Path:
        return self.resolve(self.market.universe_file)

    def apply_market_rules(self) -> None:
        """Make ``catalyst.market`` use these settings (Phase 2 date, the active universe)."""
        set_phase2_date(self.market.phase2_date)
        use_universe(
            self.universe_file,
            include=self.market.universe_include,
            max_age_days=self.market.universe_max_age_days,
        )

    def alert_urls(self) -> list[str]:
        return [u.get_secret_value() for u in self.alerts.urls]

    def secret_values(self) -> list[str]:
        """Every secret value present, and the credential parts of secret URLs, for the log redactor."""
        found: list[str] = []
        for value in [*self.alert_urls(), *(s.get_secret_value() for s in self.secrets.values())]:
            found.extend(secret_parts(value))
        unique = sorted({v for v in found if v}, key=lambda v: (-len(v), v))
        return unique

    def redacted(self) -> dict[str, Any]:
        """The settings as plain data with every secret replaced by ``***`` (for display)."""
        data = self.model_dump(mode="json")
        data["alerts"]["urls"] = ["***" for _ in self.alerts.urls]
        data["secrets"] = {k: "***" for k in self.secrets}
        data["broker"]["effective_port"] = self.broker_port
        return data
