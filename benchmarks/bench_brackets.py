"""Benchmark: submit and prove N brackets on the simulated gateway.

Run: ``.venv/bin/python -m benchmarks.bench_brackets [N]`` (default N = 20).

Three ways, side by side in one run against one simulated gateway process (clock fixed in
continuous trading, entries resting below the bid so nothing fills):

* **Catalyst, concurrent**: ``asyncio.gather`` of N ``BrokerSession.submit_bracket`` calls; each
  writes its intent to a real DuckDB ledger, places three legs and proves them from the broker's
  own openOrder/orderStatus messages (woken by events, no sleep);
* **Catalyst, one at a time**: the same, awaited one after the other;
* **predecessor pattern**: place the three legs with ib_async's ``bracketOrder`` and sleep a fixed
  second before looking at ib_async's local status (what the old verification did). This one
  speaks ib_async directly, outside the package, only to reproduce the old pattern.

The bound: IB accepts 50 messages a second from a client, so 3N placeOrder messages need at least
3N/50 seconds. Goal (issue 4): N = 20 proven within 1.2 x that bound, with the client throttled
(ib_async's 45 msg/s limiter) so it never breaks IB's limit: the gateway's ``pacing`` fault is on
at 50 msg/s during the run, and any error 100 it reports would be counted below.
Writes its section of BENCHMARKS.md between its own markers.
"""

from __future__ import annotations

import asyncio
import platform
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks.benchmarks_md import write_section

ROOT = Path(__file__).resolve().parents[1]
IB_MSGS_PER_SECOND = 50
CLOCK = "2026-11-24T10:00:00+08:00"
SYMBOL = "3988"


def intents(prefix: str, n: int, entry: Decimal) -> list[Any]:
    from catalyst.domain import BracketIntent, Side

    return [
        BracketIntent.snapped(
            f"{prefix}-{i}", SYMBOL, Side.BUY, 1000, entry, entry * Decimal("0.9"), entry * Decimal("1.1")
        )
        for i in range(n)
    ]


async def catalyst_run(
    port: int, ledger_path: Path, n: int, client_id: int, concurrent: bool
) -> dict[str, Any]:
    from catalyst.broker import BrokerSession
    from catalyst.config import BrokerSettings, Settings
    from catalyst.ledger import Ledger

    settings = Settings(
        broker=BrokerSettings(
            host="127.0.0.1",
            port=port,
            client_id=client_id,
            account="DU0000001",
            connect_timeout=10,
            request_timeout=10,
        )
    )
    ledger = Ledger(ledger_path)
    run_id = f"bench-{client_id}"
    session = BrokerSession(settings, ledger=ledger, run_id=run_id, proof_timeout=10)
    await session.connect()
    try:
        quote = await session.quote(SYMBOL)
        assert quote.bid is not None
        from catalyst.market import ticks_from

        entry = ticks_from(quote.bid, 20, "down", table="A")
        batch = intents(f"b{client_id}", n, entry)
        await session.prepare([SYMBOL])  # what a cycle does before its first submission
        t0 = time.perf_counter()
        if concurrent:
            proven = await asyncio.gather(*(session.submit_bracket(i) for i in batch))
        else:
            proven = [await session.submit_bracket(i) for i in batch]
        elapsed = time.perf_counter() - t0
        pacing_errors = sum(1 for e in session.reports.errors if e.code == 100)
    finally:
        await session.close()
    latency = session.latencies(run_id=run_id)
    return {
        "seconds": elapsed,
        "proven": len(proven),
        "pacing_errors": pacing_errors,
        "ack_p50_ms": latency.ack_p50_ms,
        "ack_p95_ms": latency.ack_p95_ms,
    }


