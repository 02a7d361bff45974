"""The monitor's polls are not events: at info level its log says what happened, not every quote.

Over the simulated gateway with two open positions: passes of the quote duty write no info line
(each request and answer is a debug record, marked routine); a minute of polls writes one
``monitor.polls`` line with their counts and last prices; what the monitor does (the protection it
places) and what the broker reports stay at info.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from risk_sim_helpers import SIM_CLOCK, Rig, make_rig, record_position, run, ticks

from catalyst.log import configure_logging, reset_logging
from catalyst.market import board_lot, security, snap_to_tick
from catalyst.risk.limits import RiskLimits
from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("risk_log_volume")]

WORKING = {"PreSubmitted", "Submitted"}

ACCOUNTS = ("DU0000061", "DU0000062")
SYMBOLS = ("700", "5")


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHandle]:
    handle = start_gateway(tmp_path_factory.mktemp("log-gw"), clock=SIM_CLOCK, accounts=ACCOUNTS)
    try:
        yield handle
    finally:
        handle.stop()


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _protected(gw: GatewayHandle, account: str) -> bool:
    working = [o for o in gw.control.orders() if o["account"] == account and o["status"] in WORKING]
    return {str(o["symbol"]) for o in working if str(o["order_ref"]).count(":PROT")} == set(SYMBOLS)


async def _open_positions(gw: GatewayHandle, rig: Rig, account: str) -> None:
    """After the monitor's first pass (it reconciles), two positions appear with their levels in the
    ledger; the monitor protects them on the broker's events; then its passes are routine."""
    await rig.monitor.run_once()
    for symbol in SYMBOLS:
        q = await rig.session.quote(symbol)
        assert q.ask is not None and q.bid is not None
        table = security(symbol).spread_table
        qty = board_lot(symbol) * max(1, int(Decimal(50000) / (q.ask * board_lot(symbol))))
        stop = snap_to_tick(q.bid * Decimal("0.8"), "down", table=table)
        record_position(rig.ledger, account, symbol, qty, stop, ticks(q.ask, 20, symbol))  # quotation rule
        gw.control.drift(account, symbol, qty)
    deadline = time.monotonic() + 30
    while not _protected(gw, account):
        assert time.monotonic() < deadline, "the monitor did not protect the positions"
        await rig.monitor.run_once()
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)
    await rig.monitor.run_once()  # the last order reports of the protection


def _capture(level: str, log_file: Path) -> Iterator[None]:
    quiet = open(os.devnull, "w")  # noqa: SIM115 - closed below
    configure_logging(json_file=log_file, level=level, console=False, stream=quiet)
    if level == "DEBUG":  # the IB client's own debug output (every message) is not the monitor's
        logging.getLogger("ib_async").setLevel(logging.INFO)
    try:
        yield
    finally:
        reset_logging()
        logging.getLogger("ib_async").setLevel(logging.NOTSET)
        quiet.close()


@pytest.fixture(scope="module")
def logged(gw: GatewayHandle, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two protected positions, then ten passes with quotes due each time, then a minute later one
    more, with the log at INFO in a file; the records and where the ten passes start and end."""
    folder = tmp_path_factory.mktemp("log-volume")
    log_file = folder / "monitor.jsonl"
    offset = [timedelta(0)]
    rig = make_rig(gw.host, gw.port, ACCOUNTS[0], folder, RiskLimits(), quote_interval=0.0)
    rig.monitor.clock = lambda: datetime.now(UTC) + offset[0]
    seen: dict[str, Any] = {}

    async def scenario(rig: Rig) -> None:
        await _open_positions(gw, rig, ACCOUNTS[0])
        seen["start"] = len(_records(log_file))
        for _ in range(10):
            await rig.monitor.run_once()  # quotes (due every pass) and the breaker
        seen["end"] = len(_records(log_file))
        offset[0] = timedelta(seconds=61)
        await rig.monitor.run_once()

    with contextlib.contextmanager(_capture)("INFO", log_file):
        run(rig, scenario)
    seen["records"] = _records(log_file)
    return seen


def test_ten_quote_passes_over_two_positions_write_no_info_line(logged: dict[str, Any]) -> None:
    quote_passes = logged["records"][logged["start"] : logged["end"]]
    assert [(r["event"], r.get("what")) for r in quote_passes if r["level"] != "warning"] == []


def test_a_minute_of_polls_is_one_summary_line_with_counts_and_last_prices(logged: dict[str, Any]) -> None:
    (summary,) = [r for r in logged["records"] if r["event"] == "monitor.polls"]
    assert summary["level"] == "info"
    assert summary["passes"] >= 11 and summary["quotes"] >= 2 * 11
    assert set(summary["last"]) == set(SYMBOLS)


def test_what_the_monitor_did_and_the_broker_reported_stays_at_info(logged: dict[str, Any]) -> None:
    events = {r["event"] for r in logged["records"]}
    assert {"broker.recv.order_status", "broker.recv.position", "monitor.sync.done"} <= events
    assert "broker.map.price" in events, "the protection it placed is on record"


def test_at_debug_level_every_poll_is_still_there_marked_routine(gw: GatewayHandle, tmp_path: Path) -> None:
    log_file = tmp_path / "debug.jsonl"
    rig = make_rig(gw.host, gw.port, ACCOUNTS[1], tmp_path, RiskLimits(), quote_interval=0.0)

    start: list[int] = []

    async def passes(rig: Rig) -> None:
        await _open_positions(gw, rig, ACCOUNTS[1])
        start.append(len(_records(log_file)))
        for _ in range(3):
            await rig.monitor.run_once()

    with contextlib.contextmanager(_capture)("DEBUG", log_file):
        run(rig, passes)
    quotes = [r for r in _records(log_file)[start[0] :] if r["event"] == "broker.query.quote"]
    assert len(quotes) >= 3 * len(SYMBOLS)
    assert all(r["level"] == "debug" and r["routine"] is True for r in quotes)


def test_a_broker_report_that_repeats_the_last_one_of_its_order_is_not_at_info(
    logged: dict[str, Any],
) -> None:
    """Every open-orders poll and status sync re-reports each working order: only changes are news."""
    last: dict[tuple[str, str], dict[str, Any]] = {}
    repeats = []
    for r in logged["records"]:
        if r["event"] not in ("broker.recv.order", "broker.recv.order_status"):
            continue
        state = {k: v for k, v in r.items() if k not in ("received_at", "timestamp")}
        key = (r["event"], str(r.get("perm_id")))
        if last.get(key) == state:
            repeats.append(key)
        last[key] = state
    assert last, "the protection's orders were reported"
    assert repeats == []
