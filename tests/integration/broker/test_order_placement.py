"""The one order path (catalyst/broker/placement.py) and its outcomes, over the real ib_async client
and the simulated gateway: legs placed and proven; a proof the broker contradicts, with the legs
that exist cancelled; a partial placement (legs that never reached the broker); a ledger that
cannot record them, so that nothing is sent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from broker_harness import GatewayTarget, run_session, tick_down, tick_up

from catalyst.broker import BrokerSession
from catalyst.broker.bracket_plan import plan_bracket
from catalyst.broker.errors import OrdersNotRecordedError
from catalyst.broker.placement import Ack, PlacedLeg, Recording, map_legs
from catalyst.domain import BracketIntent, Side
from catalyst.domain.order_status import ACKNOWLEDGED
from catalyst.ledger import Ledger
from catalyst.ledger.lock import LedgerFileLock

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("broker_order_placement")]


async def resting_bracket(
    s: BrokerSession, symbol: str, intent_id: str
) -> tuple[BracketIntent, list[PlacedLeg]]:
    """A long bracket whose entry rests 10 ticks under the bid, mapped to legs (nothing sent)."""
    q = await s.quote(symbol)
    assert q.bid is not None
    entry = tick_down(q.bid, 10, symbol)
    lot = (await s.contract(symbol)).board_lot
    intent = BracketIntent.snapped(
        intent_id, symbol, Side.BUY, lot, entry, entry * Decimal("0.9"), tick_up(entry, 20, symbol)
    )
    return intent, map_legs(plan_bracket(intent), board_lot=lot)


async def place(s: BrokerSession, intent: BracketIntent, legs: list[PlacedLeg]) -> Any:
    contract, described = await s.contracts.resolve(intent.symbol)
    await s.placer.place(
        legs,
        contract,
        recording=Recording.BEFORE_SEND,
        what=f"test {intent.intent_id}",
        intent_id=intent.intent_id,
        intent_row=intent.ledger_row("submitted", run_id="it", account=s.account, detail={}),
    )
    return described


def at_gateway(gateway: GatewayTarget, intent_id: str) -> dict[str, str]:
    orders = gateway.require_control().orders()
    return {
        str(o["order_ref"]): str(o["status"]) for o in orders if str(o["order_ref"]).startswith(intent_id)
    }


def test_legs_placed_are_on_record_first_then_proven_from_the_brokers_reports_and_cancel_ends_them(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    gateway.require_control()

    async def scenario(s: BrokerSession) -> tuple[Any, list[str]]:
        intent, legs = await resting_bracket(s, "5", "it-place-1")
        described = await place(s, intent, legs)
        proof = await s.placer.prove(legs, ack=Ack.WORKING, con_id=described.con_id)
        cancelled = await s.placer.cancel(legs)
        return proof, cancelled

    proof, cancelled = run_session(gateway, ledger, scenario)
    assert proof.proven and proof.outcome == "acked" and proof.problems == ()
    assert [r.role for r in proof.reports] == ["entry", "take_profit", "stop_loss"]
    assert all(r.perm_id and r.status in ACKNOWLEDGED for r in proof.reports)
    assert cancelled == ["it-place-1:P", "it-place-1:TP", "it-place-1:SL"]
    assert set(at_gateway(gateway, "it-place-1:").values()) == {"Cancelled"}
    rows = ledger.query("SELECT order_ref, intent_id, order_id FROM orders WHERE intent_id = 'it-place-1'")
    assert sorted(rows.order_ref) == ["it-place-1:P", "it-place-1:SL", "it-place-1:TP"]
    assert rows.order_id.notna().all()


def test_a_leg_the_broker_refuses_fails_the_proof_with_its_words_and_cancel_ends_what_was_placed(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    control = gateway.require_control()
    control.fault("reject-children", True)
    try:

        async def scenario(s: BrokerSession) -> tuple[Any, list[str]]:
            intent, legs = await resting_bracket(s, "3988", "it-place-2")
            described = await place(s, intent, legs)
            proof = await s.placer.prove(legs, ack=Ack.WORKING, con_id=described.con_id)
            return proof, await s.placer.cancel(legs)

        proof, cancelled = run_session(gateway, ledger, scenario)
    finally:
        control.fault("reject-children", False)
    assert not proof.proven
    assert proof.outcome.startswith("take_profit refused by the broker: error 201")
    assert proof.problems[0] == proof.outcome
    assert cancelled[0] == "it-place-2:P"
    statuses = at_gateway(gateway, "it-place-2:")
    assert statuses.pop("it-place-2:P") == "Cancelled"
    assert set(statuses.values()) <= {"Inactive", "Cancelled"}  # the refused children never worked


def test_legs_that_never_reach_the_broker_time_the_proof_out_naming_them(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    control = gateway.require_control()
    control.fault("drop-children", True)
    try:

        async def scenario(s: BrokerSession) -> Any:
            intent, legs = await resting_bracket(s, "2388", "it-place-3")
            described = await place(s, intent, legs)
            proof = await s.placer.prove(legs, ack=Ack.WORKING, con_id=described.con_id)
            await s.placer.cancel(legs)
            return proof

        proof = run_session(gateway, ledger, scenario)
    finally:
        control.fault("drop-children", False)
    assert not proof.proven and proof.outcome == "timeout"
    assert proof.problems[0].startswith("no complete acknowledgement within")
    assert "take_profit: the broker reports no such order" in proof.problems
    assert "stop_loss: the broker reports no such order" in proof.problems
    assert at_gateway(gateway, "it-place-3:") == {"it-place-3:P": "Cancelled"}


def test_legs_the_ledger_cannot_record_before_sending_are_not_sent(
    gateway: GatewayTarget, tmp_path: Any
) -> None:
    ledger = Ledger(tmp_path / "ledger.duckdb", lock_timeout=1.0)
    ledger.tables()

    async def scenario(s: BrokerSession) -> list[PlacedLeg]:
        intent, legs = await resting_bracket(s, "5", "it-place-4")
        blocker = LedgerFileLock(ledger.lock_path, timeout=5)
        blocker.acquire()  # another process holds the ledger: nothing can be committed
        try:
            with pytest.raises(OrdersNotRecordedError, match="test it-place-4 was not sent"):
                await place(s, intent, legs)
        finally:
            blocker.release()
        return legs

    legs = run_session(gateway, ledger, scenario)
    assert all(leg.placed_at is None for leg in legs)
    assert at_gateway(gateway, "it-place-4:") == {}
