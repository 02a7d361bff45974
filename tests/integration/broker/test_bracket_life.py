"""A bracket's whole life over a real socket: proven, entry filled, then target or stop, as the
gateway itself records it."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from broker_harness import GatewayTarget, run_session, tick_down, tick_up

from catalyst.broker import BrokerSession
from catalyst.domain import BracketIntent, Side
from catalyst.ledger import Ledger

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("broker_bracket_life")]


async def marketable_long(session: BrokerSession, symbol: str, intent_id: str) -> BracketIntent:
    """A long whose entry crosses the ask (fills at once), stop 5% below, target 20 spreads above
    (inside HKEX's quotation rule, as pre-trade plans it)."""
    q = await session.quote(symbol)
    assert q.ask is not None
    entry = tick_up(q.ask, 2, symbol)
    return BracketIntent.snapped(
        intent_id,
        symbol,
        Side.BUY,
        session_lot(symbol),
        entry,
        entry * Decimal("0.95"),
        tick_up(entry, 20, symbol),
    )


def session_lot(symbol: str) -> int:
    from catalyst.market import board_lot

    return board_lot(symbol)


def gateway_order(control: Any, order_ref: str) -> dict[str, Any]:
    found = [o for o in control.orders() if o["order_ref"] == order_ref]
    assert len(found) == 1, f"the gateway holds {len(found)} orders with ref {order_ref}"
    return found[0]


async def in_thread(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(fn, *args, **kwargs)


def test_a_long_bracket_is_proven_and_reaches_the_gateway_as_buy_with_sell_children(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    control = gateway.require_control()

    async def scenario(s: BrokerSession) -> None:
        q = await s.quote("3988")
        assert q.bid is not None
        entry = tick_down(q.bid, 10, "3988")  # resting: not filled during the test
        intent = BracketIntent.snapped(
            "it-long-1", "3988", Side.BUY, 1000, entry, entry * Decimal("0.9"), tick_up(entry, 20, "3988")
        )
        verified = await s.submit_bracket(intent)
        assert verified.entry.status in {"Submitted", "PreSubmitted"}
        assert all(leg.perm_id > 0 for leg in verified.legs)
        parent = gateway_order(control, "it-long-1:P")
        tp = gateway_order(control, "it-long-1:TP")
        sl = gateway_order(control, "it-long-1:SL")
        assert (parent["action"], tp["action"], sl["action"]) == ("BUY", "SELL", "SELL")
        assert tp["parent_perm_id"] == sl["parent_perm_id"] == parent["perm_id"]
        assert (parent["order_type"], tp["order_type"], sl["order_type"]) == ("LMT", "LMT", "STP LMT")
        assert Decimal(sl["aux_price"]) == intent.stop and Decimal(tp["lmt_price"]) == intent.target

    run_session(gateway, ledger, scenario)


def test_a_short_intent_arrives_at_the_gateway_as_sell_with_buy_children(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    control = gateway.require_control()

    async def scenario(s: BrokerSession) -> None:
        # the simulated account is a cash account: it accepts a SELL only against shares held
        held = await marketable_long(s, "939", "it-short-0")
        await s.submit_bracket(held)
        assert await s.wait_for_order("it-short-0:P", {"Filled"}, timeout=15) == "Filled"
        q = await s.quote("939")
        assert q.ask is not None
        entry = tick_up(q.ask, 10, "939")
        intent = BracketIntent.snapped(
            "it-short-1", "939", "short", 1000, entry, entry * Decimal("1.1"), tick_down(entry, 20, "939")
        )
        await s.submit_bracket(intent)
        actions = [gateway_order(control, f"it-short-1:{c}")["action"] for c in ("P", "TP", "SL")]
        assert actions == ["SELL", "BUY", "BUY"]

    run_session(gateway, ledger, scenario)


def test_entry_fill_then_target_fill_cancels_the_stop(gateway: GatewayTarget, ledger: Ledger) -> None:
    control = gateway.require_control()

    async def scenario(s: BrokerSession) -> None:
        intent = await marketable_long(s, "5", "it-tp-1")
        await s.submit_bracket(intent)
        assert await s.wait_for_order("it-tp-1:P", {"Filled"}, timeout=15) == "Filled"
        await in_thread(control.move_price, "5", price=str(tick_up(intent.target, 2, "5")))
        assert await s.wait_for_order("it-tp-1:TP", {"Filled"}, timeout=15) == "Filled"
        assert await s.wait_for_order("it-tp-1:SL", {"Cancelled"}, timeout=15) == "Cancelled"
        await s.sync_order_status()

    run_session(gateway, ledger, scenario)
    rows = ledger.query(
        "SELECT order_ref, status, filled, fees FROM orders WHERE intent_id = 'it-tp-1' ORDER BY 1"
    )
    assert dict(zip(rows.order_ref, rows.status, strict=True)) == {
        "it-tp-1:P": "Filled",
        "it-tp-1:SL": "Cancelled",
        "it-tp-1:TP": "Filled",
    }
    fills = ledger.query("SELECT order_ref, side, quantity, fees FROM fills WHERE order_ref LIKE 'it-tp-1:%'")
    assert sorted(fills.side) == ["BUY", "SELL"] and all(f > 0 for f in fills.fees)


def test_entry_fill_then_stop_fill_cancels_the_target(gateway: GatewayTarget, ledger: Ledger) -> None:
    control = gateway.require_control()

    async def scenario(s: BrokerSession) -> None:
        intent = await marketable_long(s, "941", "it-sl-1")
        await s.submit_bracket(intent)
        assert await s.wait_for_order("it-sl-1:P", {"Filled"}, timeout=15) == "Filled"
        await in_thread(control.move_price, "941", price=str(tick_down(intent.stop, 1, "941")))
        assert await s.wait_for_order("it-sl-1:SL", {"Filled"}, timeout=15) == "Filled"
        assert await s.wait_for_order("it-sl-1:TP", {"Cancelled"}, timeout=15) == "Cancelled"
        positions = await s.positions()
        assert positions[positions.symbol == "941"].empty

    run_session(gateway, ledger, scenario)


def test_partial_fills_are_recorded_fill_by_fill(gateway: GatewayTarget, ledger: Ledger) -> None:
    control = gateway.require_control()
    control.fault("partial-fills", True, pieces=3)
    try:

        async def scenario(s: BrokerSession) -> None:
            q = await s.quote("883")
            assert q.ask is not None
            entry = tick_up(q.ask, 2, "883")
            intent = BracketIntent.snapped(
                "it-part-1", "883", Side.BUY, 3000, entry, entry * Decimal("0.9"), tick_up(entry, 20, "883")
            )
            await s.submit_bracket(intent)
            assert await s.wait_for_order("it-part-1:P", {"Filled"}, timeout=20) == "Filled"
            await s.sync_order_status()

        run_session(gateway, ledger, scenario)
    finally:
        control.fault("partial-fills", False)
    fills = ledger.query("SELECT quantity FROM fills WHERE order_ref = 'it-part-1:P'")
    assert len(fills) >= 2 and int(fills.quantity.sum()) == 3000
    row = ledger.query("SELECT status, filled FROM orders WHERE order_ref = 'it-part-1:P'").iloc[0]
    assert (row.status, int(row.filled)) == ("Filled", 3000)


def test_a_held_position_can_be_protected_again_and_then_flattened(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    control = gateway.require_control()

    async def scenario(s: BrokerSession) -> None:
        intent = await marketable_long(s, "2800", "it-prot-1")
        verified = await s.submit_bracket(intent)
        assert await s.wait_for_order("it-prot-1:P", {"Filled"}, timeout=15) == "Filled"
        for leg in (verified.take_profit, verified.stop_loss):  # the protection goes away
            await s.cancel(leg.order_ref)
        refs = await s.protect("2800", intent.quantity, stop=intent.stop, target=intent.target)
        protective = [gateway_order(control, ref) for ref in refs]
        assert [o["action"] for o in protective] == ["SELL", "SELL"]
        assert [o["order_type"] for o in protective] == ["LMT", "STP LMT"]
        assert protective[0]["oca_group"] == protective[1]["oca_group"] != ""
        exit_order = await s.flatten("2800")
        assert exit_order is not None and exit_order.quantity == intent.quantity
        assert await s.wait_for_order(exit_order.order_ref, {"Filled"}, timeout=15) == "Filled"
        assert {s.order_status(ref) for ref in refs} == {"Cancelled"}

    run_session(gateway, ledger, scenario)
