"""The four risk layers: pre-trade checks (1), the position monitor (2), the daily circuit
breaker (3) and alerts (4), plus the halt and symbol locks they share through the ledger.

Pure judgements live in ``pretrade``, ``position_monitor`` and ``circuit_breaker``; the I/O edges
in ``pretrade_inputs``, ``risk_state``, ``alerts`` and ``monitor_daemon`` (`catalyst monitor`).
"""

from catalyst.risk.alerts import Alert, Alerter, AlertPolicy, Severity, alerter_from_settings
from catalyst.risk.errors import (
    AlertConfigError,
    MonitorAlreadyRunningError,
    RiskCommandError,
    RiskError,
    RiskInputError,
    TradingHaltedError,
)
from catalyst.risk.limits import RiskLimits
from catalyst.risk.pretrade import (
    AccountView,
    PreTradeContext,
    PreTradeResult,
    Rejection,
    RejectReason,
    pre_trade,
    record_rejections,
)
from catalyst.risk.pretrade_inputs import pretrade_context
from catalyst.risk.state import RiskState, load_risk_state

__all__ = [
    "AccountView",
    "Alert",
    "AlertConfigError",
    "AlertPolicy",
    "Alerter",
    "MonitorAlreadyRunningError",
    "PreTradeContext",
    "PreTradeResult",
    "RejectReason",
    "Rejection",
    "RiskCommandError",
    "RiskError",
    "RiskInputError",
    "RiskLimits",
    "RiskState",
    "Severity",
    "TradingHaltedError",
    "alerter_from_settings",
    "load_risk_state",
    "pre_trade",
    "pretrade_context",
    "record_rejections",
]
