"""The value a trading cycle returns and its notebook shows: every stage's outcome as tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from catalyst.cycle.outcome import CycleOutcome, cycle_outcome
from catalyst.market import active_universe, to_hk

SENT_COLUMNS = ["intent_id", "symbol", "side", "quantity", "entry", "stop", "target", "outcome", "detail"]
LEG_COLUMNS = [
    "intent_id",
    "role",
    "order_ref",
    "perm_id",
    "side",
    "order_type",
    "quantity",
    "limit_price",
    "stop_price",
    "status",
    "acknowledged_at",
]
REFUSED_COLUMNS = ["stage", "intent_id", "symbol", "side", "code", "reason"]
CANDIDATE_COLUMNS = ["symbol", "side", "entry", "stop", "target", "score", "reason"]


def market_data_note(data_type: str) -> str:
    """The report's line on the market data the cycle decided on (``broker.market_data_type``); short
    enough for a table cell: delayed data is 15+ minutes old where the account has no live HKEX
    subscription."""
    if data_type in ("delayed", "delayed-frozen"):
        return f"{data_type.upper()}: 15+ min old unless subscribed"
    return data_type


def empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


@dataclass(frozen=True)
class CycleReport:
    """What one cycle decided, sent, had confirmed and had refused (and why)."""

    run_id: str
    mode: str
    account: str
    server_time: datetime
    phase: str
    accepts_orders: bool
    status: str  # sent | nothing_to_send | market_closed | blocked | dry_run
    message: str
    #: the daily circuit breaker was tripped when the cycle decided (no new entries)
    halted: bool = False
    #: ``broker.market_data_type`` the cycle's session asked IB for (live, frozen, delayed, delayed-frozen)
    market_data: str = "live"
    strategy: dict[str, Any] = field(default_factory=dict)
    limits: dict[str, Any] = field(default_factory=dict)
    reconciliation: dict[str, Any] = field(default_factory=dict)
    bars_loaded: int = 0
    candidates: pd.DataFrame = field(default_factory=lambda: empty(CANDIDATE_COLUMNS))
    verdicts: pd.DataFrame = field(default_factory=pd.DataFrame)
    sent: pd.DataFrame = field(default_factory=lambda: empty(SENT_COLUMNS))
    legs: pd.DataFrame = field(default_factory=lambda: empty(LEG_COLUMNS))
    refused: pd.DataFrame = field(default_factory=lambda: empty(REFUSED_COLUMNS))
    positions_after: pd.DataFrame = field(default_factory=pd.DataFrame)
    open_orders_after: pd.DataFrame = field(default_factory=pd.DataFrame)
    account_before: dict[str, Any] = field(default_factory=dict)
    account_after: dict[str, Any] = field(default_factory=dict)

    @property
    def proven(self) -> int:
        return int((self.sent["outcome"] == "proven").sum()) if len(self.sent) else 0

    @property
    def failed(self) -> int:
        return int((self.sent["outcome"] != "proven").sum()) if len(self.sent) else 0

    def outcome(self) -> CycleOutcome:
        """How the run ends and its exit code (see :class:`~catalyst.cycle.outcome.ExitCode`)."""
        return cycle_outcome(self)

    def universe_warning(self) -> str | None:
        """Set when the active universe's HKEX list is older than ``market.universe_max_age_days``."""
        ts = self.server_time
        return active_universe().age_warning((to_hk(ts) if ts.tzinfo is not None else ts).date())

    def headline(self) -> str:
        line = (
            f"Run {self.run_id} ({self.mode}, account {self.account or '?'}) at "
            f"{self.server_time:%Y-%m-%d %H:%M:%S %Z} broker time, market {self.phase}: {self.message}"
        )
        warning = self.universe_warning()
        return f"{line}\nWARNING: {warning}" if warning else line

    def context_table(self) -> pd.DataFrame:
        """When (on the broker's clock), in which market phase, with which strategy and limits."""
        rows: list[tuple[str, Any]] = [
            ("broker server time", f"{self.server_time:%Y-%m-%d %H:%M:%S %Z}"),
            ("market phase", self.phase),
            ("new entries allowed", "yes" if self.accepts_orders else "no"),
            ("startup reconciliation", self.reconciliation.get("status", "not run")),
            ("universe", active_universe().describe()),
            ("market data (broker.market_data_type)", market_data_note(self.market_data)),
        ]
        warning = self.universe_warning()
        if warning:
            rows.append(("WARNING", warning))
        rows += [(f"strategy: {k}", v) for k, v in self.strategy.items()]
        rows += [(f"limit: {k}", v) for k, v in self.limits.items()]
        return pd.DataFrame([(k, str(v)) for k, v in rows], columns=["item", "value"])

    def stage_summary(self) -> pd.DataFrame:
        """One row per stage with its count: the cycle at a glance."""
        approved = int((self.verdicts["verdict"] == "approved").sum()) if "verdict" in self.verdicts else 0
        rows = [
            ("market phase", self.phase, "open for entries" if self.accepts_orders else "no new entries"),
            ("bars loaded", self.bars_loaded, ""),
            ("candidates", len(self.candidates), self.strategy.get("strategy", "")),
            ("approved by pre-trade checks", approved, ""),
            ("refused", len(self.refused), "see the refused table"),
            ("brackets sent", len(self.sent), "dry run: nothing sent" if self.status == "dry_run" else ""),
            ("brackets proven at the broker", self.proven, ""),
            ("brackets not proven", self.failed, "cancelled/flattened by the broker module"),
            ("open positions after", len(self.positions_after), ""),
        ]
        return pd.DataFrame(rows, columns=["stage", "count", "note"])
