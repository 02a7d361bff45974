"""Versioned schema: migrations applied once, in order, recorded in schema_version."""

from __future__ import annotations

from pathlib import Path

import duckdb

from catalyst.ledger import EVENT_TABLES, Ledger
from catalyst.ledger.migrate import available_migrations, latest_version, migrate


def test_a_new_ledger_gets_every_migration_recorded_once(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    assert ledger.schema_version() == latest_version()
    versions = ledger.query("SELECT version FROM schema_version ORDER BY version")["version"].tolist()
    assert versions == [m.version for m in available_migrations()]


def test_migrating_twice_applies_nothing_the_second_time(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "l.duckdb"))
    try:
        assert migrate(con) == [m.version for m in available_migrations()]
        assert migrate(con) == []
        assert con.execute("SELECT count(*) FROM schema_version").fetchone() == (latest_version(),)
    finally:
        con.close()


def test_reopening_a_ledger_keeps_its_rows_and_version(tmp_path: Path) -> None:
    path = tmp_path / "l.duckdb"
    Ledger(path).upsert("positions", {"account": "DU1", "symbol": "700", "quantity": 100})
    again = Ledger(path)
    assert again.schema_version() == latest_version()
    assert again.scalar("SELECT count(*) FROM positions") == 1


def test_every_table_the_issue_names_exists(tmp_path: Path) -> None:
    tables = set(Ledger(tmp_path / "l.duckdb").tables())
    assert {
        "runs",
        "intents",
        "orders",
        "order_events",
        "fills",
        "positions",
        "position_snapshots",
        "reconciliations",
        "discrepancies",
        "risk_events",
        "alerts",
        "log_events",
        "schema_version",
    } <= tables
    assert tables >= EVENT_TABLES


def test_migration_files_are_numbered_without_gaps() -> None:
    assert [m.version for m in available_migrations()] == list(range(1, latest_version() + 1))