async def predecessor_run(port: int, n: int, client_id: int) -> dict[str, Any]:
    from ib_async import IB, Stock  # the old pattern, reproduced outside the package on purpose

    ib = IB()
    await ib.connectAsync("127.0.0.1", port, clientId=client_id, timeout=10)
    try:
        contract = Stock(SYMBOL, "SEHK", "HKD")
        await ib.qualifyContractsAsync(contract)
        ticker = (await ib.reqTickersAsync(contract))[0]
        entry = round(float(ticker.bid) - 0.1, 3)  # 20 ticks of 0.005: inside the quotation rule
        t0 = time.perf_counter()
        acknowledged = 0
        for i in range(n):
            bracket = ib.bracketOrder(
                "BUY",
                1000,
                entry,
                round(entry * 1.1, 2),
                round(entry * 0.9, 2),
                orderRef=f"old-{client_id}-{i}",
            )
            trades = [ib.placeOrder(contract, o) for o in bracket]
            await asyncio.sleep(1.0)  # the predecessor's fixed wait before "verifying"
            acknowledged += sum(1 for t in trades if t.orderStatus.status in ("PreSubmitted", "Submitted"))
        elapsed = time.perf_counter() - t0
    finally:
        ib.disconnect()
    return {"seconds": elapsed, "legs_acknowledged": acknowledged}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from catalyst.sim.gateway.launcher import start_gateway

    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 20
    bound = 3 * n / IB_MSGS_PER_SECOND
    with tempfile.TemporaryDirectory() as tmp:
        handle = start_gateway(Path(tmp) / "gw", clock=CLOCK, accounts=("DU0000001",))
        try:
            handle.control.fault("pacing", True, limit=IB_MSGS_PER_SECOND)
            ours = asyncio.run(catalyst_run(handle.port, Path(tmp) / "a.duckdb", n, 31, concurrent=True))
            one_by_one = asyncio.run(
                catalyst_run(handle.port, Path(tmp) / "b.duckdb", n, 32, concurrent=False)
            )
            old = asyncio.run(predecessor_run(handle.port, n, 33))
        finally:
            handle.stop()
    results = {"n": n, "bound_s": bound, "ours": ours, "one_by_one": one_by_one, "old": old}

    def row(name: str, r: dict[str, Any]) -> str:
        return (
            f"| {name} | {r['seconds']:.2f} s | {r['seconds'] / bound:.2f} x | {r['proven']}/{n} | "
            f"{r['pacing_errors']} |"
        )

    verdict = "meets" if ours["seconds"] <= 1.2 * bound and ours["pacing_errors"] == 0 else "MISSES"
    text = f"""## Bracket submission and proof (`benchmarks/bench_brackets.py`)

N = {n} brackets (3N = {3 * n} orders) submitted and proven on the simulated gateway (separate process,
loopback), all three ways in one run on {platform.machine()} / Python {platform.python_version()}.
IB's pacing bound: 3N orders at {IB_MSGS_PER_SECOND} msg/s = **{bound:.2f} s**. Gateway pacing fault on at
{IB_MSGS_PER_SECOND} msg/s; Catalyst throttles its client at 40 msg/s (ib_async's limiter).

| way | wall time | vs pacing bound | brackets proven | error 100 (pacing) |
|---|---|---|---|---|
{row("Catalyst, concurrent (`asyncio.gather`)", ours)}
{row("Catalyst, one at a time", one_by_one)}
| predecessor: place, sleep 1 s, look at the local copy | {old["seconds"]:.2f} s | \
{old["seconds"] / bound:.2f} x | none (legs "acknowledged" locally: {old["legs_acknowledged"]}/{3 * n}) | - |

- Predecessor / Catalyst concurrent: **{old["seconds"] / ours["seconds"]:.1f} x** faster, and every
  bracket is proven from the broker's own reports instead of assumed.
- Placement-to-acknowledgement latency (ledger timestamps): p50 {ours["ack_p50_ms"]:.0f} ms, p95
  {ours["ack_p95_ms"]:.0f} ms concurrent; p50 {one_by_one["ack_p50_ms"]:.0f} ms, p95
  {one_by_one["ack_p95_ms"]:.0f} ms one at a time.
- Goal (N = 20 within 1.2 x the bound, no pacing violation): **{verdict}**.

Reproduce: `.venv/bin/python -m benchmarks.bench_brackets 20`.
"""
    print(text)
    write_section("bench_brackets", text)
    return results


if __name__ == "__main__":
    main()
