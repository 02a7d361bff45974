"""Benchmark: how fast layer 2 and 3 act, over the simulated gateway, in one run (issue 10, item 7).

Run: ``.venv/bin/python -m benchmarks.bench_monitor [--events N]`` (default 20 of each kind).

Four latencies, each over N events, p50 and p99 (nearest rank), against the goals:

* **fill to protected** (p99 <= 2 s): another client buys (a marketable limit that fills at once,
  nothing attached), the ledger holds the position's stop and target; until the broker lists the
  monitor's stop and target working for the whole quantity. Afterwards the other client sells the
  position (a marketable limit of its own), so the monitor's stop and target become naked exits,
  which it must cancel: **position gone to naked exits cancelled** is reported too (its exit grace
  is 2 s).
* **fill to flat** (p99 <= 2 s): the same fill with no stop/target recorded, so the monitor cannot
  re-protect and closes it; until the broker reports the position 0 (or the closing order filled,
  whichever report comes first: the simulator coalesces position pushes within 0.1 s).
* **stop breach to exit order** (p99 <= breach_grace + 1 s): a protected position whose price
  gaps through its stop and the stop's limit (the broker's stop-limit triggers but cannot fill);
  from the price move until the broker lists the monitor's closing order.
* **breaker trip to flat** (p99 <= 5 s): a protected position, then a price move through the daily
  loss limit (short of the stop); from the trip (its ``breaker_tripped`` risk event) until the broker
  reports the position 0. The move to trip is reported too. Each trip uses an account of its own
  (a trip halts its account for the day).

The monitor is the real one (``Monitor.run``, default ``MonitorConfig``: 30 s poll, 0.5 s quotes,
2 s breach grace) over a real broker session, in this process; the observer is a second session
with the gateway's master client id, so it receives every client's order reports and position
pushes: every "until the broker lists/reports" above is the moment that report reached it
(woken by broker messages, no polling). Writes its section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.benchmarks_md import write_section
from catalyst.broker import BrokerSession
from catalyst.config import BrokerSettings, Settings
from catalyst.domain.order_status import ACKNOWLEDGED, DONE_AT_BROKER
from catalyst.ledger import Ledger
from catalyst.market import board_lot, security, snap_to_tick, ticks_from
from catalyst.risk.alert_channels import AppriseChannels
from catalyst.risk.alerts import Alerter
from catalyst.risk.limits import RiskLimits
from catalyst.risk.monitor_daemon import Monitor, MonitorConfig
from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway

SIM_CLOCK = "2026-11-24T10:00:00+08:00"  # a Tuesday in continuous trading
MASTER_CLIENT_ID = 90
SYMBOLS = ("1299", "2800", "388", "700", "5", "941", "3988", "2388", "1211", "9988", "883", "16")
NOTIONAL = Decimal("80000")  # HKD per position
NO_BREAKER = RiskLimits(daily_loss_limit=None, daily_loss_fraction=None)
BREAKER = RiskLimits(daily_loss_limit=Decimal("2000"), daily_loss_fraction=None)
WAIT = 30.0  # longest wait for any one step (a miss is recorded as such, not as a figure)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Series:
    name: str
    goal: float | None  # seconds, p99
    samples: list[float] = field(default_factory=list)
    misses: int = 0
    notes: list[str] = field(default_factory=list)  # what each sample was (printed, not written)

    def add(self, start: datetime | None, end: datetime | None, what: str = "") -> None:
        if start is None or end is None:
            self.misses += 1
            self.notes.append(f"MISSED {what}: start {start}, end {end}")
        else:
            self.samples.append((end - start).total_seconds())
            self.notes.append(f"{self.samples[-1]:.2f} s {what}")

    def p(self, q: float) -> float:
        ordered = sorted(self.samples)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")

    def row(self) -> str:
        if not self.samples:
            return f"| {self.name} | 0 | - | - | - | {self._goal()} | no sample |"
        verdict = "" if self.goal is None else ("meets" if self.p(0.99) <= self.goal else "MISSES")
        missed = f", {self.misses} missed" if self.misses else ""
        return (
            f"| {self.name} | {len(self.samples)}{missed} | {statistics.median(self.samples):.2f} | "
            f"{self.p(0.99):.2f} | {max(self.samples):.2f} | {self._goal()} | {verdict} |"
        )

    def _goal(self) -> str:
        return f"<= {self.goal:.1f} s" if self.goal is not None else "-"


def settings_for(gw: GatewayHandle, account: str, client_id: int) -> Settings:
    return Settings(
        mode="sim",
        broker=BrokerSettings(
            host=gw.host,
            port=gw.port,
            client_id=client_id,
            account=account,
            connect_timeout=10,
            request_timeout=10,
        ),
    )


class Bench:
    def __init__(self, gw: GatewayHandle, work: Path, observer_account: str) -> None:
        self.gw = gw
        self.work = work
        self.observer = BrokerSession(settings_for(gw, observer_account, MASTER_CLIENT_ID))
        self._client_ids = iter(range(100, 1000))
        self._rotation = 0

    # -- plumbing ----------------------------------------------------------------------------------

    async def control(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """The gateway's control channel is a blocking socket: keep it off the event loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    def next_symbol(self) -> str:
        self._rotation += 1
        return SYMBOLS[self._rotation % len(SYMBOLS)]

    async def monitor(self, account: str, limits: RiskLimits) -> tuple[Monitor, BrokerSession, Ledger]:
        folder = self.work / account
        folder.mkdir(exist_ok=True)
        ledger = Ledger(folder / "ledger.duckdb")
        session = BrokerSession(
            settings_for(self.gw, account, next(self._client_ids)), ledger=ledger, run_id="bench"
        )
        await session.connect()
        alerter = Alerter(AppriseChannels([]), alert_file=folder / "alerts.jsonl", ledger=ledger)
        cfg = MonitorConfig(account=account, run_id="bench-monitor", state_dir=folder / "state")
        return Monitor(session, ledger, alerter, limits, cfg), session, ledger

    async def trader(self, account: str) -> BrokerSession:
        session = BrokerSession(settings_for(self.gw, account, next(self._client_ids)), run_id="trader")
        await session.connect()
        return session

    async def wait(self, probe: Callable[[], datetime | None], timeout: float = WAIT) -> datetime | None:
        return await self.observer.reports.wait_for(probe, timeout)

    def position_at(self, account: str, symbol: str, quantity: int, after: datetime) -> datetime | None:
        for rep in self.observer.reports.positions.values():
            if rep.account == account and rep.symbol == symbol and rep.quantity == quantity:
                return rep.received_at if rep.received_at >= after else None
        return None

    def flat_at(self, account: str, symbol: str, after: datetime) -> datetime | None:
        """When the broker reported the position gone: a position of 0, or the fill of the closing
        order (the simulator coalesces position pushes: a fill and its flatten within 0.1 s reach a
        subscriber as one push of 0, which repeats the 0 it knew before)."""
        times = [t for t in (self.position_at(account, symbol, 0, after),) if t is not None]
        for rep in self.orders(account, symbol, ":FLAT", after):
            status, at = self._status(rep)
            if status == "Filled":
                times.append(at)
        return min(times) if times else None

    def orders(self, account: str, symbol: str, marker: str, after: datetime) -> list[Any]:
        return [
            r
            for r in self.observer.reports.orders_by_perm.values()
            if r.account == account
            and r.symbol == symbol
            and marker in r.order_ref
            and r.received_at >= after
        ]

    def first_order(self, account: str, symbol: str, marker: str, after: datetime) -> datetime | None:
        return min((r.received_at for r in self.orders(account, symbol, marker, after)), default=None)

    def _status(self, rep: Any) -> tuple[str, datetime]:
        st = self.observer.reports.latest_status(perm_id=rep.perm_id)
        if st is not None and st.received_at >= rep.received_at:
            return st.status, st.received_at
        return rep.status, rep.received_at

    def protected_at(self, account: str, symbol: str, quantity: int, after: datetime) -> datetime | None:
        """When the monitor's stop and target for ``quantity`` both work at the broker."""
        found: dict[str, datetime] = {}
        for rep in self.orders(account, symbol, ":PROT", after):
            status, at = self._status(rep)
            if status in ACKNOWLEDGED - {"Filled"} and int(rep.quantity) == quantity:
                role = "stop" if rep.order_type.startswith("STP") else "target"
                found[role] = min(found.get(role, at), at)
        return max(found.values()) if len(found) == 2 else None

    def cancelled_at(self, account: str, symbol: str, after: datetime) -> datetime | None:
        reps = self.orders(account, symbol, ":PROT", after)
        done = [self._status(r) for r in reps]
        if reps and all(status in DONE_AT_BROKER for status, _ in done):
            return max(at for _, at in done)
        return None

    async def buy(self, trader: BrokerSession, symbol: str) -> tuple[int, datetime | None]:
        """A fill the monitor did not place: a marketable BUY limit with nothing attached (sent
        through the session's protective-order path with a negative quantity: a 'take profit' of a
        short, i.e. a plain buy limit)."""
        q = await trader.quote(symbol)
        assert q.ask is not None
        lot = board_lot(symbol)
        lots = max(1, int(NOTIONAL / (q.ask * lot)))
        quantity = lots * lot
        price = snap_to_tick(q.ask * Decimal("1.01"), "up", table=security(symbol).spread_table)
        (ref,) = await trader.protect(symbol, -quantity, stop=None, target=price)
        await trader.wait_for_order(ref, {"Filled"}, timeout=WAIT)
        fills = trader.reports.executions_for(order_ref=ref)
        return quantity, (fills[-1].received_at if fills else None)

    async def record_levels(self, ledger: Ledger, account: str, symbol: str, quantity: int) -> None:
        q = await self.observer.quote(symbol)
        assert q.bid is not None and q.ask is not None
        table = security(symbol).spread_table
        ledger.upsert(
            "positions",
            {
                "account": account,
                "symbol": symbol,
                "quantity": quantity,
                "stop_price": snap_to_tick(q.bid * Decimal("0.9"), "down", table=table),
                "target_price": ticks_from(q.ask, 20, "up", table=table),  # inside the quotation rule
                "source": "fill",
                "updated_at": _now(),
            },
        )

    # -- scenarios ---------------------------------------------------------------------------------

    async def protection(self, account: str, n: int, protected: Series, cleaned: Series) -> None:
        mon, session, ledger = await self.monitor(account, NO_BREAKER)
        trader = await self.trader(account)
        stop = asyncio.Event()
        loop = asyncio.create_task(mon.run(stop))
        try:
            await self._first_pass(mon)
            for _ in range(n):
                symbol = self.next_symbol()
                lot = board_lot(symbol)
                q = await trader.quote(symbol)
                assert q.ask is not None
                await self.record_levels(ledger, account, symbol, max(1, int(NOTIONAL / (q.ask * lot))) * lot)
                quantity, filled = await self.buy(trader, symbol)
                if filled is None:
                    protected.add(None, None, f"{symbol}: the buy reported no fill")
                    continue
                done = await self.wait(partial(self.protected_at, account, symbol, quantity, filled))
                protected.add(filled, done, symbol)
                gone = _now()
                await trader.flatten(symbol)  # sold by the other client: the monitor's legs are naked
                cancelled = await self.wait(partial(self.cancelled_at, account, symbol, filled))
                cleaned.add(gone, cancelled, symbol)
        finally:
            stop.set()
            await loop
            await trader.close()
            await session.close()

    async def flatten(self, account: str, n: int, flat: Series) -> None:
        mon, session, _ = await self.monitor(account, NO_BREAKER)
        trader = await self.trader(account)
        stop = asyncio.Event()
        loop = asyncio.create_task(mon.run(stop))
        try:
            await self._first_pass(mon)
            for _ in range(n):
                symbol = self.next_symbol()
                _, filled = await self.buy(trader, symbol)
                if filled is None:
                    flat.add(None, None, f"{symbol}: the buy reported no fill")
                    continue
                done = await self.wait(partial(self.flat_at, account, symbol, filled))
                flat.add(filled, done, symbol)
        finally:
            stop.set()
            await loop
            await trader.close()
            await session.close()

    async def breach(self, account: str, n: int, exits: Series) -> None:
        mon, session, ledger = await self.monitor(account, NO_BREAKER)
        trader = await self.trader(account)
        stop = asyncio.Event()
        loop = asyncio.create_task(mon.run(stop))
        try:
            await self._first_pass(mon)
            for _ in range(n):
                symbol = self.next_symbol()
                q = await trader.quote(symbol)
                assert q.ask is not None
                lot = board_lot(symbol)
                await self.record_levels(ledger, account, symbol, max(1, int(NOTIONAL / (q.ask * lot))) * lot)
                quantity, filled = await self.buy(trader, symbol)
                ready = filled and await self.wait(
                    partial(self.protected_at, account, symbol, quantity, filled)
                )
                if not ready:
                    exits.add(None, None, f"{symbol}: not filled or not protected")
                    continue
                moved = _now()
                await self.control(self.gw.control.move_price, symbol, pct=-15)
                sent = await self.wait(partial(self.first_order, account, symbol, ":FLAT", moved))
                exits.add(moved, sent, symbol)
                await self.wait(partial(self.flat_at, account, symbol, moved))
        finally:
            stop.set()
            await loop
            await trader.close()
            await session.close()

    async def breaker(self, accounts: Sequence[str], to_trip: Series, to_flat: Series) -> None:
        for account in accounts:
            mon, session, ledger = await self.monitor(account, BREAKER)
            trader = await self.trader(account)
            stop = asyncio.Event()
            loop = asyncio.create_task(mon.run(stop))
            try:
                await self._first_pass(mon)
                symbol = self.next_symbol()
                q = await trader.quote(symbol)
                assert q.ask is not None
                lot = board_lot(symbol)
                await self.record_levels(ledger, account, symbol, max(1, int(NOTIONAL / (q.ask * lot))) * lot)
                quantity, filled = await self.buy(trader, symbol)
                ready = filled and await self.wait(
                    partial(self.protected_at, account, symbol, quantity, filled)
                )
                if not ready:
                    to_trip.add(None, None, f"{account} {symbol}: not filled or not protected")
                    to_flat.add(None, None, f"{account} {symbol}: not filled or not protected")
                    continue
                moved = _now()
                await self.control(self.gw.control.move_price, symbol, pct=-6)
                flat_at = await self.wait(partial(self.flat_at, account, symbol, moved))
                tripped = _tripped_at(ledger, account)
                to_trip.add(moved, tripped, f"{account} {symbol}")
                to_flat.add(tripped, flat_at, f"{account} {symbol}")
            finally:
                stop.set()
                await loop
                await trader.close()
                await session.close()

    async def _first_pass(self, mon: Monitor) -> None:
        deadline = time.monotonic() + WAIT
        while mon.passes < 1:
            if time.monotonic() > deadline:
                raise RuntimeError("the monitor did not finish its first pass")
            await asyncio.sleep(0.05)


