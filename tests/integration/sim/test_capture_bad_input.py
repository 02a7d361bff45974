"""Bad input to `gateway record` and `gateway conform`: each a clear error naming what was wrong."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ib_async import IB
from sim_gateway_helpers import start_fresh_gateway
from typer.testing import CliRunner

from catalyst.cli.gateway import gateway_app
from catalyst.sim.capture.capture_file import read_capture
from catalyst.sim.capture.capture_proxy import ProxyThread

pytestmark = pytest.mark.integration

runner = CliRunner()


@pytest.fixture(scope="module")
def small_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A capture of an ib_async connect and disconnect, through the proxy, recorded by the CLI."""
    base = tmp_path_factory.mktemp("small")
    out = base / "small.jsonl"
    with start_fresh_gateway(base / "gw", ephemeral=True) as gw:
        recorder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from catalyst.cli.app import main; main()",
                "gateway",
                "record",
                "--upstream",
                f"{gw.host}:{gw.port}",
                "--listen",
                "0",
                "--out",
                str(out),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            assert recorder.stdout is not None
            line = "-"
            while line and "clients connect to" not in line:  # log lines may come first
                line = recorder.stdout.readline()
            assert "clients connect to 127.0.0.1:" in line, line + (
                recorder.stderr.read() if recorder.stderr else ""
            )
            port = int(line.split("clients connect to 127.0.0.1:")[1].split(";")[0])
            ib = IB()
            ib.connect("127.0.0.1", port, clientId=3, timeout=10)
            assert ib.managedAccounts() == ["DU0000001"]
            ib.disconnect()
        finally:
            os.killpg(recorder.pid, signal.SIGINT)  # Ctrl-C in a terminal: the whole process group
            recorder.wait(15)
    assert recorder.returncode == 0
    return out


def test_record_writes_a_complete_capture_and_stops_cleanly_on_ctrl_c(small_capture: Path) -> None:
    capture = read_capture(small_capture)
    assert capture.complete
    assert [s.server_version for s in capture.sessions] == [178]
    assert capture.sessions[0].frames[0].name == "startApi"


def _conform(path: Path) -> str:
    result = runner.invoke(gateway_app, ["conform", str(path)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return result.output


def test_a_truncated_capture_is_refused_naming_the_line(small_capture: Path, tmp_path: Path) -> None:
    text = small_capture.read_text(encoding="utf-8")
    cut = tmp_path / "cut.jsonl"
    cut.write_text(text[: len(text) // 2], encoding="utf-8")
    assert "is truncated: line" in _conform(cut)


def test_a_foreign_file_is_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "trades.csv"
    foreign.write_text("symbol,qty\n700,100\n", encoding="utf-8")
    assert "is not a capture of `catalyst gateway record`" in _conform(foreign)
    other_json = tmp_path / "other.jsonl"
    other_json.write_text(json.dumps({"type": "header", "format": "pcap"}) + "\n", encoding="utf-8")
    assert "is not a capture of `catalyst gateway record`" in _conform(other_json)
    assert "does not exist" in _conform(tmp_path / "nowhere.jsonl")


def _rewrite(path: Path, out: Path, **session: object) -> Path:
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["type"] == "session":
            record.update(session)
        lines.append(json.dumps(record))
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def test_a_capture_at_another_server_version_is_refused(small_capture: Path, tmp_path: Path) -> None:
    newer = _rewrite(small_capture, tmp_path / "v187.jsonl", server_version=187, client_versions="v157..187")
    message = _conform(newer)
    assert "server version 187" in message and "157..178" in message
    older = _rewrite(small_capture, tmp_path / "v176.jsonl", server_version=176)
    assert "negotiates 178" in _conform(older)


@contextlib.contextmanager
def _http_server() -> Iterator[int]:
    """Something listening that is not a TWS endpoint: it answers every connection with HTTP."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    conn.recv(1024)
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def test_an_upstream_that_is_not_a_tws_endpoint_is_reported(tmp_path: Path) -> None:
    out = tmp_path / "http.jsonl"
    with _http_server() as port, ProxyThread("127.0.0.1", port, out) as proxy:
        ib = IB()
        with pytest.raises((ConnectionError, TimeoutError, OSError)):
            ib.connect("127.0.0.1", proxy.port, clientId=1, timeout=4)
        ib.disconnect()
        deadline = time.monotonic() + 10
        while not proxy.proxy.errors and time.monotonic() < deadline:
            time.sleep(0.05)
        errors = proxy.proxy.errors
    assert errors and f"upstream 127.0.0.1:{port} is not a TWS endpoint" in errors[0]
    events = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert any(e.get("event") == "not-tws" for e in events)


def test_record_refuses_an_upstream_nobody_listens_on(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        free = int(probe.getsockname()[1])
    result = runner.invoke(
        gateway_app,
        ["record", "--upstream", f"127.0.0.1:{free}", "--listen", "0", "--out", str(tmp_path / "x.jsonl")],
    )
    assert result.exit_code == 1
    assert f"upstream 127.0.0.1:{free} cannot be reached" in result.output
    bad = runner.invoke(gateway_app, ["record", "--upstream", "gateway", "--out", str(tmp_path / "y.jsonl")])
    assert bad.exit_code == 1 and "--upstream takes HOST:PORT" in bad.output


def test_record_never_overwrites_a_capture(small_capture: Path) -> None:
    before = small_capture.read_bytes()
    result = runner.invoke(
        gateway_app, ["record", "--upstream", "127.0.0.1:4002", "--out", str(small_capture)]
    )
    assert result.exit_code == 1 and "already exists" in result.output
    assert small_capture.read_bytes() == before
