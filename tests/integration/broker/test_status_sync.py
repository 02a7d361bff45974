"""Order-status sync against the gateway: DAY expiry at the close, orders the broker forgot,
rejections recorded as rejections. This module moves the simulated clock, so it has its own gateway."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from broker_harness import GatewayTarget, run_session, tick_down, tick_up

from catalyst.broker import BracketVerificationError, BrokerSession
from catalyst.domain import BracketIntent, Side
from catalyst.ledger import Ledger

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("broker_status_sync")]


def test_a_day_entry_that_expires_at_the_close_is_synced_as_expired(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    control = gateway.require_control()

    async def scenario(s: BrokerSession) -> Any:
        q = await s.quote("3988")
        assert q.bid is not None
        # far below the market (the day's low stays above it) and inside HKEX's quotation rule with
        # room to spare: at 23 spreads, the bid ticking up once before the order arrived made it 24
        entry = tick_down(q.bid, 20, "3988")
        intent = BracketIntent.snapped(
            "it-exp-1", "3988", Side.BUY, 1000, entry, entry * Decimal("0.9"), tick_up(entry, 20, "3988")
        )
        await s.submit_bracket(intent)
        control.set_clock("2026-11-24T16:11:00+08:00")  # past the closing auction
        assert await s.wait_for_order("it-exp-1:P", {"Cancelled"}, timeout=10) == "Cancelled"
        return await s.sync_order_status()

    run_session(gateway, ledger, scenario)
    rows = ledger.query("SELECT order_ref, status FROM orders WHERE intent_id = 'it-exp-1' ORDER BY 1")
    assert dict(zip(rows.order_ref, rows.status, strict=True))["it-exp-1:P"] == "expired"


def test_an_order_the_broker_no_longer_knows_becomes_unknown_with_a_risk_event(
    gateway: GatewayTarget, ledger: Ledger, risk_events: list[dict[str, Any]]
) -> None:
    ledger.upsert(
        "orders",
        {
            "order_ref": "it-ghost-1:P",
            "intent_id": "it-ghost-1",
            "role": "entry",
            "account": gateway.account,
            "symbol": "700",
            "side": "BUY",
            "order_type": "LMT",
            "quantity": 100,
            "limit_price": Decimal("500"),
            "tif": "DAY",
            "status": "Submitted",
            "perm_id": 987654321,
            "placed_at": datetime.now(UTC) - timedelta(minutes=5),
        },
    )

    async def scenario(s: BrokerSession) -> Any:
        return await s.sync_order_status()

    changes = run_session(gateway, ledger, scenario, risk_events=risk_events)
    assert list(changes.new_status) == ["unknown"]
    assert [e["kind"] for e in risk_events] == ["order_unknown"]
    stored = ledger.query("SELECT status FROM orders WHERE order_ref = 'it-ghost-1:P'")
    assert list(stored.status) == ["unknown"]


def test_rejected_children_are_recorded_as_rejections_with_their_error(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    control = gateway.require_control()
    control.set_clock("2026-11-25T10:00:00+08:00")
    control.fault("reject-children", True)
    try:

        async def scenario(s: BrokerSession) -> None:
            q = await s.quote("941")
            assert q.bid is not None
            # resting inside HKEX's quotation rule: the entry works, so its children reach the fault
            # (an entry refused first would leave them a parent that is gone: IB's 135)
            entry = tick_down(q.bid, 10, "941")
            intent = BracketIntent.snapped(
                "it-rj-1", "941", Side.BUY, 500, entry, entry * Decimal("0.9"), tick_up(q.ask, 15, "941")
            )
            with pytest.raises(BracketVerificationError):
                await s.submit_bracket(intent)
            await s.sync_order_status()

        run_session(gateway, ledger, scenario)
    finally:
        control.fault("reject-children", False)
    rows = ledger.query(
        "SELECT order_ref, status, error_code FROM orders WHERE intent_id = 'it-rj-1' ORDER BY 1"
    )
    by_ref = {r.order_ref: (r.status, r.error_code) for r in rows.itertuples()}
    assert by_ref["it-rj-1:TP"] == ("rejected", 201)
