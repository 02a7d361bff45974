"""Faults the predecessor never saw: children dropped or rejected, a connection cut between legs,
and orders that must be stopped before they reach the socket."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from broker_harness import GatewayTarget, run_session, tick_down, tick_up

from catalyst.broker import BracketVerificationError, BrokerSession, NotWholeLotsError, PriceNotOnLadderError
from catalyst.domain import BracketIntent, Side, UnknownSideError
from catalyst.ledger import Ledger

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("broker_bracket_faults")]


async def resting_long(s: BrokerSession, symbol: str, intent_id: str, quantity: int) -> BracketIntent:
    q = await s.quote(symbol)
    assert q.bid is not None
    entry = tick_down(q.bid, 10, symbol)
    return BracketIntent.snapped(
        intent_id, symbol, Side.BUY, quantity, entry, entry * Decimal("0.9"), tick_up(entry, 20, symbol)
    )


def refs_at_gateway(control: Any, prefix: str) -> list[dict[str, Any]]:
    return [o for o in control.orders() if str(o["order_ref"]).startswith(prefix)]


def test_dropped_children_are_detected_the_entry_fill_flattened_and_a_risk_event_raised(
    gateway: GatewayTarget, ledger: Ledger, risk_events: list[dict[str, Any]]
) -> None:
    control = gateway.require_control()
    control.fault("drop-children", True)
    try:

        async def scenario(s: BrokerSession) -> None:
            q = await s.quote("1398")
            assert q.ask is not None
            entry = tick_up(q.ask, 2, "1398")  # marketable: the naked entry fills
            intent = BracketIntent.snapped(
                "it-drop-1", "1398", Side.BUY, 1000, entry, entry * Decimal("0.9"), tick_up(entry, 20, "1398")
            )
            with pytest.raises(BracketVerificationError) as caught:
                await s.submit_bracket(intent)
            evidence = caught.value.evidence
            assert evidence["entry_filled"] == 1000 and evidence["flatten_ref"] == "it-drop-1:FLAT"
            assert await s.wait_for_order("it-drop-1:FLAT", {"Filled"}, timeout=15) == "Filled"
            positions = await s.positions()
            assert positions[positions.symbol == "1398"].empty

        run_session(gateway, ledger, scenario, risk_events=risk_events)
    finally:
        control.fault("drop-children", False)
    assert [e["kind"] for e in risk_events] == ["bracket_unproven"]
    stored = ledger.query("SELECT kind, severity FROM risk_events WHERE symbol = '1398'")
    assert list(zip(stored.kind, stored.severity, strict=True)) == [("bracket_unproven", "critical")]
    intent = ledger.query("SELECT status FROM intents WHERE intent_id = 'it-drop-1'")
    assert list(intent.status) == ["failed"]


def test_rejected_children_fail_the_proof_and_cancel_the_entry(
    gateway: GatewayTarget, ledger: Ledger, risk_events: list[dict[str, Any]]
) -> None:
    control = gateway.require_control()
    control.fault("reject-children", True)
    try:

        async def scenario(s: BrokerSession) -> BracketVerificationError:
            intent = await resting_long(s, "3988", "it-rej-1", 1000)
            with pytest.raises(BracketVerificationError) as caught:
                await s.submit_bracket(intent)
            return caught.value

        error = run_session(gateway, ledger, scenario, risk_events=risk_events)
    finally:
        control.fault("reject-children", False)
    assert "refused by the broker: error 201" in str(error)
    entry = [o for o in refs_at_gateway(control, "it-rej-1:") if o["order_ref"] == "it-rej-1:P"]
    assert entry and entry[0]["status"] == "Cancelled" and entry[0]["filled"] == 0
    assert [e["kind"] for e in risk_events] == ["bracket_unproven"]


def test_a_connection_cut_between_the_legs_is_retried_after_the_reconnect_without_duplicates(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    control = gateway.require_control()

    async def scenario(s: BrokerSession) -> None:
        intent = await resting_long(s, "2388", "it-cut-1", 500)
        await s.contract("2388")  # qualified beforehand: the next client messages are the three legs
        control.fault("disconnect", True, after=2)  # the gateway drops us after the take-profit leg
        verified = await s.submit_bracket(intent)
        assert s.connection.reconnects >= 1
        assert not verified.adopted
        assert {leg.status for leg in verified.legs} <= {"Submitted", "PreSubmitted"}

    try:
        run_session(gateway, ledger, scenario)
    finally:
        control.fault("disconnect", False)
    working = [o for o in refs_at_gateway(control, "it-cut-1:") if o["status"] not in ("Cancelled",)]
    assert sorted(o["order_ref"] for o in working) == ["it-cut-1:P", "it-cut-1:SL", "it-cut-1:TP"]


def test_a_rerun_adopts_the_bracket_already_at_the_broker_instead_of_sending_it_again(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    control = gateway.require_control()
    intent_box: list[BracketIntent] = []

    async def first(s: BrokerSession) -> None:
        intent_box.append(await resting_long(s, "27", "it-rerun-1", 1000))
        await s.submit_bracket(intent_box[0])

    async def second(s: BrokerSession) -> bool:
        return (await s.submit_bracket(intent_box[0])).adopted

    run_session(gateway, ledger, first, broker={"client_id": 90})
    assert run_session(gateway, ledger, second, broker={"client_id": 90}) is True
    assert len(refs_at_gateway(control, "it-rerun-1:")) == 3


def test_off_tick_odd_lot_and_unknown_side_orders_never_reach_the_gateway(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    control = gateway.require_control()
    before = len(control.orders())

    async def scenario(s: BrokerSession) -> None:
        good = await resting_long(s, "16", "it-bad-1", 500)
        off_tick = dataclasses.replace(good, intent_id="it-bad-2")
        object.__setattr__(
            off_tick, "entry", good.entry + Decimal("0.001")
        )  # bypasses the intent's own check
        with pytest.raises(PriceNotOnLadderError):
            await s.submit_bracket(off_tick)
        odd_lot = dataclasses.replace(good, intent_id="it-bad-3")
        object.__setattr__(odd_lot, "quantity", 750)
        with pytest.raises(NotWholeLotsError):
            await s.submit_bracket(odd_lot)
        unknown_side = dataclasses.replace(good, intent_id="it-bad-4")
        object.__setattr__(unknown_side, "side", "LONGISH")
        with pytest.raises(UnknownSideError):
            await s.submit_bracket(unknown_side)

    run_session(gateway, ledger, scenario)
    assert len(control.orders()) == before
    rejected = ledger.query("SELECT intent_id, status FROM intents ORDER BY intent_id")
    assert list(zip(rejected.intent_id, rejected.status, strict=True)) == [
        ("it-bad-2", "rejected"),
        ("it-bad-3", "rejected"),
        ("it-bad-4", "rejected"),
    ]


def test_a_symbol_locked_in_the_ledger_is_refused_before_anything_is_sent(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    from datetime import UTC, datetime

    from catalyst.broker import SymbolLockedError
    from catalyst.ledger import new_id

    control = gateway.require_control()
    ledger.append(
        "risk_events",
        {
            "event_id": new_id(),
            "ts": datetime.now(UTC),
            "kind": "symbol_locked",
            "severity": "critical",
            "symbol": "1211",
            "message": "board lot changed: broker 500, universe 100",
        },
    )
    before = len(control.orders())

    async def scenario(s: BrokerSession) -> None:
        intent = await resting_long(s, "1211", "it-lock-1", 100)
        with pytest.raises(SymbolLockedError, match="board lot changed"):
            await s.submit_bracket(intent)

    run_session(gateway, ledger, scenario)
    assert len(control.orders()) == before
