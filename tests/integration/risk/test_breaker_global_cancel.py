"""The circuit breaker over the simulated gateway with two clients, as in production: the cycle
places brackets under its client id, the monitor runs under another. The breaker must still leave
no order working and no position open, whoever placed them."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from risk_sim_helpers import SIM_CLOCK, Rig, make_rig, run, settings_for, ticks, until

from catalyst.broker import BrokerSession
from catalyst.domain import BracketIntent, Side
from catalyst.ledger import Ledger
from catalyst.risk.alerts import read_alert_file
from catalyst.risk.limits import RiskLimits
from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("risk_breaker")]

ACCOUNT = "DU0000031"
CYCLE_CLIENT_ID = 5
MONITOR_CLIENT_ID = CYCLE_CLIENT_ID + 50
LIMITS = RiskLimits(daily_loss_limit=Decimal("500"), daily_loss_fraction=None)


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHandle]:
    """A gateway of its own: a global cancel reaches every order of the login."""
    handle = start_gateway(tmp_path_factory.mktemp("breaker-gw"), clock=SIM_CLOCK, accounts=(ACCOUNT,))
    try:
        yield handle
    finally:
        handle.stop()


def kinds(ledger: Ledger) -> list[str]:
    return list(ledger.query("SELECT kind FROM risk_events ORDER BY ts")["kind"])


async def bracket(
    cycle: BrokerSession, intent_id: str, symbol: str, quantity: int, *, fill: bool
) -> BracketIntent:
    q = await cycle.quote(symbol)
    assert q.bid is not None and q.ask is not None
    entry = q.ask * Decimal("1.01") if fill else ticks(q.bid, -20, symbol)
    intent = BracketIntent.snapped(
        intent_id, symbol, Side.BUY, quantity, entry, entry * Decimal("0.9"), ticks(q.ask, 20, symbol)
    )
    await cycle.submit_bracket(intent)
    return intent


def test_the_breaker_cancels_the_cycles_orders_flattens_and_the_gateway_ends_flat_with_nothing_working(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    ledger = Ledger(tmp_path / "ledger.duckdb")
    rig = make_rig(gw.host, gw.port, ACCOUNT, tmp_path, LIMITS, ledger=ledger, client_id=MONITOR_CLIENT_ID)
    cycle = BrokerSession(
        settings_for(gw.host, gw.port, ACCOUNT, client_id=CYCLE_CLIENT_ID),
        ledger=ledger,
        run_id="cycle",
        proof_timeout=3.0,
    )

    async def scenario(r: Rig) -> None:
        await cycle.connect()
        try:
            await bracket(cycle, "brk-held-1", "388", 100, fill=True)  # filled: stop and target live
            await bracket(cycle, "brk-rest-1", "5", 400, fill=False)  # entry rests unfilled
            await until(lambda: _holds(cycle, "388", 100), what="the 388 entry filled")
            working = await r.session.open_orders()
            assert set(working["client_id"]) == {CYCLE_CLIENT_ID} and len(working) == 5
            first = await r.monitor.check_breaker()
            assert first.breaker is not None and not first.breaker.tripped, first.breaker

            gw.control.move_price("388", pct=-8)  # through the loss limit, short of the stop
            report = await r.monitor.check_breaker()
            assert report.breaker is not None and report.breaker.tripped, report.breaker
            assert report.errors == []
            assert "flatten 388" in report.actions
            assert {a for a in report.actions if a.startswith("cancel")} == {
                "cancel brk-held-1:TP",
                "cancel brk-held-1:SL",
                "cancel brk-rest-1:P",
                "cancel brk-rest-1:TP",
                "cancel brk-rest-1:SL",
            }
        finally:
            await cycle.close()

    run(rig, scenario)

    orders = [o for o in gw.control.orders() if o["account"] == ACCOUNT]
    status = {o["order_ref"]: o["status"] for o in orders}
    assert {ref: s for ref, s in status.items() if ref.startswith("brk-")} == {
        "brk-held-1:P": "Filled",
        "brk-held-1:TP": "Cancelled",
        "brk-held-1:SL": "Cancelled",
        "brk-rest-1:P": "Cancelled",
        "brk-rest-1:TP": "Cancelled",
        "brk-rest-1:SL": "Cancelled",
    }
    assert all(o["status"] in ("Filled", "Cancelled") for o in orders), orders
    assert [p for p in gw.control.positions(ACCOUNT) if int(p["quantity"]) != 0] == []
    recorded = kinds(ledger)
    assert {"breaker_tripped", "breaker_cancel_all", "breaker_flatten", "breaker_flat"} <= set(recorded)
    assert "cancel_failed" not in recorded and "foreign_orders_after_flatten" not in recorded
    assert any(a["title"].startswith("CIRCUIT BREAKER TRIPPED") for a in read_alert_file(rig.alert_file))

    restarted = make_rig(
        gw.host, gw.port, ACCOUNT, tmp_path / "again", LIMITS, ledger=ledger, client_id=MONITOR_CLIENT_ID
    )

    async def after_restart(r: Rig) -> None:
        state = r.monitor.risk_state()
        assert state.halted and "daily loss limit" in state.halt_reason
        again = await r.monitor.check_breaker()
        assert again.breaker is not None and again.breaker.reason.startswith("already halted")
        assert again.actions == []

    (tmp_path / "again").mkdir()
    run(restarted, after_restart)


async def _holds(session: BrokerSession, symbol: str, quantity: int) -> bool:
    positions = await session.positions()
    return int(positions[positions["symbol"] == symbol]["quantity"].sum()) == quantity
