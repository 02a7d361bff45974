"""Benchmark of the recording TWS proxy (`catalyst gateway record`): what it adds to a session.

One simulated gateway (in memory) and one recording proxy in front of it, each its own process as
in real use; a bare TWS-framing socket client measures, side by side in one run, a direct
connection and one through the proxy (which writes every frame to its capture file meanwhile):

- round trip: reqCurrentTime -> currentTime and placeOrder -> orderStatus, one at a time,
  alternating direct and proxied requests so both see the same machine load (p50, p99, and the
  difference = what the proxy adds);
- throughput: pipelined reqCurrentTime, frames/second in both directions.

Goal (issue 14): p99 added < 1 ms, throughput within 20 % of direct. Writes its section of
BENCHMARKS.md between its own markers. Reproduce: `.venv/bin/python -m benchmarks.bench_proxy`
(`--no-write` to only print).
"""

from __future__ import annotations

import dataclasses
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_gateway import RawClient, order_frame, place_order_template
from benchmarks.benchmarks_md import write_section
from catalyst.sim.capture.capture_file import read_capture
from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway
from catalyst.sim.gateway.wire_framing import encode_frame

CLOCK = "2026-11-24T10:00:00+08:00"
TIME_TRIPS = 2000
ORDER_TRIPS = 300
PIPELINED = 20_000
GOAL_ADDED_P99_MS = 1.0
GOAL_THROUGHPUT_RATIO = 0.8


def start_recorder(handle: GatewayHandle, out: Path) -> tuple[subprocess.Popen[str], int]:
    recorder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from catalyst.cli.app import main; main()",
            "gateway",
            "record",
            "--upstream",
            f"{handle.host}:{handle.port}",
            "--listen",
            "0",
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert recorder.stdout is not None
    line = "-"
    while line and "clients connect to" not in line:
        line = recorder.stdout.readline()
    if not line:
        raise RuntimeError("the recorder did not start")
    return recorder, int(line.split("clients connect to 127.0.0.1:")[1].split(";")[0])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def time_trip(client: RawClient) -> float:
    t0 = time.perf_counter()
    client.sock.sendall(encode_frame(["49", "1"]))
    client.until(lambda f: f[0] == "49")
    return time.perf_counter() - t0


def order_trip(client: RawClient, template: list[str]) -> float:
    oid = client.next_id
    client.next_id += 1
    t0 = time.perf_counter()
    client.sock.sendall(order_frame(template, oid))
    client.until(lambda f: f[0] == "3" and f[1] == str(oid))
    elapsed = time.perf_counter() - t0
    client.sock.sendall(encode_frame(["4", "1", str(oid), ""]))
    client.until(lambda f: f[0] == "3" and f[1] == str(oid) and f[2] == "Cancelled")
    return elapsed


def alternate(direct: RawClient, proxied: RawClient, trip: object, n: int) -> tuple[list[float], list[float]]:
    d: list[float] = []
    p: list[float] = []
    for i in range(n):
        first, second = (direct, proxied) if i % 2 == 0 else (proxied, direct)
        a, b = trip(first), trip(second)  # type: ignore[operator]
        (d if first is direct else p).append(a)
        (p if first is direct else d).append(b)
    return d, p


