"""`catalyst monitor` in the default settings (no broker.account): it connects first and guards the
account the gateway session resolved, so its pid lock, its runs row and its risk events carry that
account; a login with several accounts and none configured is refused before anything is locked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from risk_sim_helpers import SIM_CLOCK

from catalyst.ledger import Ledger
from catalyst.risk.monitor_pidfile import running_monitor_pid, running_monitors
from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("risk_monitor_account")]

CATALYST = Path(sys.executable).with_name("catalyst")


@pytest.fixture(scope="module")
def one(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHandle]:
    handle = start_gateway(tmp_path_factory.mktemp("mon-one"), clock=SIM_CLOCK, accounts=("DU0000051",))
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHandle]:
    handle = start_gateway(
        tmp_path_factory.mktemp("mon-two"), clock=SIM_CLOCK, accounts=("DU0000052", "DU0000053")
    )
    try:
        yield handle
    finally:
        handle.stop()


def env_for(gw: GatewayHandle, root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALYST_")}
    env.update(
        {"CATALYST_PATHS__ROOT": str(root), "CATALYST_MODE": "sim", "CATALYST_SIM__PORT": str(gw.port)}
    )
    return env


def test_a_login_with_several_accounts_and_none_configured_is_refused_before_any_lock(
    two: GatewayHandle, tmp_path: Path
) -> None:
    done = subprocess.run(
        [str(CATALYST), "monitor"],
        cwd=tmp_path,
        env=env_for(two, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "DU0000052, DU0000053" in done.stderr and "broker.account" in done.stderr
    assert "Traceback" not in done.stderr
    assert running_monitors(tmp_path / "state") == {}
    assert not list((tmp_path / "state").glob("monitor-*.pid"))
    assert Ledger(tmp_path / "state" / "ledger.duckdb").scalar("SELECT count(*) FROM runs") == 0


def test_the_monitor_locks_and_records_the_sessions_account_and_a_second_one_is_refused(
    one: GatewayHandle, tmp_path: Path
) -> None:
    env = env_for(one, tmp_path)
    state = tmp_path / "state"
    first = subprocess.Popen(
        [str(CATALYST), "monitor", "--poll-interval", "1"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        while running_monitor_pid(state, "DU0000051") != first.pid:
            assert first.poll() is None, first.stdout.read().decode() if first.stdout else ""
            assert time.monotonic() < deadline, "the monitor did not lock its account within 90 s"
            time.sleep(0.1)
        assert running_monitor_pid(state, "") is None  # nothing under "(default)"
        second = subprocess.run(
            [str(CATALYST), "monitor", "--client-id", "77"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 3, second.stdout + second.stderr
        assert "already running" in second.stderr and str(first.pid) in second.stderr
        assert "DU0000051" in second.stderr
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    runs = Ledger(state / "ledger.duckdb").query("SELECT kind, account, status FROM runs")
    assert runs.to_dict("records") == [{"kind": "monitor", "account": "DU0000051", "status": "ok"}]


def test_a_monitor_started_while_the_gateway_is_down_alerts_and_stops_cleanly(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALYST_")}
    env.update(
        {"CATALYST_PATHS__ROOT": str(tmp_path), "CATALYST_MODE": "sim", "CATALYST_SIM__PORT": str(port)}
    )
    proc = subprocess.Popen(
        [str(CATALYST), "monitor", "--down-alert-after", "1"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    alerts = tmp_path / "state" / "alerts.jsonl"
    try:
        deadline = time.monotonic() + 90
        while not (alerts.exists() and "GATEWAY DOWN" in alerts.read_text()):
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "no gateway-down alert within 90 s"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "stopped before connecting" in out
    assert running_monitors(tmp_path / "state") == {}
