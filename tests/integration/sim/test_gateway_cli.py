"""`catalyst gateway start|status|fault|stop`, and the gateway's life cycle as a process."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from ib_async import LimitOrder, Stock
from sim_gateway_helpers import TRADING_CLOCK, connect, start_fresh_gateway, wait_until
from typer.testing import CliRunner

from catalyst.cli.gateway import gateway_app
from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway

pytestmark = pytest.mark.integration

runner = CliRunner()


def test_start_detached_status_fault_and_stop(tmp_path: Path) -> None:
    state = str(tmp_path / "sim")
    started = runner.invoke(
        gateway_app,
        ["start", "--detach", "--port", "0", "--state", state, "--clock", TRADING_CLOCK, "--fresh"],
    )
    assert started.exit_code == 0, started.output
    assert re.search(r"listening on 127\.0\.0\.1:\d+", started.output)
    info = json.loads((tmp_path / "sim" / "gateway.json").read_text())
    assert int((tmp_path / "sim" / "gateway.pid").read_text()) == info["pid"]
    try:
        status = runner.invoke(gateway_app, ["status", "--state", state])
        assert status.exit_code == 0 and f"127.0.0.1:{info['port']}" in status.output
        switched = runner.invoke(
            gateway_app, ["fault", "latency", "on", "--param", "ms=50", "--state", state]
        )
        assert switched.exit_code == 0 and "latency" in switched.output
        as_json = json.loads(runner.invoke(gateway_app, ["status", "--state", state, "--json"]).output)
        assert as_json["faults"] == {"latency": {"ms": 50}}
    finally:
        stopped = runner.invoke(gateway_app, ["stop", "--state", state])
    assert stopped.exit_code == 0, stopped.output
    assert not (tmp_path / "sim" / "gateway.json").exists()
    assert (tmp_path / "sim" / "sim_state.duckdb").exists()


def test_foreground_start_prints_where_it_listens_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    command = "from catalyst.cli.gateway import gateway_app; gateway_app()"
    args = ["start", "--port", "0", "--state", str(tmp_path), "--clock", TRADING_CLOCK, "--fresh"]
    proc = subprocess.Popen(
        [sys.executable, "-c", command, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    lines: list[str] = []
    while not any("listening on" in line for line in lines):
        line = proc.stdout.readline()
        assert line, f"gateway exited early: {lines}"
        lines.append(line)
    assert re.search(r"listening on 127\.0\.0\.1:\d+", "".join(lines))
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    assert (tmp_path / "sim_state.duckdb").exists() and not (tmp_path / "gateway.pid").exists()


def test_status_of_a_stopped_gateway_says_not_running(tmp_path: Path) -> None:
    result = runner.invoke(gateway_app, ["status", "--state", str(tmp_path)])
    assert result.exit_code == 3 and "not running" in result.output


def test_unknown_fault_is_refused_with_the_list_of_faults(tmp_path: Path) -> None:
    result = runner.invoke(gateway_app, ["fault", "meteor", "on", "--state", str(tmp_path)])
    assert result.exit_code == 1 and "drop-children" in result.output


def test_sigterm_stops_cleanly_and_a_restart_keeps_orders_and_clock(tmp_path: Path) -> None:
    handle = start_fresh_gateway(tmp_path)
    ib = connect(handle)
    [c] = ib.qualifyContracts(Stock("700", "SEHK", "HKD"))
    bid = ib.reqTickers(c)[0].bid
    trade = ib.placeOrder(c, LimitOrder("BUY", 100, round(bid - 11, 1), orderRef="kept", tif="GTC"))
    assert wait_until(ib, lambda: trade.orderStatus.status == "Submitted")
    ib.disconnect()
    handle.control.advance(600)
    clock_before = handle.control.status()["clock"]
    os.kill(handle.pid, signal.SIGTERM)
    assert handle.process is not None and handle.process.wait(15) == 0
    assert not (tmp_path / "gateway.json").exists()

    again: GatewayHandle = start_gateway(tmp_path, fresh=False)  # clock "auto": a restart keeps its clock
    try:
        assert again.control.status()["clock"] >= clock_before
        ib = connect(again)
        assert any(t.order.orderRef == "kept" for t in ib.reqAllOpenOrders())
        ib.disconnect()
    finally:
        again.stop()


def test_a_clock_earlier_than_the_saved_state_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    from datetime import datetime

    from catalyst.sim.engine.exchange import Exchange
    from catalyst.sim.gateway.gateway_main import STATE_FILE

    saved_at = datetime.fromisoformat("2026-11-24T11:00:00+08:00")
    Exchange(start=saved_at, speed=0, state_path=tmp_path / STATE_FILE).close()
    args = ["--state", str(tmp_path), "--port", "0", "--clock", TRADING_CLOCK]  # 10:00, an hour earlier
    done = subprocess.run(
        [sys.executable, "-m", "catalyst.sim.gateway.gateway_main", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "has its clock at 2026-11-24T11:00:00+08:00" in done.stderr
    assert f"--clock {TRADING_CLOCK} is earlier" in done.stderr
    assert "--fresh" in done.stderr
    assert not (tmp_path / "gateway.json").exists()