def pipelined(client: RawClient, n: int) -> float:
    frame = encode_frame(["49", "1"])
    t0 = time.perf_counter()
    client.sock.sendall(frame * n)
    for _ in range(n):
        client.until(lambda f: f[0] == "49")
    return 2 * n / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    write = "--no-write" not in (argv if argv is not None else sys.argv[1:])
    template = place_order_template()
    with tempfile.TemporaryDirectory(prefix="bench-proxy-") as tmp:
        handle = start_gateway(Path(tmp) / "gw", clock=CLOCK, ephemeral=True)
        capture = Path(tmp) / "capture.jsonl"
        recorder, port = start_recorder(handle, capture)
        try:
            via = dataclasses.replace(handle, port=port, process=None)
            direct, proxied = RawClient(handle, 911), RawClient(via, 912)
            proxied.next_id = direct.next_id + 1_000_000  # order ids of the two sessions never collide
            for _ in range(200):  # warm up both paths
                time_trip(direct), time_trip(proxied)
            t_direct, t_proxied = alternate(direct, proxied, time_trip, TIME_TRIPS)
            o_direct, o_proxied = alternate(direct, proxied, lambda c: order_trip(c, template), ORDER_TRIPS)
            rates = {}
            for name, client in (("direct", direct), ("proxied", proxied), ("direct again", direct)):
                rates[name] = pipelined(client, PIPELINED)
            direct.close()
            proxied.close()
        finally:
            recorder.send_signal(signal.SIGINT)
            recorder.wait(30)
            handle.stop()
        recorded = read_capture(capture)
        frames = sum(len(s.frames) for s in recorded.sessions)
        size_mb = capture.stat().st_size / 1e6
    rows = []

    def row(label: str, d: list[float], p: list[float], q: float) -> tuple[float, str]:
        dq, pq = percentile(d, q) * 1e3, percentile(p, q) * 1e3
        rows.append(f"| {label} | {dq:.3f} ms | {pq:.3f} ms | {pq - dq:+.3f} ms | {pq / dq:.2f}x |")
        return pq - dq, label

    added = [
        row("reqCurrentTime round trip, p50", t_direct, t_proxied, 0.50)[0],
        row("reqCurrentTime round trip, p99", t_direct, t_proxied, 0.99)[0],
        row("placeOrder -> orderStatus, p50", o_direct, o_proxied, 0.50)[0],
        row("placeOrder -> orderStatus, p99", o_direct, o_proxied, 0.99)[0],
    ]
    direct_rate = (rates["direct"] + rates["direct again"]) / 2
    ratio = rates["proxied"] / direct_rate
    rows.append(
        f"| pipelined reqCurrentTime, frames/s (in+out) | {direct_rate:,.0f} | {rates['proxied']:,.0f} "
        f"| {rates['proxied'] - direct_rate:+,.0f} | {ratio:.2f}x |"
    )
    worst_p99 = max(added[1], added[3])
    latency_verdict = "meets" if worst_p99 < GOAL_ADDED_P99_MS else "misses"
    load = os.getloadavg()[0]
    throughput_verdict = "meets" if ratio >= GOAL_THROUGHPUT_RATIO else "misses"
    machine = f"{platform.machine()} / Python {platform.python_version()}"
    text = f"""## Recording TWS proxy (`benchmarks/bench_proxy.py`)

One in-memory simulated gateway and `catalyst gateway record` in front of it (with its recorder
process), each its own process, measured side by side in one run on {machine}
by a bare TWS-framing socket client: {TIME_TRIPS:,} reqCurrentTime and {ORDER_TRIPS} placeOrder round
trips one at a time, alternating direct and proxied requests (so both see the same load), then
{PIPELINED:,} pipelined reqCurrentTime per connection (direct measured before and after the proxied
run, averaged). The proxy wrote {frames:,} frames ({size_mb:.1f} MB) to its capture meanwhile.

| measure | direct | through the proxy | added | ratio |
|---|---|---|---|---|
{chr(10).join(rows)}

Goal: p99 added < {GOAL_ADDED_P99_MS:.0f} ms: **{latency_verdict}** (worst p99 added
{worst_p99:+.3f} ms). Throughput within 20 %: **{throughput_verdict}**
({ratio:.2f}x of direct). The proxy only forwards, in the event loop's socket callbacks
(`asyncio.Protocol`: the bytes one socket delivers are written to the other in the same callback,
no coroutine to wake): each chunk goes out first, then a copy goes down a 1 MB pipe to the
recorder process (nice 19), which parses, redacts and writes it, and catches up when the session
is quiet. What the proxy adds is one loopback hop per direction (the p50 column); at p99 both
columns are dominated by the shared machine's scheduling (2 cores, load {load:.1f} when measured:
a third process in the path waits its turn more often), so the p99 "added" figure moves between
runs. The streams-and-tasks proxy it replaced added +0.151 ms at p50, +3.720 ms at p99 and reached
0.67x of direct throughput, measured the same way on this machine (load about 9). Reproduce:
`.venv/bin/python -m benchmarks.bench_proxy`.
"""
    print(text)
    if write:
        write_section("bench_proxy", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
