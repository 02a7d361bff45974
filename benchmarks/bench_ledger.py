"""Ledger write cost: Catalyst's locked attach-per-operation against the alternatives, side by side.

Every ledger operation must release DuckDB's file lock when it ends so other processes can write
(see ``catalyst/ledger/ledger_store.py``). This measures, in one run on one machine:

* Catalyst ``Ledger.append`` (flock + ATTACH/DETACH on a per-process in-memory instance);
* the naive short-lived way: ``duckdb.connect`` / ``close`` per operation;
* one long-lived connection (fastest, but holds the file: other processes cannot write at all);
* Catalyst with N rows in one ``append`` call (batching);
* Catalyst with 3 processes appending at once (the concurrency acceptance test's workload).

Writes its section of BENCHMARKS.md between its own markers.
Reproduce: ``.venv/bin/python -m benchmarks.bench_ledger [N]`` (``--no-write`` to only print).
"""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.benchmarks_md import write_section
from catalyst.ledger import Ledger
from catalyst.ledger.ledger_migrations import migrate

NOW = dt.datetime(2026, 3, 2, 2, 30, tzinfo=dt.UTC)
INSERT = "INSERT INTO log_events (event_id, ts, event) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"

WORKER = r"""
import datetime as dt, sys, time
from catalyst.ledger import Ledger
ledger, worker, n = Ledger(sys.argv[1]), sys.argv[2], int(sys.argv[3])
now = dt.datetime.now(dt.timezone.utc)
ledger.schema_version()
for i in range(n):
    ledger.append("log_events", {"event_id": f"{worker}-{i}", "ts": now, "event": "bench"})
"""


def fresh(folder: Path, name: str) -> Path:
    path = folder / name
    con = duckdb.connect(str(path))
    migrate(con)
    con.close()
    return path


def catalyst_per_call(path: Path, n: int) -> float:
    ledger = Ledger(path)
    ledger.schema_version()
    t0 = time.perf_counter()
    for i in range(n):
        ledger.append("log_events", {"event_id": f"c{i}", "ts": NOW, "event": "bench"})
    return time.perf_counter() - t0


def connect_per_call(path: Path, n: int) -> float:
    t0 = time.perf_counter()
    for i in range(n):
        con = duckdb.connect(str(path))
        con.execute(INSERT, [f"n{i}", NOW, "bench"])
        con.close()
    return time.perf_counter() - t0


def long_lived(path: Path, n: int) -> float:
    con = duckdb.connect(str(path))
    t0 = time.perf_counter()
    for i in range(n):
        con.execute(INSERT, [f"l{i}", NOW, "bench"])
    con.close()
    return time.perf_counter() - t0


def catalyst_batch(path: Path, n: int) -> float:
    ledger = Ledger(path)
    ledger.schema_version()
    rows = [{"event_id": f"b{i}", "ts": NOW, "event": "bench"} for i in range(n)]
    t0 = time.perf_counter()
    ledger.append("log_events", rows)
    return time.perf_counter() - t0


def three_processes(path: Path, n: int) -> float:
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(path), f"p{w}", str(n)]) for w in range(3)]
    for p in procs:
        if p.wait() != 0:
            raise SystemExit("a benchmark worker failed")
    elapsed = time.perf_counter() - t0
    if Ledger(path).scalar("SELECT count(*) FROM log_events") != 3 * n:
        raise SystemExit("the concurrent run lost or duplicated events")
    return elapsed


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = [a for a in (argv if argv is not None else sys.argv[1:]) if not a.startswith("--")]
    n = int(args[0]) if args else 300
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ours = catalyst_per_call(folder / "ours.duckdb", n)
        naive = connect_per_call(fresh(folder, "naive.duckdb"), n)
        held = long_lived(fresh(folder, "held.duckdb"), n)
        batch = catalyst_batch(folder / "batch.duckdb", n)
        multi = three_processes(folder / "multi.duckdb", n)
    per = {k: v / n * 1000 for k, v in {"ours": ours, "naive": naive, "held": held}.items()}
    text = f"""## Ledger writes (`benchmarks/bench_ledger.py`)

N = {n} single-row appends to `log_events`, each way in one run on {platform.machine()} /
Python {platform.python_version()} / DuckDB {duckdb.__version__} (shared 2-core machine: absolute
numbers move with load, the ratios less so).

| way | per append | appends/s | releases the file between calls |
|---|---|---|---|
| Catalyst `Ledger.append` (flock + ATTACH/DETACH) | {per["ours"]:.1f} ms | {n / ours:,.0f} | yes |
| `duckdb.connect` / `close` per call | {per["naive"]:.1f} ms | {n / naive:,.0f} | yes |
| one long-lived connection | {per["held"]:.2f} ms | {n / held:,.0f} | no (other processes cannot write) |
| Catalyst, {n} rows in one `append` | {batch * 1000 / n:.2f} ms/row | {n / batch:,.0f} | yes |
| Catalyst, 3 processes x {n} appends at once | {multi * 1000 / (3 * n):.1f} ms (wall/event) \
| {3 * n / multi:,.0f} | yes |

Catalyst's per-call cost is {naive / ours:.1f}x lower than connecting per call; batching rows into
one call is {ours / batch:.0f}x cheaper per row. Reproduce: `.venv/bin/python -m benchmarks.bench_ledger`.
"""
    print(text)
    if "--no-write" not in (argv if argv is not None else sys.argv[1:]):
        write_section("bench_ledger", text)
    return {"ours_s": ours, "naive_s": naive, "held_s": held, "batch_s": batch, "multi_s": multi}


if __name__ == "__main__":
    main()
