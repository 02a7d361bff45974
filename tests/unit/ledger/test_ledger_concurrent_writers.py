"""Several processes write one ledger at once: every event lands exactly once (issue 2, point 4)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from catalyst.ledger import Ledger
from catalyst.ledger.migrate import latest_version

PROCESSES = 3
EVENTS_PER_PROCESS = 500

# Each worker waits for a start file so all of them write at the same time, then makes
# EVENTS_PER_PROCESS separate append calls over four event tables; every 50th event is appended
# twice (a retry), which must not duplicate it.
WORKER = r"""
import datetime as dt, json, os, sys, time
from decimal import Decimal
from catalyst.ledger import Ledger

path, worker, count, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ledger = Ledger(path)
while not os.path.exists(go):
    time.sleep(0.001)
start = time.perf_counter()
for i in range(count):
    now = dt.datetime.now(dt.timezone.utc)
    ident = f"w{worker}-{i}"
    kind = i % 4
    if kind == 0:
        table, row = "order_events", {"event_id": ident, "ts": now, "run_id": f"run{worker}",
                                      "order_ref": f"i{worker}:{i}:P", "status": "Submitted",
                                      "source": "stream"}
    elif kind == 1:
        table, row = "fills", {"exec_id": ident, "ts": now, "run_id": f"run{worker}", "symbol": "700",
                               "side": "BUY", "quantity": 100, "price": Decimal("388.20"),
                               "fees": Decimal("62.35")}
    elif kind == 2:
        table, row = "risk_events", {"event_id": ident, "ts": now, "kind": "pretrade_rejected",
                                     "severity": "info", "message": "test", "detail": {"i": i}}
    else:
        table, row = "log_events", {"event_id": ident, "ts": now, "level": "info", "event": "test.event",
                                    "payload": {"worker": worker}}
    ledger.append(table, row)
    if i % 50 == 0:
        ledger.append(table, row)
elapsed = time.perf_counter() - start
print(json.dumps({"worker": worker, "elapsed": elapsed}))
"""

ID_COLUMNS = {
    "order_events": "event_id",
    "fills": "exec_id",
    "risk_events": "event_id",
    "log_events": "event_id",
}


@pytest.mark.slow
def test_three_processes_appending_500_events_each_store_every_event_exactly_once(tmp_path: Path) -> None:
    path = tmp_path / "ledger.duckdb"  # fresh: the workers' first opens also race to migrate it
    go = tmp_path / "go"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(path), str(n), str(EVENTS_PER_PROCESS), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    time.sleep(0.5)  # let the interpreters start; the start file then releases them together
    started = time.perf_counter()
    go.touch()
    results = [w.communicate(timeout=240) for w in workers]
    wall = time.perf_counter() - started
    for worker, (_, err) in zip(workers, results, strict=True):
        assert worker.returncode == 0, err
    per_worker = [json.loads(out.strip().splitlines()[-1])["elapsed"] for out, _ in results]

    ledger = Ledger(path)
    stored: list[str] = []
    for table, column in ID_COLUMNS.items():
        stored += list(ledger.query(f"SELECT {column} AS id FROM {table}")["id"])
    expected = {f"w{n}-{i}" for n in range(PROCESSES) for i in range(EVENTS_PER_PROCESS)}
    assert len(stored) == len(expected)
    assert set(stored) == expected
    assert ledger.scalar("SELECT count(*) FROM schema_version") == latest_version()

    calls = PROCESSES * (EVENTS_PER_PROCESS + EVENTS_PER_PROCESS // 50)
    print(
        f"\nledger concurrency: {PROCESSES} processes x {EVENTS_PER_PROCESS} events "
        f"({calls} append calls) in {wall:.2f} s wall = {len(expected) / wall:.0f} events/s, "
        f"{calls / wall:.0f} append calls/s; per worker {', '.join(f'{t:.2f} s' for t in per_worker)}"
    )
