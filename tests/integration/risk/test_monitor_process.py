"""The monitor as a long-running process: the real loop rides out a gateway restart, and
`catalyst monitor` refuses a second instance and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from risk_sim_helpers import SIM_CLOCK, Rig, make_rig, run, ticks, until

from catalyst.domain import BracketIntent, Side
from catalyst.ledger import Ledger
from catalyst.market import board_lot
from catalyst.risk.alerts import read_alert_file
from catalyst.risk.limits import RiskLimits
from catalyst.risk.monitor_pidfile import running_monitor_pid
from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("risk_sim_process")]

ACCOUNTS = ("DU0000031", "DU0000032")
CATALYST = Path(sys.executable).with_name("catalyst")


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHandle]:
    handle = start_gateway(tmp_path_factory.mktemp("risk-gw-proc"), clock=SIM_CLOCK, accounts=ACCOUNTS)
    try:
        yield handle
    finally:
        handle.stop()


def count(ledger: Ledger, table: str) -> int:
    return int(ledger.scalar(f"SELECT count(*) FROM {table}"))


def test_the_monitor_loop_reconnects_after_a_gateway_restart_and_loses_nothing(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    account = ACCOUNTS[0]
    rig = make_rig(
        gw.host,
        gw.port,
        account,
        tmp_path,
        RiskLimits(),
        quote_interval=0.2,
        poll_interval=0.5,
        sync_interval=0.5,
        down_alert_after=0.3,
    )

    async def scenario(r: Rig) -> dict[str, int]:
        q = await r.session.quote("3988")
        assert q.bid is not None
        entry = ticks(q.bid, -20, "3988")  # resting: stays open through the restart
        intent = BracketIntent.snapped(
            "proc-rst-1",
            "3988",
            Side.BUY,
            board_lot("3988"),
            entry,
            entry * Decimal("0.9"),
            ticks(q.ask, 20, "3988"),
        )
        await r.session.submit_bracket(intent)
        stop = asyncio.Event()
        loop_task = asyncio.create_task(r.monitor.run(stop, tick=0.1))
        await until(lambda: _recons(r.ledger, 1), what="the first reconciliation")
        before = {t: count(r.ledger, t) for t in ("intents", "orders", "order_events", "reconciliations")}
        await asyncio.to_thread(gw.control.fault, "restart", True, seconds=1.5)
        await until(lambda: _reconnected(r), timeout=20, what="a reconnect")
        await until(
            lambda: _recons(r.ledger, before["reconciliations"] + 1),
            timeout=20,
            what="a reconciliation after the reconnect",
        )
        stop.set()
        await asyncio.wait_for(loop_task, 10)
        return before

    before = run(rig, scenario)
    after = {t: count(rig.ledger, t) for t in before}
    assert all(after[t] >= before[t] for t in before), (before, after)
    titles = [a["title"] for a in read_alert_file(rig.alert_file)]
    assert any(t.startswith("GATEWAY DOWN") for t in titles) and any(
        t.startswith("Gateway back") for t in titles
    )
    statuses = {
        o["order_ref"]: o["status"] for o in gw.control.orders() if o["order_ref"].startswith("proc-rst-1")
    }
    assert statuses["proc-rst-1:P"] in ("PreSubmitted", "Submitted")
    ledger_status = rig.ledger.scalar("SELECT status FROM orders WHERE order_ref = 'proc-rst-1:P'")
    assert ledger_status in ("PreSubmitted", "Submitted")


async def _recons(ledger: Ledger, at_least: int) -> bool:
    return await asyncio.to_thread(count, ledger, "reconciliations") >= at_least


async def _reconnected(r: Rig) -> bool:
    return r.session.connection.reconnects >= 1 and r.session.is_ready


def test_catalyst_monitor_refuses_a_second_instance_and_stops_cleanly_on_sigterm(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    env = {
        **os.environ,
        "CATALYST_MODE": "sim",
        "CATALYST_BROKER__HOST": gw.host,
        "CATALYST_BROKER__PORT": str(gw.port),
        "CATALYST_BROKER__ACCOUNT": ACCOUNTS[1],
        "CATALYST_BROKER__CLIENT_ID": "40",
        "CATALYST_PATHS__STATE_DIR": str(state),
        "CATALYST_PATHS__LEDGER": str(state / "ledger.duckdb"),
        "CATALYST_ALERTS__ALERT_FILE": str(state / "alerts.jsonl"),
    }
    env.pop("CATALYST_CONFIG", None)
    output = tmp_path / "monitor.out"  # a file, not a pipe: an undrained pipe fills and blocks the monitor
    with output.open("wb") as out:
        first = subprocess.Popen(
            [str(CATALYST), "monitor", "--poll-interval", "1"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while running_monitor_pid(state, ACCOUNTS[1]) != first.pid:
            assert first.poll() is None, output.read_text()
            assert time.monotonic() < deadline, "the monitor did not take its lock within 60 s"
            time.sleep(0.1)
        second = subprocess.run(
            [str(CATALYST), "monitor"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 3
        assert "already running" in second.stderr and str(first.pid) in second.stderr
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert running_monitor_pid(state, ACCOUNTS[1]) is None
    runs = Ledger(state / "ledger.duckdb").query("SELECT kind, status FROM runs")
    assert runs.to_dict("records") == [{"kind": "monitor", "status": "ok"}]
