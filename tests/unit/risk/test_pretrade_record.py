"""Rejections are recorded at the I/O edge: the intent as rejected, plus a pretrade_rejected event."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from catalyst.domain import BracketIntent, Side
from catalyst.ledger import Ledger
from catalyst.market import HK_TZ
from catalyst.risk.limits import RiskLimits
from catalyst.risk.pretrade import AccountView, PreTradeContext, pre_trade, record_rejections

LUNCH = datetime(2026, 11, 24, 12, 30, tzinfo=HK_TZ)


def test_a_rejection_is_recorded_as_intent_and_risk_event(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.duckdb")
    i = BracketIntent(
        "r1-700-B-0", "700", Side.BUY, 100, Decimal("600"), Decimal("590"), Decimal("620"), created_at=LUNCH
    )
    ctx = PreTradeContext(account=AccountView(Decimal("1e7"), Decimal("1e7")), now=LUNCH)
    result = pre_trade([i], ctx, RiskLimits())
    assert record_rejections(ledger, result, run_id="r1", account="DU1") == 1
    intent = ledger.query("SELECT status, detail FROM intents").iloc[0]
    assert intent["status"] == "rejected" and "market_phase" in intent["detail"]
    event = ledger.query("SELECT kind, symbol, message FROM risk_events").iloc[0]
    assert (event["kind"], event["symbol"]) == ("pretrade_rejected", "700") and "LUNCH" in event["message"]
