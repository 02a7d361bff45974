"""Finding 1 of issue 10, as a trader meets it: default settings (no account configured), the
simulator, and the real `catalyst monitor`, `catalyst risk status` and `catalyst cycle` processes.
Every one of them must act for the account the gateway manages, so a breaker the monitor trips stops
the next cycle, and the monitor finds the stop and target the cycle recorded."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from cycle_cli_project import (
    CYCLE_PARAMS,
    SIM_CLOCK,
    CliProject,
    project_env,
    stop_process,
    wait_until,
)

from catalyst.broker import BrokerSession
from catalyst.config import BrokerSettings, Settings
from catalyst.domain import BracketIntent, Side
from catalyst.market import security, ticks_from
from catalyst.sim.gateway.launcher import start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("cycle_cli")]

ACCOUNT = "DU0000001"  # the simulator's one account; never configured below
WORKING = {"PreSubmitted", "Submitted"}


@pytest.fixture
def project(tmp_path: Path) -> Iterator[CliProject]:
    root = tmp_path / "project"
    root.mkdir()
    handle = start_gateway(tmp_path / "gw", clock=SIM_CLOCK, accounts=(ACCOUNT,))
    try:
        yield CliProject(
            root=root,
            gateway=handle,
            env=project_env(root, handle, CATALYST_RISK__DAILY_LOSS_LIMIT_HKD="1000"),
        )
    finally:
        handle.stop()


def open_filled_bracket(project: CliProject, intent_id: str, symbol: str, quantity: int) -> BracketIntent:
    """What an earlier cycle left: a proven bracket whose entry filled, recorded in the project's
    ledger by a session in the default settings (client id 9)."""
    settings = Settings(
        mode="sim", broker=BrokerSettings(host=project.gateway.host, port=project.gateway.port, client_id=9)
    )
    assert settings.broker.account == ""

    async def main() -> BracketIntent:
        session = BrokerSession(settings, ledger=project.ledger, run_id="earlier-cycle", proof_timeout=5.0)
        await session.connect()
        try:
            q = await session.quote(symbol)
            assert q.ask is not None
            entry = q.ask * Decimal("1.01")  # marketable: fills at once
            target = ticks_from(q.ask, 20, "up", table=security(symbol).spread_table)  # quotation rule
            intent = BracketIntent.snapped(
                intent_id,
                symbol,
                Side.BUY,
                quantity,
                entry,
                entry * Decimal("0.9"),
                target,
            )
            await session.submit_bracket(intent)
            assert await session.wait_for_order(intent.order_ref("P"), {"Filled"}, timeout=15) == "Filled"
            return intent
        finally:
            await session.close()

    return asyncio.run(main())


def risk_kinds(project: CliProject) -> list[str]:
    return list(project.ledger.query("SELECT kind FROM risk_events ORDER BY ts")["kind"])


def test_a_breaker_tripped_by_catalyst_monitor_halts_risk_status_and_the_next_catalyst_cycle(
    project: CliProject, tmp_path: Path
) -> None:
    open_filled_bracket(project, "acct-brk-1", "388", 100)
    monitor = project.start("monitor", "--poll-interval", "1", log=tmp_path / "monitor.log")
    try:

        def monitor_alive() -> None:
            assert monitor.poll() is None, (tmp_path / "monitor.log").read_text()

        wait_until(
            lambda: project.gateway.control.status()["clients"],
            timeout=60,
            what="the monitor's connection",
            alive=monitor_alive,
        )
        project.gateway.control.move_price("388", pct=-8)  # a loss beyond HK$1,000, short of the stop
        wait_until(
            lambda: "breaker_tripped" in risk_kinds(project),
            timeout=120,
            what="the monitor to trip the breaker",
            alive=monitor_alive,
        )
        status = project.catalyst("risk", "status")
        assert status.returncode == 0, status.stderr
        assert ACCOUNT in status.stdout and "HALTED" in status.stdout, status.stdout

        entries_before = len(project.entries())
        cycle = project.catalyst("cycle", "--no-progress", *CYCLE_PARAMS)
        assert len(project.entries()) == entries_before, (
            "a cycle sent entries while the breaker was tripped:\n" + cycle.stdout + cycle.stderr
        )
        refusals = project.ledger.query(
            "SELECT account, detail FROM risk_events WHERE kind = 'pretrade_rejected'"
        )
        assert set(refusals["account"]) <= {ACCOUNT}
    finally:
        stop_process(monitor)
    accounts = project.ledger.query("SELECT DISTINCT coalesce(account, '') AS a FROM risk_events")
    assert list(accounts["a"]) == [ACCOUNT], "risk state was recorded under another account than the broker's"


def test_catalyst_monitor_recreates_a_missing_leg_from_the_levels_the_cycle_recorded(
    project: CliProject, tmp_path: Path
) -> None:
    intent = open_filled_bracket(project, "acct-leg-1", "2800", 500)

    async def lose_target() -> None:  # the target disappears at the broker (cancelled by its client)
        settings = Settings(
            mode="sim",
            broker=BrokerSettings(host=project.gateway.host, port=project.gateway.port, client_id=9),
        )
        session = BrokerSession(settings, ledger=project.ledger, run_id="earlier-cycle")
        await session.connect()
        try:
            await session.cancel(intent.order_ref("TP"))
        finally:
            await session.close()

    asyncio.run(lose_target())
    monitor = project.start("monitor", "--poll-interval", "1", log=tmp_path / "monitor.log")
    try:

        def monitor_alive() -> None:
            assert monitor.poll() is None, (tmp_path / "monitor.log").read_text()

        wait_until(
            lambda: {"protection_recreated", "unprotected_flattened"} & set(risk_kinds(project)),
            timeout=120,
            what="the monitor to act on the unprotected 2800 position",
            alive=monitor_alive,
        )
    finally:
        stop_process(monitor)
    messages = project.ledger.query("SELECT kind, message FROM risk_events ORDER BY ts")
    assert not any("no stop/target recorded" in m for m in messages["message"]), messages.to_dict("records")
    assert "protection_recreated" in list(messages["kind"]), messages.to_dict("records")
    positions = project.gateway.control.positions(ACCOUNT)
    assert [(p["symbol"], p["quantity"]) for p in positions] == [("2800", intent.quantity)]
    working = sorted(
        (o["action"], o["order_type"])
        for o in project.gateway.control.orders()
        if o["symbol"] == "2800" and o["status"] in WORKING
    )
    assert working == [("SELL", "LMT"), ("SELL", "STP LMT")]
