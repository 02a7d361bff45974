"""The monitor over the simulated gateway: layer 2 on broker events, one owner of a symbol's exits
(the exits lease), no exit order left working without a position, and the alerts of each."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from risk_sim_helpers import SIM_CLOCK, Rig, flat, make_rig, record_position, run, settings_for, ticks, until

from catalyst.broker import BrokerSession
from catalyst.ledger import Ledger
from catalyst.ledger.lease import Lease, exits_lease_name
from catalyst.market import security, snap_to_tick
from catalyst.risk.alerts import read_alert_file
from catalyst.risk.limits import RiskLimits
from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("risk_exits")]

ACCOUNTS = (
    "DU0000041",
    "DU0000042",
    "DU0000043",
    "DU0000044",
    "DU0000045",
    "DU0000046",
    "DU0000047",
    "DU0000048",
    "DU0000049",
    "DU0000050",
    "DU0000051",
)
WORKING = {"PreSubmitted", "Submitted"}


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHandle]:
    handle = start_gateway(tmp_path_factory.mktemp("exits-gw"), clock=SIM_CLOCK, accounts=ACCOUNTS)
    try:
        yield handle
    finally:
        handle.stop()


def kinds(ledger: Ledger) -> list[str]:
    return list(ledger.query("SELECT kind FROM risk_events ORDER BY ts")["kind"])


def working(gw: GatewayHandle, account: str, symbol: str) -> list[dict[str, Any]]:
    """The gateway's own record of the working orders in ``symbol`` (any client)."""
    return [
        o
        for o in gw.control.orders()
        if o["account"] == account and o["symbol"] == symbol and o["status"] in WORKING
    ]


async def levels(session: BrokerSession, symbol: str) -> tuple[Decimal, Decimal]:
    """A stop 10 % under the bid and a target 20 ticks over the ask (inside the quotation rule)."""
    q = await session.quote(symbol)
    assert q.bid is not None and q.ask is not None
    table = security(symbol).spread_table
    return (
        snap_to_tick(q.bid * Decimal("0.9"), "down", table=table),
        ticks(q.ask, 20, symbol),
    )


@contextlib.asynccontextmanager
async def monitor_running(rig: Rig) -> Any:
    """The daemon loop in the background; the first pass (a full poll) is done before the body."""
    stop = asyncio.Event()
    task = asyncio.create_task(rig.monitor.run(stop))
    await until(lambda: _polled(rig), what="the monitor's first poll")
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def _polled(rig: Rig) -> bool:
    return rig.monitor.passes >= 1


