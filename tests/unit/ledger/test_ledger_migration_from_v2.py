"""A ledger written by the code before the journal (schema version 2) opens, migrates and keeps its rows.

``fixtures/ledger_v2.duckdb.gz`` was made by ``fixtures/make_ledger_v2.py`` running the code of
commit 2c9af05 (attach-per-operation, no journal): one run, one intent, three fills, five log events.
"""

from __future__ import annotations

import datetime as dt
import gzip
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb

from catalyst.ledger import Ledger
from catalyst.ledger.migrate import latest_version

FIXTURE = Path(__file__).parent / "fixtures" / "ledger_v2.duckdb.gz"
NOW = dt.datetime(2026, 3, 2, 2, 30, tzinfo=dt.UTC)


def old_ledger(tmp_path: Path) -> Path:
    path = tmp_path / "state" / "ledger.duckdb"
    path.parent.mkdir(parents=True)
    with gzip.open(FIXTURE, "rb") as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return path


def test_the_fixture_really_is_a_version_2_ledger(tmp_path: Path) -> None:
    con = duckdb.connect(str(old_ledger(tmp_path)), read_only=True)
    try:
        assert con.execute("SELECT max(version) FROM schema_version").fetchone() == (2,)
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert "journal_ingest" not in tables
    finally:
        con.close()


def test_a_version_2_ledger_is_migrated_and_keeps_every_row(tmp_path: Path) -> None:
    ledger = Ledger(old_ledger(tmp_path))
    assert ledger.schema_version() == latest_version() >= 3
    assert ledger.scalar("SELECT status FROM runs WHERE run_id = 'r1'") == "ok"
    assert ledger.scalar("SELECT entry_price FROM intents") == Decimal("388.20")
    fills = ledger.query("SELECT exec_id, price, fees FROM fills ORDER BY exec_id")
    assert fills["exec_id"].tolist() == ["e0", "e1", "e2"]
    assert set(fills["price"]) == {Decimal("388.20")} and set(fills["fees"]) == {Decimal("62.35")}
    assert ledger.scalar("SELECT count(*) FROM log_events") == 5


def test_a_migrated_ledger_takes_journaled_appends_without_doubling_old_events(tmp_path: Path) -> None:
    ledger = Ledger(old_ledger(tmp_path))
    ledger.append("log_events", [{"event_id": "l0", "ts": NOW, "event": "again"}])  # an old id: a retry
    ledger.append("log_events", [{"event_id": "new", "ts": NOW, "event": "new"}])
    ledger.upsert("runs", {"run_id": "r1", "status": "reviewed"})
    assert ledger.scalar("SELECT count(*) FROM log_events") == 6
    assert ledger.scalar("SELECT event FROM log_events WHERE event_id = 'l0'") == "old"
    assert ledger.scalar("SELECT status FROM runs") == "reviewed"
