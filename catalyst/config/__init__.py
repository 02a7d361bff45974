"""Settings: ``catalyst.toml`` plus ``CATALYST_*`` environment variables, validated.

``load_settings()`` is the one entry point; see ``settings_loader`` for where values come from and
``settings`` for every key, its default and its limits (``catalyst.example.toml`` documents them).
"""

from catalyst.config.errors import ConfigError
from catalyst.config.settings import (
    AlertSettings,
    BrokerSettings,
    GoLiveSettings,
    MarketSettings,
    PathSettings,
    RiskSettings,
    Settings,
    SimSettings,
)
from catalyst.config.settings_loader import load_settings

__all__ = [
    "AlertSettings",
    "BrokerSettings",
    "ConfigError",
    "GoLiveSettings",
    "MarketSettings",
    "PathSettings",
    "RiskSettings",
    "Settings",
    "SimSettings",
    "load_settings",
]
