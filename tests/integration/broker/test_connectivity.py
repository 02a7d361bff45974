"""IB's connectivity notices with the socket up: 1100 lost, 1101 restored with data lost, 1102
restored with data kept (the simulator's ``connectivity`` fault). One gateway for the module: the
fault reaches every client of it."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from broker_harness import GatewayTarget, run_session, tick_down, tick_up

from catalyst.broker import BrokerSession
from catalyst.domain import BracketIntent, Side
from catalyst.ledger import Ledger

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("broker_connectivity")]

#: Longer than any test: each test ends its outage itself by switching the fault off.
OUTAGE_SECONDS = 60


def sim_only(gateway: GatewayTarget) -> Any:
    if gateway.kind != "sim":
        pytest.skip("an IB server reset cannot be caused on a paper gateway")
    return gateway.require_control()


def messages_in(control: Any, client_id: int) -> int:
    return next(int(c["messages_in"]) for c in control.status()["clients"] if c["client_id"] == client_id)


async def lose_connectivity(s: BrokerSession, control: Any, restore: int) -> None:
    control.fault("connectivity", True, seconds=OUTAGE_SECONDS, restore=restore)
    assert await s.reports.wait_for(lambda: True if s.connection.state == "connectivity_lost" else None, 5)
    assert not s.is_ready


async def restore_connectivity(s: BrokerSession, control: Any, epoch: int) -> None:
    control.fault("connectivity", False)
    await s.connection.wait_ready(10)
    assert s.connection.epoch == epoch + 1  # the resync after the notice ran to the end


async def intent_at(
    s: BrokerSession, symbol: str, intent_id: str, quantity: int, *, marketable: bool
) -> BracketIntent:
    q = await s.quote(symbol)
    assert q.bid is not None and q.ask is not None
    entry = tick_up(q.ask, 2, symbol) if marketable else tick_down(q.bid, 4, symbol)
    return BracketIntent.snapped(
        intent_id, symbol, Side.BUY, quantity, entry, entry * Decimal("0.9"), tick_up(entry, 20, symbol)
    )


def test_a_submission_during_an_outage_is_held_then_sent_and_proven_after_1102(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    control = sim_only(gateway)

    async def scenario(s: BrokerSession) -> None:
        intent = await intent_at(s, "5", "cx-hold-1", 400, marketable=False)
        await s.prepare(["5"])
        epoch = s.connection.epoch
        await lose_connectivity(s, control, 1102)
        sent_before = messages_in(control, s.client_id)
        task = asyncio.ensure_future(s.submit_bracket(intent))
        done, _ = await asyncio.wait({task}, timeout=0.5)  # a window for a wrong send to show
        assert not done, "the submission must wait while connectivity is lost"
        assert messages_in(control, s.client_id) == sent_before  # nothing left the process
        assert not [o for o in control.orders() if o["order_ref"].startswith("cx-hold-1:")]
        await restore_connectivity(s, control, epoch)
        verified = await asyncio.wait_for(task, 10)
        assert not verified.adopted
        assert {leg.role for leg in verified.legs} == {"entry", "take_profit", "stop_loss"}
        assert s.connection.resubscriptions == 0  # 1102: the streams were kept

    run_session(gateway, ledger, scenario)
    at_gateway = {
        o["order_ref"]: o["status"] for o in control.orders() if o["order_ref"].startswith("cx-hold-1:")
    }
    assert sorted(at_gateway) == ["cx-hold-1:P", "cx-hold-1:SL", "cx-hold-1:TP"]


def test_after_1101_the_session_subscribes_to_account_updates_again_and_resyncs(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    control = sim_only(gateway)

    async def scenario(s: BrokerSession) -> None:
        await s.prepare(["2318"])
        epoch = s.connection.epoch
        await lose_connectivity(s, control, 1101)
        await restore_connectivity(s, control, epoch)
        assert s.connection.resubscriptions == 1
        # the account stream is alive again: a fill after the restore reaches the portfolio view
        intent = await intent_at(s, "2318", "cx-sub-1", 500, marketable=True)
        await s.submit_bracket(intent)
        ib = s.connection.ib

        def streamed() -> bool | None:
            held = [p for p in ib.portfolio(s.account) if p.contract.symbol == "2318"]
            return True if held and int(held[0].position) == 500 else None

        assert await s.reports.wait_for(streamed, 5), "no portfolio update after the 1101 restore"

    run_session(gateway, ledger, scenario)


def test_a_fill_made_during_the_outage_is_recorded_after_the_restore(
    gateway: GatewayTarget, ledger: Ledger
) -> None:
    control = sim_only(gateway)

    async def scenario(s: BrokerSession) -> None:
        intent = await intent_at(s, "388", "cx-fill-1", 100, marketable=False)
        await s.submit_bracket(intent)
        epoch = s.connection.epoch
        await lose_connectivity(s, control, 1102)
        control.move_price("388", price=str(tick_down(intent.entry, 1, "388")))  # the entry fills now
        assert not s.reports.executions_for(order_ref="cx-fill-1:P")  # held at the gateway
        await restore_connectivity(s, control, epoch)
        assert await s.reports.wait_for(
            lambda: True if s.reports.executions_for(order_ref="cx-fill-1:P") else None, 5
        )
        positions = await s.positions()
        assert int(positions[positions["symbol"] == "388"]["quantity"].sum()) == 100

    run_session(gateway, ledger, scenario)
    fills = ledger.query("SELECT quantity FROM fills WHERE order_ref = 'cx-fill-1:P'")
    assert int(fills.quantity.sum()) == 100
