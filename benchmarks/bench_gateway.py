"""Benchmark of the simulated IB Gateway on loopback: order acknowledgement latency and throughput.

Runs the gateway as a separate process (as tests and `catalyst gateway start` do) twice, side by
side in one run: with its DuckDB state file (the default) and in memory (``--ephemeral``). A bare
socket client speaking the TWS framing drives it, so the figures are the gateway's, not ib_async's
(the placeOrder frame is the one ib_async 2.1.0 writes, captured once).

- place-order -> acknowledgement: one order at a time, time from sending placeOrder to receiving
  its orderStatus (median, p99), each followed by its cancel;
- sustained messages/second: pipelined reqCurrentTime (1 in, 1 out per request) and pipelined
  place+cancel pairs (2 in, 5 out per pair: openOrder, orderStatus twice, error 202), counting
  frames in both directions.

Goal (issue 3): at least 5,000 messages a second. Writes its section of BENCHMARKS.md between its
own markers. Reproduce: `.venv/bin/python -m benchmarks.bench_gateway` (`--no-write` to only print).
"""

from __future__ import annotations

import platform
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.benchmarks_md import write_section
from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway
from catalyst.sim.gateway.wire_framing import FrameReader, encode_frame, encode_raw_frame, split_fields

CLOCK = "2026-11-24T10:00:00+08:00"
GOAL_MSGS_PER_S = 5000
LATE_AFTER = 10_000  # orders placed and cancelled before the "late" place+cancel measurement


#: A benchmark waits this long for an answer, then fails saying so (it never hangs).
ANSWER_TIMEOUT_S = 60.0


class RawClient:
    def __init__(self, handle: GatewayHandle, client_id: int) -> None:
        self.sock = socket.create_connection((handle.host, handle.port), timeout=ANSWER_TIMEOUT_S)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = FrameReader()
        self.pending: list[list[str]] = []
        self.received = 0
        self.sock.sendall(b"API\0" + encode_raw_frame(b"v157..178"))
        self.next_frame()
        self.sock.sendall(encode_frame(["71", "2", str(client_id), ""]))
        self.next_id = int(self.until(lambda f: f[0] == "9")[2])

    def next_frame(self) -> list[str]:
        while not self.pending:
            try:
                data = self.sock.recv(1 << 20)
            except TimeoutError:
                raise TimeoutError(f"no answer from the gateway in {ANSWER_TIMEOUT_S:.0f} s") from None
            if not data:
                raise ConnectionError("gateway closed the connection")
            self.pending.extend(split_fields(p) for p in self.reader.feed(data))
        self.received += 1
        return self.pending.pop(0)

    def until(self, match: Any) -> list[str]:
        while True:
            fields = self.next_frame()
            if match(fields):
                return fields

    def close(self) -> None:
        self.sock.close()


def resting_buy_price(clock: str = CLOCK, seed: int = 7) -> float:
    """Five ticks below Bank of China's bid at ``clock`` on the simulator's tape: a buy there rests
    (it neither fills nor breaks HKEX's quotation rule, 24 spreads from the best bid)."""
    from datetime import datetime

    from catalyst.market import ticks_from
    from catalyst.sim.engine.prices import PriceModel

    at = datetime.fromisoformat(clock)
    bid = PriceModel(seed).touch("3988", at.timestamp())[0]
    return float(ticks_from(bid, 5, "down", on=at))


def place_order_template() -> list[str]:
    """The placeOrder frame ib_async 2.1.0 writes at v178 for a resting limit buy of Bank of China
    (a price far below the market would be refused by the quotation rule, and never cancelled)."""
    from ib_async import IB, LimitOrder, Stock
    from ib_async.client import Client

    ib = IB()
    frames: list[list[str]] = []
    reader = FrameReader()
    ib.client._serverVersion = 178
    ib.client.connState = Client.CONNECTED
    ib.client.MaxRequests = 0
    ib.client.conn.sendMsg = lambda data: frames.extend(split_fields(p) for p in reader.feed(data))  # type: ignore[method-assign]
    order = LimitOrder("BUY", 1000, resting_buy_price(), orderRef="bench")
    ib.client.placeOrder(1, Stock("3988", "SEHK", "HKD"), order)
    ib.client.reset()
    return frames[0]


def order_frame(template: list[str], order_id: int) -> bytes:
    fields = list(template)
    fields[1] = str(order_id)
    return encode_frame(fields)


def round_trips(handle: GatewayHandle, template: list[str], n: int) -> list[float]:
    client = RawClient(handle, 901)
    times: list[float] = []
    for _ in range(n):
        oid = client.next_id
        client.next_id += 1
        t0 = time.perf_counter()
        client.sock.sendall(order_frame(template, oid))
        client.until(lambda f, oid=oid: f[0] == "3" and f[1] == str(oid))
        times.append(time.perf_counter() - t0)
        client.sock.sendall(encode_frame(["4", "1", str(oid), ""]))
        client.until(lambda f, oid=oid: f[0] == "3" and f[1] == str(oid) and f[2] == "Cancelled")
    client.close()
    return times


def pipelined_time_requests(handle: GatewayHandle, n: int) -> float:
    client = RawClient(handle, 902)
    frame = encode_frame(["49", "1"])
    t0 = time.perf_counter()
    client.sock.sendall(frame * n)
    for _ in range(n):
        client.until(lambda f: f[0] == "49")
    elapsed = time.perf_counter() - t0
    client.close()
    return 2 * n / elapsed


