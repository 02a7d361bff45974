"""Waiting for the ledger: our own lock times out with a clear error; DuckDB's lock is retried."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from catalyst.ledger import Ledger, LedgerBusyError
from catalyst.ledger.lock import LedgerFileLock

HOLD_DUCKDB_FILE = r"""
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])   # a process that ignores Catalyst's lock file
print("held", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def hold_with_plain_duckdb(path: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_DUCKDB_FILE, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_held_ledger_lock_ends_in_a_busy_error_naming_the_file_and_the_wait(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb", lock_timeout=0.2)
    with LedgerFileLock(ledger.lock_path, timeout=1), pytest.raises(LedgerBusyError) as caught:
        ledger.schema_version()
    assert str(ledger.lock_path) in str(caught.value)
    assert "0.2 s" in str(caught.value)


def test_a_writer_waits_for_a_process_holding_the_duckdb_file_and_then_succeeds(tmp_path: Path) -> None:
    """A state-table write (upsert) goes to the file itself: it waits for the holder, then lands."""
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.schema_version()  # create it
    holder = hold_with_plain_duckdb(ledger.path, 0.6)
    started = time.monotonic()
    ledger.upsert("positions", {"account": "DU1", "symbol": "700", "quantity": 100})
    waited = time.monotonic() - started
    holder.wait(timeout=30)
    assert ledger.scalar("SELECT quantity FROM positions") == 100
    assert waited > 0.1


def test_an_event_appended_while_a_process_holds_the_duckdb_file_lands_once_the_file_is_free(
    tmp_path: Path,
) -> None:
    """An event append is journaled: it returns while the holder still has the file (it does not
    wait for it) and is in the file once the holder lets go and the ledger is next used."""
    ledger = Ledger(tmp_path / "l.duckdb", busy_timeout=1.0)
    ledger.schema_version()
    holder = hold_with_plain_duckdb(ledger.path, 120)
    try:
        assert ledger.append("risk_events", {"event_id": "r1", "ts": "2026-03-02T02:30:00+00:00",
                                             "kind": "breaker_tripped", "severity": "critical",
                                             "message": "loss limit"}) == 1  # fmt: skip
        assert holder.poll() is None  # the holder still has the file: the append did not wait for it
    finally:
        holder.kill()
        holder.wait()
    assert ledger.scalar("SELECT kind FROM risk_events WHERE event_id = 'r1'") == "breaker_tripped"


def test_a_process_holding_the_duckdb_file_too_long_ends_in_a_busy_error(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb", busy_timeout=0.3)
    ledger.schema_version()
    holder = hold_with_plain_duckdb(ledger.path, 3)
    try:
        with pytest.raises(LedgerBusyError, match="held open by a process"):
            ledger.schema_version()
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_is_released_when_the_operation_fails(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb", lock_timeout=0.5)
    with pytest.raises(Exception, match="unknown ledger table"):
        ledger.append("nope", {})
    assert ledger.schema_version() >= 1