def _tripped_at(ledger: Ledger, account: str) -> datetime | None:
    ts = ledger.scalar(
        "SELECT min(ts) FROM risk_events WHERE kind = 'breaker_tripped' AND account = ?", [account]
    )
    if ts is None:
        return None
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


SCENARIOS = ("protection", "flatten", "breach", "breaker")


async def run(n: int, work: Path, only: Sequence[str] = SCENARIOS) -> tuple[list[Series], float]:
    breaker_accounts = [f"DU00002{i:02d}" for i in range(n)]
    accounts = ("DU0000101", "DU0000102", "DU0000103", *breaker_accounts)
    gw = start_gateway(work / "gw", clock=SIM_CLOCK, accounts=accounts, master_client_id=MASTER_CLIENT_ID)
    bench = Bench(gw, work, accounts[0])
    protected = Series("fill to protected", 2.0)
    cleaned = Series("position gone to naked exits cancelled", None)
    flat = Series("fill to flat", 2.0)
    exits = Series("stop breach to exit order", MonitorConfig(account="-").breach_grace + 1.0)
    to_trip = Series("loss move to breaker trip", None)
    to_flat = Series("breaker trip to flat", 5.0)
    started = time.perf_counter()
    try:
        await bench.observer.connect()
        await bench.observer.positions()  # subscribes to position pushes (every account of the login)
        if "protection" in only:
            await bench.protection(accounts[0], n, protected, cleaned)
        if "flatten" in only:
            await bench.flatten(accounts[1], n, flat)
        if "breach" in only:
            await bench.breach(accounts[2], n, exits)
        if "breaker" in only:
            await bench.breaker(breaker_accounts, to_trip, to_flat)
    finally:
        await bench.observer.close()
        gw.stop()
    return [protected, flat, exits, to_flat, cleaned, to_trip], time.perf_counter() - started


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20, help="events of each kind (default 20)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    parser.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help=f"comma-separated subset of {','.join(SCENARIOS)} (implies --no-write)",
    )
    args = parser.parse_args(argv)
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(only) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; choose from {', '.join(SCENARIOS)}")
    if set(only) != set(SCENARIOS):
        args.no_write = True
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-monitor-") as tmp:
        series, seconds = asyncio.run(run(args.events, Path(tmp), only))
    load_after = os.getloadavg()[0]
    cfg = MonitorConfig(account="-")
    rows = "\n".join(s.row() for s in series)
    text = f"""## Monitor reaction times (`benchmarks/bench_monitor.py`)

Layer 2 on broker events and layer 3 over the simulated gateway, {args.events} events of each kind in
one run ({seconds:.0f} s), seconds, p99 by nearest rank (with 20 events: the slowest). The real
`Monitor.run` loop with the default `MonitorConfig` (poll {cfg.poll_interval:.0f} s, quotes every
{cfg.quote_interval} s, breach grace {cfg.breach_grace:.0f} s, exit grace {cfg.exit_grace:.0f} s)
over a real broker session; times are when the broker's reports reached an observer session (the
gateway's master client id). The simulator pushes a position change after 0.1 s (it coalesces pushes).
{platform.machine()} / Python {platform.python_version()}, 1-minute load average
{load_before:.1f} before and {load_after:.1f} after, on {os.cpu_count()} cores (shared machine).

| measure | events | p50 | p99 | max | goal (p99) | |
|---|---|---|---|---|---|---|
{rows}

Before issue 10 (measured over the CLI, 30 s poll only): fill to protected 8.5 s, fill to flat 1.6-9.4 s,
breaker trip to flat 6.0-10.6 s.

Reproduce: `.venv/bin/python -m benchmarks.bench_monitor` (`--events N`)."""
    for s in series:
        print(f"-- {s.name}: " + "; ".join(s.notes))
    print(text)
    if not args.no_write:
        write_section("bench_monitor", text)
    return {s.name: (s.p(0.5), s.p(0.99), len(s.samples), s.misses) for s in series}


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
