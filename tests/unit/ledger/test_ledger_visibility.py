"""What other processes see: whole appends only, everything once no Catalyst process runs."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from catalyst.ledger import Ledger

BATCH = 50

WRITER = r"""
import datetime as dt, sys
from catalyst.ledger import Ledger
import os, time
path, name, batches, rows, pause = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
ledger = Ledger(path)
now = dt.datetime.now(dt.timezone.utc)
for b in range(batches):
    while pause and b == batches // 2 and not os.path.exists(pause):
        time.sleep(0.005)  # half-way: wait until the reader has looked
    ledger.append("log_events", [{"event_id": f"{name}-{b}-{i}", "ts": now, "event": f"{name}-{b}"}
                                 for i in range(rows)])
"""  # exits without flush(): the at-exit ingest must move the journal in


def start_writer(
    path: Path, name: str, batches: int, rows: int = BATCH, pause: Path | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), name, str(batches), str(rows), str(pause or "")],
        stderr=subprocess.PIPE,
        text=True,
    )


def test_after_the_writers_exit_a_plain_duckdb_client_sees_every_event(tmp_path: Path) -> None:
    path = tmp_path / "ledger.duckdb"
    Ledger(path).schema_version()
    writers = [start_writer(path, f"w{n}", batches=10, rows=3) for n in range(2)]
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
    assert list(tmp_path.glob("ledger.duckdb.journal/*.jnl")) == []  # nothing left waiting
    con = duckdb.connect(str(path))  # no Catalyst process runs: an ordinary client opens it
    try:
        assert con.execute("SELECT count(*), count(DISTINCT event_id) FROM log_events").fetchone() == (60, 60)
    finally:
        con.close()


@pytest.mark.slow
def test_a_reader_never_sees_part_of_an_append(tmp_path: Path) -> None:
    path = tmp_path / "ledger.duckdb"
    reader = Ledger(path)
    reader.schema_version()
    half = tmp_path / "reader-has-looked"
    writers = [start_writer(path, f"w{n}", batches=60, pause=half) for n in range(2)]
    seen: list[dict[str, int]] = []
    while True:
        running = any(w.poll() is None for w in writers)
        counts = reader.query("SELECT event, count(*) AS n FROM log_events GROUP BY event")
        seen.append(dict(zip(counts["event"], counts["n"], strict=True)))
        if seen[-1] and not half.exists():
            half.touch()  # the writers are paused half-way: this snapshot is mid-write
        if not running:
            break
        time.sleep(0.005)
    for writer in writers:
        _, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err
    partial = {event: n for snapshot in seen for event, n in snapshot.items() if n != BATCH}
    assert partial == {}, f"a reader saw appends in part: {partial}"
    assert len(seen[-1]) == 120
    assert any(0 < len(s) <= 60 for s in seen), "the reader never looked while the writers wrote"


APPEND_AND_STAY = r"""
import datetime as dt, sys, time
from catalyst.ledger import Ledger
ledger = Ledger(sys.argv[1])
ledger.append("log_events", {"event_id": "bg", "ts": dt.datetime.now(dt.timezone.utc), "event": "x"})
print("appended", flush=True)
time.sleep(120)  # alive, never reads: only the background ingest can move the event in
"""


def plain_count(path: Path) -> int | None:
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:  # the writer has it attached for an ingest right now
        return None
    try:
        return int(con.execute("SELECT count(*) FROM log_events").fetchone()[0])  # type: ignore[index]
    finally:
        con.close()


def test_a_live_process_that_never_reads_still_moves_its_appends_into_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ledger.duckdb"
    Ledger(path).schema_version()
    writer = subprocess.Popen(
        [sys.executable, "-c", APPEND_AND_STAY, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "appended"
        deadline = time.monotonic() + 60
        while plain_count(path) != 1:
            assert time.monotonic() < deadline, "the background ingest never moved the event into the file"
            assert writer.poll() is None
            time.sleep(0.1)
    finally:
        writer.kill()
        writer.wait()
