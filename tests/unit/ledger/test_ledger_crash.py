"""A writer killed with SIGKILL in the middle of a batch: every append that returned is kept, once.

The worker appends batches of rows in a loop and reports each batch on stdout only after its
``append`` returned; now and then it also ingests (``flush``), so the kill can land in the middle
of a journal write, of an ingest transaction, or between the two. After the kill the ledger must
open, hold every reported batch exactly once, and hold the batch in flight whole or not at all.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from catalyst.ledger import Ledger
from catalyst.ledger.migrate import latest_version

ROWS_PER_BATCH = 40

WORKER = r"""
import datetime as dt, sys
from catalyst.ledger import Ledger
path, rows, flush_every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ledger = Ledger(path)
now = dt.datetime.now(dt.timezone.utc)
batch = 0
while True:
    ledger.append("log_events", [{"event_id": f"b{batch}-{i}", "ts": now, "event": f"b{batch}",
                                  "payload": {"i": i, "pad": "x" * 200}} for i in range(rows)])
    print(batch, flush=True)  # only after append returned
    if flush_every and batch % flush_every == flush_every - 1:
        ledger.flush()
    batch += 1
"""


def run_and_kill(path: Path, *, acked_before_kill: int, flush_every: int) -> int:
    """Start a writer, SIGKILL it once it reported ``acked_before_kill`` batches; the last reported."""
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(path), str(ROWS_PER_BATCH), str(flush_every)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    last = -1
    try:
        deadline = time.monotonic() + 120
        while last < acked_before_kill - 1:
            line = worker.stdout.readline()
            assert line, f"the writer ended early: {worker.stderr.read() if worker.stderr else ''}"
            last = int(line)
            assert time.monotonic() < deadline
        worker.send_signal(signal.SIGKILL)  # mid-way through the next batch (or its ingest)
    finally:
        worker.kill()
        worker.wait()
    for line in worker.stdout.read().split():  # reports still in the pipe when it died
        last = int(line)
    assert worker.returncode == -signal.SIGKILL
    return last


def batch_counts(ledger: Ledger) -> dict[str, int]:
    counted = ledger.query(
        "SELECT event, count(*) AS n, count(DISTINCT event_id) AS d FROM log_events GROUP BY event"
    )
    assert (counted["n"] == counted["d"]).all(), "an event was stored twice"
    return dict(zip(counted["event"], counted["n"], strict=True))


@pytest.mark.slow
@pytest.mark.parametrize("flush_every", [0, 3], ids=["journal-only", "with-ingests"])
def test_a_writer_killed_mid_batch_loses_no_returned_append_and_doubles_none(
    tmp_path: Path, flush_every: int
) -> None:
    path = tmp_path / "ledger.duckdb"
    Ledger(path).schema_version()
    last = run_and_kill(path, acked_before_kill=25, flush_every=flush_every)

    ledger = Ledger(path)  # "after restart": a new process would do the same
    assert ledger.schema_version() == latest_version()
    counts = batch_counts(ledger)
    for n in range(last + 1):
        assert counts.get(f"b{n}") == ROWS_PER_BATCH, f"batch {n} returned but has {counts.get(f'b{n}')} rows"
    in_flight = counts.get(f"b{last + 1}")
    assert in_flight in (None, ROWS_PER_BATCH), f"the batch in flight is half there: {in_flight} rows"
    assert set(counts) <= {f"b{n}" for n in range(last + 2)}
    assert (
        list(tmp_path.glob("ledger.duckdb.journal/*.jnl")) == []
    )  # the dead writer's journal was ingested and removed

    con = duckdb.connect(str(path))  # and a plain DuckDB client opens it
    try:
        assert con.execute("SELECT count(DISTINCT event) FROM log_events").fetchone()[0] >= last + 1
    finally:
        con.close()