def pipelined_orders(handle: GatewayHandle, template: list[str], pairs: int) -> float:
    client = RawClient(handle, 903)
    first = client.next_id
    payload = b"".join(
        order_frame(template, oid) + encode_frame(["4", "1", str(oid), ""])
        for oid in range(first, first + pairs)
    )
    start_count = client.received
    t0 = time.perf_counter()
    client.sock.sendall(payload)
    last = str(first + pairs - 1)
    client.until(lambda f: f[0] == "3" and f[1] == last and f[2] == "Cancelled")
    elapsed = time.perf_counter() - t0
    out_frames = client.received - start_count
    client.close()
    return (2 * pairs + out_frames) / elapsed


def measure(
    ephemeral: bool, *, trips: int, time_requests: int, order_pairs: int, held_before_late: int = 0
) -> dict[str, float]:
    """One gateway's figures; with ``held_before_late`` it also measures ``order_pairs`` more pairs
    after that many further orders were placed and cancelled (the engine's cost must not grow with
    the orders it has finished)."""
    template = place_order_template()
    with tempfile.TemporaryDirectory() as tmp:
        handle = start_gateway(Path(tmp), clock=CLOCK, ephemeral=ephemeral)
        try:
            lat = sorted(round_trips(handle, template, trips))
            out = {
                "median_ms": statistics.median(lat) * 1000,
                "p99_ms": lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1000,
                "time_msgs_s": pipelined_time_requests(handle, time_requests),
                "order_msgs_s": pipelined_orders(handle, template, order_pairs),
            }
            if held_before_late:
                pipelined_orders(handle, template, held_before_late)
                out["order_msgs_s_late"] = pipelined_orders(handle, template, order_pairs)
            return out
        finally:
            handle.stop()


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    args = sys.argv[1:] if argv is None else argv
    memory = measure(True, trips=300, time_requests=20000, order_pairs=2000, held_before_late=LATE_AFTER)
    state = measure(False, trips=30, time_requests=20000, order_pairs=300)
    time_verdict = "meets" if memory["time_msgs_s"] >= GOAL_MSGS_PER_S else "MISSES"
    order_verdict = "meets" if memory["order_msgs_s"] >= GOAL_MSGS_PER_S else "MISSES"
    m, st = memory, state

    def row(name: str, key: str, unit: str, state_over_memory: bool) -> str:
        fmt = "{:.2f} ms" if unit == "ms" else "{:,.0f}"
        ratio = st[key] / m[key] if state_over_memory else m[key] / st[key]
        return f"| {name} | {fmt.format(m[key])} | {fmt.format(st[key])} | {ratio:.1f}x |"

    rows = [
        row("place-order -> orderStatus, median", "median_ms", "ms", True),
        row("place-order -> orderStatus, p99", "p99_ms", "ms", True),
        row("pipelined reqCurrentTime, messages/s (in+out)", "time_msgs_s", "n", False),
        row("pipelined place+cancel, messages/s (in+out)", "order_msgs_s", "n", False),
    ]
    table = "\n".join(rows)
    late = m["order_msgs_s_late"]
    late_ratio = late / m["order_msgs_s"]
    text = f"""## Simulated IB Gateway (`benchmarks/bench_gateway.py`)

Gateway process on loopback driven by a bare TWS-framing socket client, measured side by side in
one run on {platform.machine()} / Python {platform.python_version()}: in memory (`--ephemeral`) and with
its DuckDB state file (the default of `catalyst gateway start`, saved at most every 0.25 s while
its state changes). Round trips: 300 orders in memory, 30 with the state file, one at a time,
each cancelled after its acknowledgement. Pipelined: 20,000 reqCurrentTime; 2,000 place+cancel
pairs in memory, 300 with the state file. The ratio column is state file relative to memory (slower = larger).

| measure | in memory | with state file | ratio |
|---|---|---|---|
{table}

Finished orders piling up (the engine indexes its live orders, so its work per call does not grow
with them): in memory, 2,000 pipelined place+cancel pairs run at {m["order_msgs_s"]:,.0f} messages/s
on a new gateway and at {late:,.0f} messages/s after {LATE_AFTER + 2000 + 300:,} orders were placed
and cancelled ({late_ratio:.2f}x; before the index this fell to about 0.1x).

Goal: at least {GOAL_MSGS_PER_S:,} messages/s. Request/answer traffic: **{time_verdict}**
({m["time_msgs_s"] / GOAL_MSGS_PER_S:.1f}x the goal). Order traffic: **{order_verdict}**
({m["order_msgs_s"] / GOAL_MSGS_PER_S:.1f}x the goal; {late / GOAL_MSGS_PER_S:.1f}x after {LATE_AFTER:,} more
orders). Per order the time goes to decoding/encoding and to the three structured log lines of
each order (received, accepted, cancelled: one JSON line each in `gateway.log.jsonl`).
The machine is shared, so figures vary between runs by up to 2x. Reproduce:
`.venv/bin/python -m benchmarks.bench_gateway`.
"""
    print(text)
    if "--no-write" not in args:
        write_section("bench_gateway", text)
    return {"memory": memory, "state": state}


if __name__ == "__main__":
    main()
