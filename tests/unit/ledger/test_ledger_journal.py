"""Appends go to a per-process journal first; the next ledger operation moves them into the file.

These read as the journal's contract: an append never waits for the ledger lock; a record is all
of one append or nothing; a torn record from a killed writer is ignored; damage never blocks
later records; each event is stored once however often its journal is read.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from pathlib import Path
from typing import Any

import duckdb
import pytest

from catalyst.ledger import Ledger, LedgerError
from catalyst.ledger.journal import JournalWriter, encode_record, journals, read_journal
from catalyst.ledger.lock import LedgerFileLock

NOW = dt.datetime(2026, 3, 2, 2, 30, tzinfo=dt.UTC)


def event(ident: str, name: str = "x") -> dict[str, Any]:
    return {"event_id": ident, "ts": NOW, "event": name}


def record(*idents: str, table: str = "log_events") -> bytes:
    """A journal record as ``append`` writes it: rows as the text the ingest casts back."""
    rows: list[list[str | None]] = [[i, NOW.isoformat(), "x"] for i in idents]
    return encode_record(table, [(["event_id", "ts", "event"], rows)])


def stored_ids(ledger: Ledger) -> list[str]:
    return sorted(ledger.query("SELECT event_id FROM log_events")["event_id"])


def dead_journal(ledger: Ledger, name: str, data: bytes) -> Path:
    """A journal left by a writer that is gone (nobody holds its lock)."""
    ledger.journal_folder.mkdir(parents=True, exist_ok=True)
    path = ledger.journal_folder / f"{name}.jnl"
    path.write_bytes(data)
    return path


def test_an_append_returns_while_another_process_holds_the_ledger_lock(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb", lock_timeout=0.5)
    ledger.schema_version()
    with LedgerFileLock(ledger.lock_path, timeout=1):  # held for the whole append
        assert ledger.append("log_events", event("a")) == 1
    assert stored_ids(ledger) == ["a"]


def test_a_read_sees_every_append_made_before_it(ledger: Ledger) -> None:
    for i in range(20):
        ledger.append("log_events", event(f"e{i:02d}"))
    assert stored_ids(ledger) == [f"e{i:02d}" for i in range(20)]


def test_a_torn_last_record_from_a_killed_writer_is_ignored_and_the_rest_ingested(ledger: Ledger) -> None:
    ledger.schema_version()
    torn = record("c")[:-5]  # the kill landed in the middle of the third write
    path = dead_journal(ledger, "999-dead-00001", record("a") + record("b") + torn)
    assert stored_ids(ledger) == ["a", "b"]
    assert not path.exists()  # complete (its writer is gone) and ingested: removed
    assert ledger.scalar("SELECT count(*) FROM journal_ingest") == 0


def test_a_damaged_record_inside_a_dead_journal_does_not_hide_the_records_after_it(ledger: Ledger) -> None:
    ledger.schema_version()
    damaged = bytearray(record("b"))
    damaged[-3] ^= 0xFF  # a flipped byte: its checksum no longer matches
    dead_journal(ledger, "999-dead-00001", record("a") + bytes(damaged) + record("c"))
    assert stored_ids(ledger) == ["a", "c"]


def test_a_record_still_being_written_is_left_for_the_next_read_and_then_stored_once(ledger: Ledger) -> None:
    ledger.schema_version()
    ledger.journal_folder.mkdir(parents=True, exist_ok=True)
    path = ledger.journal_folder / "998-live-00001.jnl"
    second = record("b")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # its writer is alive
        os.write(fd, record("a") + second[:7])
        assert stored_ids(ledger) == ["a"]
        os.write(fd, second[7:])  # the write completes
        assert stored_ids(ledger) == ["a", "b"]
        assert stored_ids(ledger) == ["a", "b"]
        assert path.exists()  # a live writer's journal is never removed
    finally:
        os.close(fd)
    assert stored_ids(ledger) == ["a", "b"]
    assert not path.exists()


def test_a_journal_read_again_after_losing_its_offset_stores_each_event_once(ledger: Ledger) -> None:
    ledger.schema_version()
    ledger.journal_folder.mkdir(parents=True, exist_ok=True)
    path = ledger.journal_folder / "997-live-00001.jnl"
    path.write_bytes(record("a", "b"))
    holder = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(holder, fcntl.LOCK_SH)
        assert stored_ids(ledger) == ["a", "b"]
        # a crash between the commit and the offset (or a deleted offset row): read from the start
        ledger.execute_many(["DELETE FROM journal_ingest"])
        assert stored_ids(ledger) == ["a", "b"]
    finally:
        os.close(holder)


def test_all_rows_of_one_append_reach_the_ledger_together(ledger: Ledger) -> None:
    ledger.schema_version()
    torn = record("b1", "b2", "b3")[:-1]  # one append of three rows, cut short
    dead_journal(ledger, "999-dead-00001", record("a1", "a2") + torn)
    assert stored_ids(ledger) == ["a1", "a2"]  # never b1 without b2 and b3


def test_a_record_the_ledger_refuses_is_set_aside_and_later_records_still_land(ledger: Ledger) -> None:
    ledger.schema_version()
    dead_journal(ledger, "999-dead-00001", record("a") + record("z", table="no_such_table") + record("b"))
    assert stored_ids(ledger) == ["a", "b"]
    kept = sorted(p.name for p in (ledger.journal_folder / "rejected").iterdir())
    assert len(kept) == 2 and any(
        "no_such_table" in (ledger.journal_folder / "rejected" / k).read_text() for k in kept
    )


def test_a_full_journal_is_rotated_and_the_ingested_old_ones_are_deleted(ledger: Ledger) -> None:
    ledger.schema_version()
    writer = JournalWriter(ledger.journal_folder, rotate_bytes=300)
    for i in range(12):
        writer.write(record(f"r{i:02d}"))
    assert len(journals(ledger.journal_folder)) > 2
    assert stored_ids(ledger) == [f"r{i:02d}" for i in range(12)]
    assert journals(ledger.journal_folder) == [writer.path]  # only the one still being written
    writer.close()
    ledger.flush()
    assert journals(ledger.journal_folder) == []


def test_a_value_the_column_cannot_hold_is_refused_by_the_append_itself(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match=r"log_events\.ts is a timestamp"):
        ledger.append("log_events", {"event_id": "a", "ts": "yesterday", "event": "x"})
    with pytest.raises(LedgerError, match=r"risk_events row lacks required column.*kind"):
        ledger.append("risk_events", {"event_id": "b", "ts": NOW, "severity": "info", "message": "m"})
    assert not any(read_journal(p, 0).records for p in journals(ledger.journal_folder))


def test_values_come_back_exactly_as_appended(ledger: Ledger) -> None:
    from decimal import Decimal

    hk = dt.timezone(dt.timedelta(hours=8))
    ledger.append(
        "fills",
        {
            "exec_id": "x1",
            "ts": dt.datetime(2026, 3, 2, 10, 30, 0, 123456, tzinfo=hk),
            "symbol": "700",
            "side": "BUY",
            "quantity": 2**40,
            "price": Decimal("9.05"),
            "fees": 62.35,
            "realized_pnl": 0.1,
            "raw": {"p": Decimal("9.05"), "text": '港交所 "quoted"'},
        },
    )
    row = ledger.query("SELECT * FROM fills").iloc[0]
    assert row["ts"] == dt.datetime(2026, 3, 2, 2, 30, 0, 123456, tzinfo=dt.UTC)
    assert (row["quantity"], row["price"], row["fees"]) == (2**40, Decimal("9.05"), Decimal("62.35"))
    assert row["realized_pnl"] == 0.1
    assert row["raw"] == '{"p": "9.05", "text": "港交所 \\"quoted\\""}'


def test_the_sync_setting_is_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CATALYST_LEDGER_SYNC_APPENDS", "1")
    synced = Ledger(tmp_path / "l.duckdb")
    assert synced.sync_appends
    synced.append("log_events", event("a"))
    assert stored_ids(synced) == ["a"]
    monkeypatch.delenv("CATALYST_LEDGER_SYNC_APPENDS")
    assert not Ledger(tmp_path / "l.duckdb").sync_appends


def test_a_transaction_writes_its_appends_to_the_file_not_the_journal(ledger: Ledger) -> None:
    ledger.schema_version()
    with ledger.transaction():
        ledger.append("log_events", event("t"))
    assert not any(read_journal(p, 0).records for p in journals(ledger.journal_folder))
    con = duckdb.connect(str(ledger.path))  # nothing of ours holds the file now
    try:
        assert con.execute("SELECT event_id FROM log_events").fetchall() == [("t",)]
    finally:
        con.close()
