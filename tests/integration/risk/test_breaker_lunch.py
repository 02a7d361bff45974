"""A breaker halt during HKEX's lunch break, over the simulated gateway with two clients.

The cycle's bracket is filled and a second bracket's entry rests when the daily loss breaker trips
at 12:10. No cancel can reach HKEX before 12:30 and no order can trade before 13:00: the halt asks
for every cancel, says they go at 12:30 and that the flatten trades at 13:00, keeps the position
under a stop of its own meanwhile and closes it when HKEX trades again (a monitor restarted during
the wait takes the flatten over from the ledger). The position is never without a working stop
until it is flat, and nothing is left working at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from risk_sim_helpers import Rig, make_rig, run, settings_for, ticks, until

from catalyst.broker import BrokerSession
from catalyst.domain import BracketIntent, Side
from catalyst.ledger import Ledger
from catalyst.risk.alerts import read_alert_file
from catalyst.risk.limits import RiskLimits
from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("risk_breaker_lunch")]

ACCOUNT = "DU0000032"
CYCLE_CLIENT_ID = 6
MONITOR_CLIENT_ID = CYCLE_CLIENT_ID + 50
LIMITS = RiskLimits(daily_loss_limit=Decimal("500"), daily_loss_fraction=None)
DAY = "2026-11-24"
STOP_TYPES = {"STP", "STP LMT"}
LIVE = {"PreSubmitted", "Submitted", "PendingCancel"}


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[GatewayHandle]:
    """A gateway of its own with a frozen clock: the test moves it through the lunch break."""
    handle = start_gateway(tmp_path / "lunch-gw", clock=f"{DAY}T11:58:00+08:00", speed=0, accounts=(ACCOUNT,))
    try:
        yield handle
    finally:
        handle.stop()


def at(gw: GatewayHandle, hhmmss: str) -> None:
    gw.control.set_clock(f"{DAY}T{hhmmss}+08:00")


def held(gw: GatewayHandle, symbol: str) -> int:
    return sum(int(p["quantity"]) for p in gw.control.positions(ACCOUNT) if p["symbol"] == symbol)


def stop_cover(gw: GatewayHandle, symbol: str) -> int:
    """Shares of ``symbol`` a live stop at the gateway sells if triggered (any client)."""
    return sum(
        int(o["remaining"])
        for o in gw.control.orders()
        if o["account"] == ACCOUNT
        and o["symbol"] == symbol
        and o["action"] == "SELL"
        and o["order_type"] in STOP_TYPES
        and o["status"] in LIVE
    )


def protected_or_flat(gw: GatewayHandle, symbol: str) -> bool:
    position = held(gw, symbol)
    return position == 0 or stop_cover(gw, symbol) >= position


def events(ledger: Ledger) -> dict[str, str]:
    frame = ledger.query("SELECT kind, message FROM risk_events ORDER BY ts")
    return {str(k): str(m) for k, m in zip(frame["kind"], frame["message"], strict=True)}


async def bracket(cycle: BrokerSession, intent_id: str, symbol: str, quantity: int, *, fill: bool) -> None:
    q = await cycle.quote(symbol)
    assert q.bid is not None and q.ask is not None
    entry = q.ask * Decimal("1.01") if fill else ticks(q.bid, -20, symbol)
    intent = BracketIntent.snapped(
        intent_id, symbol, Side.BUY, quantity, entry, entry * Decimal("0.9"), ticks(q.ask, 20, symbol)
    )
    await cycle.submit_bracket(intent)


def test_a_breaker_halt_at_1210_holds_the_cancels_until_1230_and_flattens_at_1300_never_unprotected(
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
            await bracket(cycle, "lunch-held-1", "388", 100, fill=True)  # filled: stop and target live
            await bracket(cycle, "lunch-rest-1", "5", 400, fill=False)  # an entry resting unfilled
            await until(lambda: _holds(cycle, "388", 100), what="the 388 entry filled")
            gw.control.move_price("388", pct=-8)  # through the loss limit, short of the stop (-10 %)
            at(gw, "12:10:00")
            assert protected_or_flat(gw, "388") and held(gw, "388") == 100

            report = await r.monitor.check_breaker()
            assert report.breaker is not None and report.breaker.tripped, report.breaker
            assert report.errors == [], report.errors  # held cancels and a deferred flatten are no failure
            assert "flatten 388 at 13:00:00 HK" in report.actions
            assert {a for a in report.actions if a.startswith("cancel")} == {
                f"cancel {ref} at 12:30:00 HK"
                for ref in (
                    "lunch-held-1:TP",
                    "lunch-held-1:SL",
                    "lunch-rest-1:P",
                    "lunch-rest-1:TP",
                    "lunch-rest-1:SL",
                )
            }
            said = events(ledger)
            assert "go at 12:30:00 HK" in said["breaker_cancels_held"]
            assert "can trade from 13:00:00 HK" in said["breaker_flatten_deferred"]
            assert "cancel_failed" not in said and "breaker_not_flat" not in said
            assert held(gw, "388") == 100 and stop_cover(gw, "388") >= 200  # the held SL and the monitor's

            for clock in ("12:20:00", "12:29:59", "12:30:00", "12:45:00", "12:59:59"):
                at(gw, clock)
                quiet = await r.monitor.poll()  # nothing to re-cancel, no new target, no flatten yet
                assert quiet.errors == [] and not [
                    a for a in quiet.actions if a.startswith(("cancel", "flatten"))
                ]
                assert protected_or_flat(gw, "388") and held(gw, "388") == 100, clock
            by_ref = {o["order_ref"]: o["status"] for o in gw.control.orders() if o["account"] == ACCOUNT}
            assert {ref: s for ref, s in by_ref.items() if ref.startswith("lunch-")} == {
                "lunch-held-1:P": "Filled",
                **{f"lunch-held-1:{leg}": "Cancelled" for leg in ("TP", "SL")},
                **{f"lunch-rest-1:{leg}": "Cancelled" for leg in ("P", "TP", "SL")},
            }  # the held cancels went at 12:30

        finally:
            await cycle.close()

    run(rig, scenario)

    # the monitor is restarted during the wait: the new one finds the waiting flatten in the ledger
    (tmp_path / "restarted").mkdir()
    restarted = make_rig(
        gw.host, gw.port, ACCOUNT, tmp_path / "restarted", LIMITS, ledger=ledger, client_id=MONITOR_CLIENT_ID
    )

    async def after_restart(r: Rig) -> None:
        early = await r.monitor.poll()  # 12:59:59: still lunch
        assert not [a for a in early.actions if a.startswith("flatten")] and held(gw, "388") == 100
        at(gw, "13:00:01")
        closing = await r.monitor.poll()
        assert "flatten 388" in closing.actions and closing.errors == [], closing
        assert protected_or_flat(gw, "388")

    run(restarted, after_restart)

    assert held(gw, "388") == 0
    assert [o for o in gw.control.orders() if o["account"] == ACCOUNT and o["status"] in LIVE] == []
    said = events(ledger)
    assert {"breaker_tripped", "breaker_cancels_held", "breaker_flatten_deferred", "breaker_flat"} <= set(
        said
    )
    titles = [a["title"] for a in read_alert_file(rig.alert_file)]
    assert any(t.startswith("BREAKER: FLATTEN WAITS FOR HKEX") for t in titles)
    assert "HKEX trades again (13:00:01 HK)" in said["breaker_flatten_resumed"]
    assert any(t.startswith("CIRCUIT BREAKER TRIPPED") for t in titles)


async def _holds(session: BrokerSession, symbol: str, quantity: int) -> bool:
    positions = await session.positions()
    return int(positions[positions["symbol"] == symbol]["quantity"].sum()) == quantity


def test_a_breaker_halt_at_1240_cancels_at_once_keeps_a_stop_and_flattens_at_1300(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    """From 12:30 cancels reach HKEX at once, but nothing trades before 13:00: the bracket's legs go,
    the monitor's stop replaces its stop within the trip, and the flatten waits for 13:00."""
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
            await bracket(cycle, "late-held-1", "388", 100, fill=True)
            await until(lambda: _holds(cycle, "388", 100), what="the 388 entry filled")
            gw.control.move_price("388", pct=-8)
            at(gw, "12:40:00")
            report = await r.monitor.check_breaker()
            assert report.breaker is not None and report.breaker.tripped and report.errors == [], report
            assert {a for a in report.actions if a.startswith("cancel")} == {
                "cancel late-held-1:TP",
                "cancel late-held-1:SL",
            }
            assert "flatten 388 at 13:00:00 HK" in report.actions
            assert held(gw, "388") == 100 and stop_cover(gw, "388") == 100  # the monitor's stop alone
            said = events(ledger)
            assert (
                "breaker_cancels_held" not in said
                and "can trade from 13:00:00 HK" in said["breaker_flatten_deferred"]
            )
            at(gw, "13:00:01")
            closing = await r.monitor.poll()
            assert "flatten 388" in closing.actions and closing.errors == [], closing
        finally:
            await cycle.close()

    run(rig, scenario)
    assert held(gw, "388") == 0
    assert [o for o in gw.control.orders() if o["account"] == ACCOUNT and o["status"] in LIVE] == []
