"""A strategy's target beyond HKEX's quotation rule, over a real socket to the simulated gateway.

As decided in docs/risk-operations.md: pre-trade plans the target inside the rule (at most 20
spreads beyond the entry), so the bracket is proven and its take-profit works at the exchange. A
bracket that skips pre-trade keeps its far target: the simulated HKEX rejects the take-profit
when the entry fills, the bracket proof cancels what exists and flattens. Either way the position
is never held without its stop.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from broker_harness import GatewayTarget, run_session, tick_up

from catalyst.broker import BrokerSession
from catalyst.broker.errors import BracketVerificationError
from catalyst.domain import BracketIntent, Side
from catalyst.ledger import Ledger
from catalyst.market import HK_TZ, board_lot, within_quotation_rule
from catalyst.risk.limits import RiskLimits
from catalyst.risk.pretrade import AccountView, PreTradeContext, pre_trade

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("broker_quotation_rule")]

SIM_MORNING = datetime(2026, 11, 24, 10, 5, tzinfo=HK_TZ)


def gateway_order(control: Any, order_ref: str) -> dict[str, Any]:
    found = [o for o in control.orders() if o["order_ref"] == order_ref]
    assert len(found) == 1, f"the gateway holds {len(found)} orders with ref {order_ref}"
    return found[0]


async def far_target_long(s: BrokerSession, symbol: str, intent_id: str) -> BracketIntent:
    """A long that fills at once, with the strategy's target 8% above the entry (far beyond 24 spreads)."""
    q = await s.quote(symbol)
    assert q.ask is not None
    entry = tick_up(q.ask, 2, symbol)
    return BracketIntent.snapped(
        intent_id,
        symbol,
        Side.BUY,
        board_lot(symbol),
        entry,
        entry * Decimal("0.95"),
        entry * Decimal("1.08"),
    )


def approved(intent: BracketIntent) -> BracketIntent:
    rich = AccountView(equity=Decimal("1e8"), buying_power=Decimal("1e8"))
    verdict = pre_trade([intent], PreTradeContext(account=rich, now=SIM_MORNING), RiskLimits())
    assert verdict.rejections == ()
    (moved,) = verdict.adjustments
    assert moved.planned == intent.target
    return verdict.approved[0]


def test_a_far_target_planned_by_pre_trade_is_proven_and_works_beside_its_stop(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    control = gateway.require_control()

    async def scenario(s: BrokerSession) -> None:
        strategy = await far_target_long(s, "5", "qr-plan-1")
        intent = approved(strategy)
        assert intent.target < strategy.target and intent.target == tick_up(intent.entry, 20, "5")
        await s.submit_bracket(intent)
        assert await s.wait_for_order("qr-plan-1:P", {"Filled"}, timeout=15) == "Filled"
        tp, sl = gateway_order(control, "qr-plan-1:TP"), gateway_order(control, "qr-plan-1:SL")
        assert (tp["status"], Decimal(tp["lmt_price"])) == ("Submitted", intent.target)
        assert (sl["status"], sl["why_held"]) == ("PreSubmitted", "trigger")
        q = await s.quote("5")
        assert within_quotation_rule("SELL", intent.target, best_bid=q.bid, best_ask=q.ask)
        positions = await s.positions()
        assert int(positions[positions.symbol == "5"].quantity.sum()) == intent.quantity
        # the target then fills and the stop goes with it
        await asyncio.to_thread(control.move_price, "5", price=str(tick_up(intent.target, 2, "5")))
        assert await s.wait_for_order("qr-plan-1:TP", {"Filled"}, timeout=15) == "Filled"
        assert await s.wait_for_order("qr-plan-1:SL", {"Cancelled"}, timeout=15) == "Cancelled"

    run_session(gateway, ledger, scenario)


def test_a_far_target_that_skips_pre_trade_is_refused_at_the_fill_and_the_position_is_flattened(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    control = gateway.require_control()

    async def scenario(s: BrokerSession) -> None:
        intent = await far_target_long(s, "941", "qr-raw-1")
        with pytest.raises(BracketVerificationError, match="quotation rule"):
            await s.submit_bracket(intent)
        tp, sl = gateway_order(control, "qr-raw-1:TP"), gateway_order(control, "qr-raw-1:SL")
        assert tp["status"] == "Inactive"  # HKEX refused the take-profit ...
        assert sl["perm_id"] > 0  # ... while the stop stood, until the proof flattened
        assert await s.wait_for_order("qr-raw-1:FLAT", {"Filled"}, timeout=15) == "Filled"
        positions = await s.positions()
        assert positions[positions.symbol == "941"].empty

    run_session(gateway, ledger, scenario)
    kinds = set(ledger.query("SELECT kind FROM risk_events WHERE symbol = '941'").kind)
    assert "bracket_unproven" in kinds
