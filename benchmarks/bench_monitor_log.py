"""Benchmark: how much the monitor writes to its log at info level, with 10 open positions (issue 12).

Run: ``.venv/bin/python -m benchmarks.bench_monitor_log [--speed 30] [--positions 10]``.

The real ``Monitor.run`` loop (default ``MonitorConfig``: quotes every 0.25 s, poll 30 s, order
status sync 60 s) over a real broker session on the simulated gateway, which runs ``--speed`` times
faster than real time, for one simulated hour (3600 / speed seconds). Ten positions are opened behind
the monitor's back (the gateway's drift control) with their levels in the ledger, so it protects
them and then watches them for the hour.

The log is configured at DEBUG into one JSON-lines file, the IB client library's own debug output
aside (it logs every message at debug), so one run gives both figures side by side:

* **now**: the records at info or above, i.e. what ``catalyst monitor`` writes at its default level;
* **before** (the chatty monitor): those plus the routine polling records the monitor now lowers
  to debug (marked ``"routine": true``), each re-rendered as the info line it used to be.

The monitor's polls run on the wall clock, not on the simulator's, so a simulated hour at speed S
holds 1/S of a real hour's polls: the per-hour figures are the measured bytes scaled to a real hour
(x 3600 / wall seconds). That scaling is the honest one: a trader's hour is a wall hour.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks.bench_monitor import NO_BREAKER, SIM_CLOCK, SYMBOLS, settings_for
from benchmarks.benchmarks_md import write_section
from catalyst.broker import BrokerSession
from catalyst.ledger import Ledger
from catalyst.log import configure_logging, reset_logging
from catalyst.market import board_lot, security, snap_to_tick
from catalyst.reconcile.ledger_book import ledger_positions
from catalyst.risk.alert_channels import AppriseChannels
from catalyst.risk.alerts import Alerter
from catalyst.risk.monitor_daemon import Monitor, MonitorConfig
from catalyst.sim.gateway.launcher import GatewayStartError, start_gateway

ACCOUNT = "DU0000301"
GOAL_BYTES_PER_HOUR = 1_000_000
NOTIONAL = Decimal("60000")
_WORKING = {"PreSubmitted", "Submitted"}


@dataclass
class Volume:
    lines: int = 0
    bytes: int = 0

    def add(self, line: str) -> None:
        self.lines += 1
        self.bytes += len(line.encode("utf-8")) + 1


def _as_info_line(record: dict[str, Any]) -> str:
    """A routine record rendered as the info line the chatty monitor wrote."""
    old = {k: ("info" if k == "level" else v) for k, v in record.items() if k != "routine"}
    return json.dumps(old, ensure_ascii=False, default=str)


def measure(path: Path, steady_from: datetime) -> dict[str, Any]:
    """Volumes now and before, split at ``steady_from`` (the positions protected: what follows is the
    monitor watching), with the steady phase's bytes by event."""
    out = {(phase, era): Volume() for phase in ("setup", "steady") for era in ("now", "before")}
    by_event: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        when = datetime.fromisoformat(str(record["timestamp"]).replace("Z", "+00:00"))
        phase = "steady" if when >= steady_from else "setup"
        if record.get("level") != "debug":
            out[(phase, "now")].add(line)
            out[(phase, "before")].add(line)
            if phase == "steady":
                event = str(record.get("event", ""))[:40]
                by_event[event] = by_event.get(event, 0) + len(line) + 1
        elif record.get("routine") or record.get("repeat") or record.get("logger") == "ib_async.wrapper":
            out[(phase, "before")].add(_as_info_line(record))
    return {"volumes": out, "by_event": by_event}


def _protected(gw: Any, symbols: list[str]) -> bool:
    working = [o for o in gw.control.orders() if o["account"] == ACCOUNT and o["status"] in _WORKING]
    return {str(o["symbol"]) for o in working if ":PROT" in str(o["order_ref"])} >= set(symbols)


async def _open_positions(gw: Any, session: BrokerSession, ledger: Ledger, count: int) -> list[str]:
    symbols = list(SYMBOLS[:count])
    for symbol in symbols:
        q = await session.quote(symbol)
        assert q.bid is not None and q.ask is not None
        table = security(symbol).spread_table
        lot = board_lot(symbol)
        qty = max(1, int(NOTIONAL / (q.ask * lot))) * lot
        ledger.upsert(
            "positions",
            {
                "account": ACCOUNT,
                "symbol": symbol,
                "quantity": qty,
                "stop_price": snap_to_tick(q.bid * Decimal("0.7"), "down", table=table),
                "target_price": snap_to_tick(q.ask * Decimal("1.3"), "up", table=table),
                "source": "fill",
                "updated_at": datetime.now(UTC),
            },
        )
        await asyncio.to_thread(gw.control.drift, ACCOUNT, symbol, qty)
    return symbols


def _start_gateway(work: Path, speed: float) -> Any:
    """The simulator at ``speed``. Its start-up check that the clock is not behind its saved state
    can trip on itself when starting takes more than 1/speed s (a loaded machine): try again."""
    for attempt in range(5):
        try:
            return start_gateway(work / f"gw{attempt}", clock=SIM_CLOCK, speed=speed, accounts=(ACCOUNT,))
        except GatewayStartError as exc:
            if "cannot go back" not in str(exc) or attempt == 4:
                raise
    raise AssertionError("unreachable")


