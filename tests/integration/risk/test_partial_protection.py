"""Re-protection over the simulated gateway when one leg of the cycle's bracket survives: only the
missing leg is placed (in the survivor's OCA group), so the position never has two stops or two
targets; survivors covering more than the position are left alone with a critical alert."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from risk_sim_helpers import SIM_CLOCK, Rig, flat, make_rig, record_position, run, settings_for, ticks, until

from catalyst.broker import BrokerSession
from catalyst.domain import BracketIntent, Side
from catalyst.ledger import Ledger
from catalyst.market import board_lot
from catalyst.risk.alerts import read_alert_file
from catalyst.risk.limits import RiskLimits
from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("risk_sim")]

ACCOUNTS = ("DU0000031", "DU0000032", "DU0000033")
WORKING = {"PreSubmitted", "Submitted"}


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHandle]:
    handle = start_gateway(tmp_path_factory.mktemp("partial-gw"), clock=SIM_CLOCK, accounts=ACCOUNTS)
    try:
        yield handle
    finally:
        handle.stop()


def kinds(ledger: Ledger) -> list[str]:
    return list(ledger.query("SELECT kind FROM risk_events ORDER BY ts")["kind"])


def working_exits(gw: GatewayHandle, account: str, symbol: str) -> list[dict[str, Any]]:
    """The gateway's own record of the working orders in ``symbol`` (any client)."""
    return [
        o
        for o in gw.control.orders()
        if o["account"] == account and o["symbol"] == symbol and o["status"] in WORKING
    ]


async def cycle_bracket_then_drop(
    gw: GatewayHandle, r: Rig, account: str, symbol: str, intent_id: str, lots: int, drop: str
) -> BracketIntent:
    """The trading cycle (its own client id) places a proven bracket that fills, then loses one leg
    (``drop``: "TP" or "SL"), cancelled under the cycle's client id; the ledger records the levels."""
    cycle = BrokerSession(
        settings_for(gw.host, gw.port, account), ledger=r.ledger, run_id="cycle-it", proof_timeout=3.0
    )
    await cycle.connect()
    try:
        q = await cycle.quote(symbol)
        assert q.ask is not None
        entry = ticks(q.ask, 2, symbol)  # marketable: fills at once
        intent = BracketIntent.snapped(
            intent_id,
            symbol,
            Side.BUY,
            lots * board_lot(symbol),
            entry,
            entry * Decimal("0.9"),
            ticks(q.ask, 20, symbol),
        )
        await cycle.submit_bracket(intent)
        assert await cycle.wait_for_order(intent.order_ref("P"), {"Filled"}, timeout=15) == "Filled"
        await cycle.cancel(intent.order_ref(drop))
    finally:
        await cycle.close()
    record_position(r.ledger, account, symbol, intent.quantity, intent.stop, intent.target)
    return intent


def test_a_surviving_stop_gets_only_a_target_and_the_position_one_stop_and_one_target(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    account, symbol = ACCOUNTS[0], "2800"
    rig = make_rig(gw.host, gw.port, account, tmp_path, RiskLimits())

    async def scenario(r: Rig) -> BracketIntent:
        intent = await cycle_bracket_then_drop(gw, r, account, symbol, "pp-stop-1", 1, "TP")
        report = await r.monitor.check_protection()
        assert [(g.symbol, g.missing) for g in report.gaps] == [(symbol, ("target",))]
        assert report.actions == [f"protect {symbol}"]
        assert (await r.monitor.check_protection()).gaps == []
        return intent

    intent = run(rig, scenario)
    orders = working_exits(gw, account, symbol)
    assert sorted((o["action"], o["order_type"], o["total_quantity"]) for o in orders) == [
        ("SELL", "LMT", intent.quantity),
        ("SELL", "STP LMT", intent.quantity),
    ]
    assert {o["oca_group"] for o in orders} == {f"{intent.intent_id}:OCA"}
    assert {o["oca_type"] for o in orders} == {3}
    assert "protection_recreated" in kinds(rig.ledger)


def test_a_surviving_target_gets_only_a_stop_and_the_position_one_stop_and_one_target(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    account, symbol = ACCOUNTS[1], "2800"
    rig = make_rig(gw.host, gw.port, account, tmp_path, RiskLimits())

    async def scenario(r: Rig) -> BracketIntent:
        intent = await cycle_bracket_then_drop(gw, r, account, symbol, "pp-target-1", 1, "SL")
        report = await r.monitor.check_protection()
        assert [(g.symbol, g.missing) for g in report.gaps] == [(symbol, ("stop",))]
        assert report.actions == [f"protect {symbol}"]
        return intent

    intent = run(rig, scenario)
    orders = working_exits(gw, account, symbol)
    assert sorted((o["action"], o["order_type"], o["total_quantity"]) for o in orders) == [
        ("SELL", "LMT", intent.quantity),
        ("SELL", "STP LMT", intent.quantity),
    ]
    assert {o["oca_group"] for o in orders} == {f"{intent.intent_id}:OCA"}


def test_a_surviving_stop_covering_more_than_the_position_raises_a_critical_event_and_sends_nothing(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    """A partial exit behind the monitor's back: the stop still covers two lots, one is held."""
    account, symbol = ACCOUNTS[2], "2800"
    rig = make_rig(gw.host, gw.port, account, tmp_path, RiskLimits())
    lot = board_lot(symbol)

    async def scenario(r: Rig) -> BracketIntent:
        intent = await cycle_bracket_then_drop(gw, r, account, symbol, "pp-over-1", 2, "TP")
        gw.control.drift(account, symbol, lot)
        await until(lambda: _holds_exactly(r.session, symbol, lot), what=f"{symbol} position down to one lot")
        record_position(r.ledger, account, symbol, lot, intent.stop, intent.target)
        before = len(gw.control.orders())
        report = await r.monitor.check_protection()
        assert report.actions == [] and len(gw.control.orders()) == before
        assert any("stop orders cover" in e for e in report.errors)
        return intent

    intent = run(rig, scenario)
    orders = working_exits(gw, account, symbol)
    assert [(o["order_ref"], o["total_quantity"]) for o in orders] == [(intent.order_ref("SL"), 2 * lot)]
    events = rig.ledger.query(
        "SELECT severity, message FROM risk_events WHERE kind = 'protection_over_covered'"
    )
    assert list(events["severity"]) == ["critical"]
    assert intent.order_ref("SL") in events["message"][0]
    assert "cannot cancel another client's single order" in events["message"][0]
    assert any(a["title"].startswith(f"OVER-COVERED {symbol}") for a in read_alert_file(rig.alert_file))


async def _holds_exactly(session: BrokerSession, symbol: str, quantity: int) -> bool:
    if await flat(session, symbol):
        return False
    positions = await session.positions()
    return int(positions[positions["symbol"] == symbol]["quantity"].sum()) == quantity
