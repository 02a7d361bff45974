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
import statistics
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
ROUNDS = 5
TIME_TRIPS = 1000  # per round
ORDER_TRIPS = 150  # per round
PIPELINED = 10_000  # per connection and round
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


def measure_round(direct: RawClient, proxied: RawClient, template: list[str]) -> dict[str, float]:
    """One round: alternating round trips (ms at p50 and p99) and pipelined rates, direct and proxied."""
    t_direct, t_proxied = alternate(direct, proxied, time_trip, TIME_TRIPS)
    o_direct, o_proxied = alternate(direct, proxied, lambda c: order_trip(c, template), ORDER_TRIPS)
    before, through, after = (pipelined(c, PIPELINED) for c in (direct, proxied, direct))
    out = {"rate direct": (before + after) / 2, "rate proxied": through}
    for name, d, p in (("time", t_direct, t_proxied), ("order", o_direct, o_proxied)):
        for q in (0.50, 0.99):
            out[f"{name} p{q * 100:.0f} direct"] = percentile(d, q) * 1e3
            out[f"{name} p{q * 100:.0f} proxied"] = percentile(p, q) * 1e3
    return out


def run_rounds() -> tuple[list[dict[str, float]], int, float]:
    """Every round against one gateway and one recording proxy; the frames and MB it recorded."""
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
            rounds = [measure_round(direct, proxied, template) for _ in range(ROUNDS)]
            direct.close()
            proxied.close()
        finally:
            recorder.send_signal(signal.SIGINT)
            recorder.wait(30)
            handle.stop()
        recorded = read_capture(capture)
        return rounds, sum(len(s.frames) for s in recorded.sessions), capture.stat().st_size / 1e6


def _worst_p99_added(r: dict[str, float]) -> float:
    return max(r["time p99 proxied"] - r["time p99 direct"], r["order p99 proxied"] - r["order p99 direct"])


def main(argv: list[str] | None = None) -> int:
    write = "--no-write" not in (argv if argv is not None else sys.argv[1:])
    rounds, frames, size_mb = run_rounds()
    med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    rows = []
    added = []
    for label, key in (
        ("reqCurrentTime round trip, p50", "time p50"),
        ("reqCurrentTime round trip, p99", "time p99"),
        ("placeOrder -> orderStatus, p50", "order p50"),
        ("placeOrder -> orderStatus, p99", "order p99"),
    ):
        d, p = med[f"{key} direct"], med[f"{key} proxied"]
        rows.append(f"| {label} | {d:.3f} ms | {p:.3f} ms | {p - d:+.3f} ms | {p / d:.2f}x |")
        added.append(p - d)
    direct_rate, proxied_rate = med["rate direct"], med["rate proxied"]
    ratio = proxied_rate / direct_rate
    rows.append(
        f"| pipelined reqCurrentTime, frames/s (in+out) | {direct_rate:,.0f} | {proxied_rate:,.0f} "
        f"| {proxied_rate - direct_rate:+,.0f} | {ratio:.2f}x |"
    )
    worst_p99 = max(added[1], added[3])
    per_round = ", ".join(f"{_worst_p99_added(r):+.2f}" for r in rounds)
    latency_verdict = "meets" if worst_p99 < GOAL_ADDED_P99_MS else "misses"
    load = os.getloadavg()[0]
    throughput_verdict = "meets" if ratio >= GOAL_THROUGHPUT_RATIO else "misses"
    machine = f"{platform.machine()} / Python {platform.python_version()}"
    text = f"""## Recording TWS proxy (`benchmarks/bench_proxy.py`)

One in-memory simulated gateway and `catalyst gateway record` in front of it (with its recorder
process), each its own process, measured side by side in one run on {machine}
by a bare TWS-framing socket client, in {ROUNDS} rounds of {TIME_TRIPS:,} reqCurrentTime and {ORDER_TRIPS}
placeOrder round trips one at a time, alternating direct and proxied requests (so both see the same
load), then {PIPELINED:,} pipelined reqCurrentTime per connection (direct measured before and after
the proxied run, averaged). Each figure is the median of the rounds' figures (a single round's p99
on this shared machine moves by milliseconds with what else runs). The proxy wrote {frames:,} frames
({size_mb:.1f} MB) to its capture meanwhile.

| measure | direct | through the proxy | added | ratio |
|---|---|---|---|---|
{chr(10).join(rows)}

Goal: p99 added < {GOAL_ADDED_P99_MS:.0f} ms: **{latency_verdict}** (worst p99 added
{worst_p99:+.3f} ms; per round, the worse of the two p99s: {per_round} ms).
Throughput within 20 %: **{throughput_verdict}** ({ratio:.2f}x of direct).

The proxy only forwards, in the event loop's socket callbacks (`asyncio.Protocol`: the bytes one
socket delivers are written to the other in the same callback, no coroutine to wake): each chunk
goes out first; the copies are gathered and handed every 50 ms down a 1 MB pipe to the recorder
process (nice 19), which parses, redacts and writes them, so the forwarding path pays for no pipe
write and no recorder wake-up. What the proxy adds is one loopback hop per direction (the p50
column); at p99 both columns are dominated by the shared machine's scheduling (2 cores, load
{load:.1f} when measured: a third process in the path waits its turn more often, and on a busy
machine each of its two turns per round trip can cost a scheduler slice). The streams-and-tasks
proxy it replaced added +0.151 ms at p50, +3.720 ms at p99 and reached 0.67x of direct
throughput, measured the same way on this machine (load about 9). Reproduce:
`.venv/bin/python -m benchmarks.bench_proxy`.
"""
    print(text)
    if write:
        write_section("bench_proxy", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