def test_a_position_change_is_protected_on_the_broker_event_without_waiting_for_the_poll(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    """The poll is 10 minutes away: only the position event the broker pushes can make the monitor
    act within the wait below."""
    account, symbol = ACCOUNTS[0], "1299"
    rig = make_rig(gw.host, gw.port, account, tmp_path, RiskLimits(), poll_interval=600.0)

    async def scenario(r: Rig) -> None:
        stop, target = await levels(r.session, symbol)
        async with monitor_running(r):  # its first pass reconciles: the levels are recorded after it
            record_position(r.ledger, account, symbol, 200, stop, target)
            gw.control.drift(account, symbol, 200)  # the position appears behind the monitor's back
            await until(
                lambda: _protected(gw, account, symbol), timeout=60, what=f"{symbol} protected at the broker"
            )

    run(rig, scenario)
    assert "protection_recreated" in kinds(rig.ledger)


async def _protected(gw: GatewayHandle, account: str, symbol: str) -> bool:
    return {o["order_type"] for o in working(gw, account, symbol)} == {"LMT", "STP LMT"}


def test_while_another_process_owns_the_symbols_exits_the_monitor_leaves_it_alone_then_acts(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    """The bracket submitter holds ``exits:<account>:<symbol>`` while it proves a bracket: the
    unprotected position is neither re-protected nor reported meanwhile; once released, it is."""
    account, symbol = ACCOUNTS[1], "2800"
    state = tmp_path / "state"
    rig = make_rig(gw.host, gw.port, account, tmp_path, RiskLimits(), state_dir=state)
    gw.control.drift(account, symbol, 500)

    async def scenario(r: Rig) -> None:
        stop, target = await levels(r.session, symbol)
        record_position(r.ledger, account, symbol, 500, stop, target)
        submitter = Lease(state, exits_lease_name(account, symbol), purpose="bracket proof", run_id="cycle-x")
        assert submitter.try_acquire()
        try:
            held = await r.monitor.check_protection()
            assert held.actions == [] and held.errors == []
            assert working(gw, account, symbol) == []
        finally:
            submitter.release()
        free = await r.monitor.check_protection()
        assert free.actions == [f"protect {symbol}"]

    run(rig, scenario)
    assert kinds(rig.ledger).count("unprotected_position") == 1, "reported only once it was the monitor's"
    assert {o["order_type"] for o in working(gw, account, symbol)} == {"LMT", "STP LMT"}


def test_exits_left_working_on_a_flat_symbol_are_cancelled_recorded_and_alerted(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    """The drop-children end state: the monitor's own stop and target still work after the position
    was closed elsewhere. They are cancelled, a naked_exit risk event recorded, a human alerted."""
    account, symbol = ACCOUNTS[2], "1299"
    rig = make_rig(gw.host, gw.port, account, tmp_path, RiskLimits(), exit_grace=0.0)
    gw.control.drift(account, symbol, 200)

    async def scenario(r: Rig) -> None:
        stop, target = await levels(r.session, symbol)
        record_position(r.ledger, account, symbol, 200, stop, target)
        assert (await r.monitor.check_protection()).actions == [f"protect {symbol}"]
        gw.control.drift(account, symbol, 0)  # closed behind the monitor's back; its exits still work
        await until(lambda: flat(r.session, symbol), what=f"{symbol} flat")
        report = await r.monitor.check_protection()
        assert sorted(report.actions) == sorted(
            f"cancel {o['order_ref']}" for o in _orders_seen_earlier(gw, account, symbol)
        )

    run(rig, scenario)
    assert working(gw, account, symbol) == []
    assert "naked_exit" in kinds(rig.ledger)
    alerts = [a for a in read_alert_file(rig.alert_file) if a["title"].startswith(f"NAKED EXIT {symbol}")]
    assert alerts and alerts[0]["severity"] == "critical"


def _orders_seen_earlier(gw: GatewayHandle, account: str, symbol: str) -> list[dict[str, Any]]:
    return [
        o
        for o in gw.control.orders()
        if o["account"] == account and o["symbol"] == symbol and ":PROT" in str(o["order_ref"])
    ]


def test_a_naked_exit_of_another_client_is_recorded_and_alerted_once_naming_it(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    """IB lets only the placing client cancel a single order: the monitor names it for a human, once."""
    account, symbol = ACCOUNTS[3], "2800"
    rig = make_rig(gw.host, gw.port, account, tmp_path, RiskLimits(), exit_grace=0.0)
    gw.control.drift(account, symbol, 500)
    other = BrokerSession(settings_for(gw.host, gw.port, account), run_id="other", proof_timeout=3.0)

    async def scenario(r: Rig) -> None:
        await other.connect()
        try:
            stop, target = await levels(other, symbol)
            refs = await other.protect(symbol, 500, stop=stop, target=target)
            gw.control.drift(account, symbol, 0)
            await until(lambda: flat(r.session, symbol), what=f"{symbol} flat")
            first = await r.monitor.check_protection()
            assert first.actions == [] and len(first.errors) == 1
            assert (
                all(ref in first.errors[0] for ref in refs) and f"client {other.client_id}" in first.errors[0]
            )
            again = await r.monitor.check_protection()
            assert again.errors == []  # already reported: not again on every poll
            for ref in refs:
                await other.cancel(ref)
        finally:
            await other.close()

    run(rig, scenario)
    assert kinds(rig.ledger).count("naked_exit") == 1
    assert sum(a["title"].startswith(f"NAKED EXIT {symbol}") for a in read_alert_file(rig.alert_file)) == 1


def test_a_protection_repair_that_fails_alerts_a_human_and_closes_the_position(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    """A stop recorded off the symbol's tick ladder: the broker refuses the repair."""
    account, symbol = ACCOUNTS[4], "700"
    rig = make_rig(gw.host, gw.port, account, tmp_path, RiskLimits())
    gw.control.drift(account, symbol, 100)

    async def scenario(r: Rig) -> None:
        stop, target = await levels(r.session, symbol)
        record_position(r.ledger, account, symbol, 100, stop + Decimal("0.001"), target)
        report = await r.monitor.check_protection()
        assert report.actions == [f"flatten {symbol}"] and report.errors
        await until(lambda: flat(r.session, symbol), what=f"{symbol} flat")

    run(rig, scenario)
    assert {"protection_repair_failed", "unprotected_flattened"} <= set(kinds(rig.ledger))
    alerts = [a for a in read_alert_file(rig.alert_file) if a["title"].startswith("RE-PROTECT FAILED")]
    assert alerts and alerts[0]["severity"] == "critical"


def test_the_breaker_waits_briefly_for_a_held_exits_lease_then_flattens_without_it(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    """The breaker is the last line: a symbol lease held by a stuck process delays it by at most
    ``breaker_lease_wait``, after which it flattens and records that it overrode the lease."""
    account, symbol = ACCOUNTS[5], "388"
    state = tmp_path / "state"
    limits = RiskLimits(daily_loss_limit=Decimal("1"), daily_loss_fraction=None)
    rig = make_rig(gw.host, gw.port, account, tmp_path, limits, state_dir=state, breaker_lease_wait=0.5)
    gw.control.drift(account, symbol, 100)
    stuck = Lease(state, exits_lease_name(account, symbol), purpose="stuck", run_id="cycle-stuck")

    async def scenario(r: Rig) -> None:
        assert stuck.try_acquire()
        try:
            gw.control.move_price(symbol, pct=-5)
            report = await r.monitor.check_breaker()
            assert report.breaker is not None and report.breaker.tripped
            assert f"flatten {symbol}" in report.actions
        finally:
            stuck.release()
        await until(lambda: flat(r.session, symbol), what=f"{symbol} flat")

    run(rig, scenario)
    assert {"breaker_tripped", "breaker_lease_overridden", "breaker_flat"} <= set(kinds(rig.ledger))
    assert any(a["title"].startswith("CIRCUIT BREAKER TRIPPED") for a in read_alert_file(rig.alert_file))


def test_the_breaker_counts_only_its_own_accounts_fills(gw: GatewayHandle, tmp_path: Path) -> None:
    """One gateway login, two accounts: a loss in the other account is not this account's loss."""
    mine, other_account, symbol = ACCOUNTS[6], ACCOUNTS[7], "941"
    limits = RiskLimits(daily_loss_limit=Decimal("100"), daily_loss_fraction=None)
    rig = make_rig(gw.host, gw.port, mine, tmp_path, limits)
    other = BrokerSession(settings_for(gw.host, gw.port, other_account), run_id="other", proof_timeout=3.0)

    async def scenario(r: Rig) -> None:
        await other.connect()
        try:
            q = await other.quote(symbol)
            assert q.ask is not None
            buy = snap_to_tick(q.ask * Decimal("1.01"), "up", table=security(symbol).spread_table)
            (ref,) = await other.protect(symbol, -5000, stop=None, target=buy)  # a plain marketable buy
            assert await other.wait_for_order(ref, {"Filled"}, timeout=15) == "Filled"
            gw.control.move_price(symbol, pct=-5)
            await other.flatten(symbol)  # sold at a loss of thousands of HKD, in the other account
            await until(lambda: flat(other, symbol), what="the other account flat")
        finally:
            await other.close()
        report = await r.monitor.check_breaker()
        assert report.breaker is not None and not report.breaker.tripped, report.breaker
        assert report.pnl is not None and report.pnl.total == 0

    run(rig, scenario)
    assert "breaker_tripped" not in kinds(rig.ledger)


def test_a_gap_through_the_stop_right_after_a_re_protection_is_closed_at_once(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    """The stop-limit the monitor just placed triggers but cannot fill (the price gapped through its
    limit): the breach is closed now, not after the cooldown that only spaces exits."""
    account, symbol = ACCOUNTS[8], "5"
    rig = make_rig(gw.host, gw.port, account, tmp_path, RiskLimits(daily_loss_fraction=None))

    async def scenario(r: Rig) -> None:
        gw.control.drift(account, symbol, 400)
        stop, target = await levels(r.session, symbol)
        record_position(r.ledger, account, symbol, 400, stop, target)
        assert (await r.monitor.check_protection()).actions == [f"protect {symbol}"]
        gw.control.move_price(symbol, pct=-20)

        async def acted() -> list[str]:
            return (await r.monitor.check_quotes()).actions

        assert await until(acted, what="the breach acted on") == [f"flatten {symbol}"]
        await until(lambda: flat(r.session, symbol), what=f"{symbol} flat")

    run(rig, scenario)
    assert "level_breach_closed" in kinds(rig.ledger)


def test_a_flatten_ends_the_stop_and_target_another_client_left_working(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    """The chaos soak's naked exit: a cycle placed the bracket and exited; the price gaps through its
    stop-limit, which triggers but cannot fill, and the monitor closes the position. IB lets only the
    placing client cancel those legs, so the flatten joins their OCA group (type 3): its fill
    reduces them to nothing and nothing is left working on the flat symbol."""
    account, symbol = ACCOUNTS[10], "5"
    rig = make_rig(gw.host, gw.port, account, tmp_path, RiskLimits(daily_loss_fraction=None))
    cycle = BrokerSession(settings_for(gw.host, gw.port, account), run_id="cycle", proof_timeout=3.0)
    gw.control.drift(account, symbol, 400)

    async def scenario(r: Rig) -> None:
        await cycle.connect()
        try:
            stop, target = await levels(cycle, symbol)
            await cycle.protect(symbol, 400, stop=stop, target=target, oca_group="intent-x:OCA")
        finally:
            await cycle.close()  # the cycle has exited; its legs keep working at the broker
        record_position(r.ledger, account, symbol, 400, stop, target)
        gw.control.move_price(symbol, pct=-20)

        async def acted() -> list[str]:
            return (await r.monitor.check_quotes()).actions

        assert await until(acted, what="the breach acted on") == [f"flatten {symbol}"]
        await until(lambda: flat(r.session, symbol), what=f"{symbol} flat")

        async def nothing_works() -> bool:
            return working(gw, account, symbol) == []

        await until(nothing_works, what=f"no order left working on flat {symbol}")

    run(rig, scenario)
    assert "level_breach_closed" in kinds(rig.ledger)
    assert "foreign_orders_after_flatten" not in kinds(rig.ledger)


def test_a_new_position_in_a_symbol_just_flattened_is_acted_on_without_waiting_for_the_cooldown(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    """The cooldown spaces two exits of one position; once the broker reports the symbol flat, a new
    position there is a new case and is not left unprotected for the rest of the cooldown."""
    account, symbol = ACCOUNTS[9], "2388"
    rig = make_rig(gw.host, gw.port, account, tmp_path, RiskLimits())  # no levels recorded: it flattens

    async def scenario(r: Rig) -> None:
        gw.control.drift(account, symbol, 500)
        await until(lambda: _holds(r.session, symbol, 500), what=f"{symbol} held")
        assert (await r.monitor.check_protection()).actions == [f"flatten {symbol}"]
        await until(lambda: flat(r.session, symbol), what=f"{symbol} flat")
        gw.control.drift(account, symbol, 500)  # a new position a moment later
        await until(lambda: _holds(r.session, symbol, 500), what=f"{symbol} held again")
        assert (await r.monitor.check_protection()).actions == [f"flatten {symbol}"]
        await until(lambda: flat(r.session, symbol), what=f"{symbol} flat again")

    run(rig, scenario)
    assert kinds(rig.ledger).count("unprotected_flattened") == 2


async def _holds(session: BrokerSession, symbol: str, quantity: int) -> bool:
    positions = await session.positions()
    return int(positions[positions["symbol"] == symbol]["quantity"].sum()) == quantity