async def run(work: Path, speed: float, count: int) -> dict[str, Any]:
    gw = _start_gateway(work, speed)
    ledger = Ledger(work / "ledger.duckdb")
    session = BrokerSession(settings_for(gw, ACCOUNT, 201), ledger=ledger, run_id="bench-log")
    log_file = work / "monitor.jsonl"
    wall = 3600.0 / speed
    try:
        await session.connect()
        alerter = Alerter(AppriseChannels([]), alert_file=work / "alerts.jsonl", ledger=ledger)
        cfg = MonitorConfig(account=ACCOUNT, run_id="bench-monitor-log", state_dir=work / "state")
        monitor = Monitor(session, ledger, alerter, NO_BREAKER, cfg, book=ledger_positions)
        quiet = open(os.devnull, "w")  # noqa: SIM115 - closed below
        configure_logging(json_file=log_file, level="DEBUG", console=False, stream=quiet)
        logging.getLogger("ib_async").setLevel(logging.INFO)
        stop = asyncio.Event()
        loop = asyncio.create_task(monitor.run(stop))
        started = time.perf_counter()
        try:
            while monitor.passes < 1:
                await asyncio.sleep(0.05)
            symbols = await _open_positions(gw, session, ledger, count)
            while not await asyncio.to_thread(_protected, gw, symbols):
                await asyncio.sleep(0.2)
            await asyncio.sleep(2.0)  # the last reports of the protection
            steady_from = datetime.now(UTC)
            steady_started = time.perf_counter()
            await asyncio.sleep(max(0.0, wall - (time.perf_counter() - started)))
            stop.set()
            await loop
        finally:
            elapsed = time.perf_counter() - started
            reset_logging()
            logging.getLogger("ib_async").setLevel(logging.NOTSET)
            quiet.close()
        held = (await session.positions())["symbol"].astype(str).tolist()
        return {
            "elapsed": elapsed,
            "setup_seconds": steady_started - started,
            "steady_seconds": elapsed - (steady_started - started),
            "steady_from": steady_from,
            "symbols": symbols,
            "held": held,
            "passes": monitor.passes,
        }
    finally:
        await session.close()
        gw.stop()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=float, default=30.0, help="simulator speed (default 30: 120 s)")
    parser.add_argument("--positions", type=int, default=10, help="open positions (default 10)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-monitor-log-") as tmp:
        facts = asyncio.run(run(Path(tmp), args.speed, args.positions))
        found = measure(Path(tmp) / "monitor.jsonl", facts["steady_from"])
    load_after = os.getloadavg()[0]
    v, steady = found["volumes"], facts["steady_seconds"]
    scale = (3600.0 - facts["setup_seconds"]) / steady  # the rest of a real hour, watching

    def per_hour(era: str) -> float:
        return v[("setup", era)].bytes + v[("steady", era)].bytes * scale

    def lines(era: str) -> int:
        return v[("setup", era)].lines + v[("steady", era)].lines

    now, before = per_hour("now"), per_hour("before")
    verdict = "meets" if now <= GOAL_BYTES_PER_HOUR else "MISSES"
    top = sorted(found["by_event"].items(), key=lambda kv: -kv[1])[:5]
    biggest = ", ".join(f"`{e}` {b * scale / 1000:.0f} kB" for e, b in top)
    text = f"""## Monitor log volume (`benchmarks/bench_monitor_log.py`)

The real `Monitor.run` loop (quotes every 0.25 s, poll 30 s, status sync 60 s) over a real broker
session, for one simulated hour at `--speed {args.speed:g}` ({facts["elapsed"]:.0f} s of wall time,
{facts["passes"]} passes): {len(facts["symbols"])} positions appear, the monitor protects them
({facts["setup_seconds"]:.0f} s, counted once) and watches them ({len(facts["held"])} still open at
the end). Log at DEBUG into one file; "before" counts the polling records the monitor now writes at
debug (routine queries, unchanged repeats of broker reports, the IB client's own echo lines) as the
info lines they were. The monitor polls on the wall clock, not the simulator's, so the watching
phase is scaled to the rest of a real hour (x {scale:.0f}): a trader's hour is a wall hour.
{platform.machine()} / Python {platform.python_version()}, 1-minute load average {load_before:.1f}
before and {load_after:.1f} after, on {os.cpu_count()} cores (shared machine).

| info-level log, 10 positions | lines measured | per real hour | goal | |
|---|---|---|---|---|
| before (every poll at info) | {lines("before")} | {before / 1e6:.1f} MB | | |
| now (polls at debug, `monitor.polls` a minute) | {lines("now")} | {now / 1e6:.2f} MB | <= 1 MB | {verdict} |

{before / max(now, 1):.0f}x less. The largest info events now, per real hour of watching: {biggest}.

Reproduce: `.venv/bin/python -m benchmarks.bench_monitor_log` (`--speed S`, `--positions N`)."""
    print(text)
    if not args.no_write:
        write_section("bench_monitor_log", text)
    return {"now_per_hour": now, "before_per_hour": before}


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
