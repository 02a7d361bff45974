"""A run's rows, and only its rows, export to a standalone trade_log.duckdb."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from catalyst.ledger import Ledger, LedgerError

NOW = dt.datetime(2026, 3, 2, 2, 30, tzinfo=dt.UTC)


def record_run(ledger: Ledger, run: str) -> None:
    with ledger.transaction():
        _record_run(ledger, run)


def _record_run(ledger: Ledger, run: str) -> None:
    ledger.upsert("runs", {"run_id": run, "kind": "cycle", "mode": "sim", "started_at": NOW, "status": "ok"})
    ledger.upsert(
        "intents",
        {
            "intent_id": f"{run}-i",
            "run_id": run,
            "created_at": NOW,
            "symbol": "700",
            "side": "BUY",
            "quantity": 100,
            "entry_price": Decimal("388.2"),
            "stop_price": Decimal("380"),
            "target_price": Decimal("400"),
            "status": "proven",
        },
    )
    # Orders and fills written by the broker layer carry the intent's orderRef but no run id.
    ledger.upsert(
        "orders",
        {
            "order_ref": f"{run}-i:P",
            "intent_id": f"{run}-i",
            "role": "entry",
            "symbol": "700",
            "side": "BUY",
            "order_type": "LMT",
            "quantity": 100,
            "status": "Filled",
        },
    )
    ledger.append(
        "fills",
        {
            "exec_id": f"{run}-x",
            "ts": NOW,
            "order_ref": f"{run}-i:P",
            "symbol": "700",
            "side": "BUY",
            "quantity": 100,
            "price": Decimal("388.2"),
        },
    )
    ledger.append("order_events", {"event_id": f"{run}-e", "ts": NOW, "order_ref": f"{run}-i:P"})
    ledger.upsert(
        "reconciliations", {"recon_id": f"{run}-rc", "run_id": run, "ts": NOW, "status": "corrected"}
    )
    ledger.append(
        "discrepancies",
        {
            "discrepancy_id": f"{run}-d",
            "recon_id": f"{run}-rc",
            "ts": NOW,
            "kind": "orphan",
        },
    )
    ledger.append("log_events", {"event_id": f"{run}-l", "ts": NOW, "run_id": run, "event": "x"})


def rows_by_table(path: Path) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # type: ignore[index]
    finally:
        con.close()


@pytest.fixture
def two_runs(ledger: Ledger) -> Ledger:
    record_run(ledger, "r1")
    record_run(ledger, "r2")
    return ledger


def test_the_export_holds_one_row_per_linked_table_of_that_run(two_runs: Ledger, tmp_path: Path) -> None:
    out = two_runs.export_run("r1", tmp_path / "run")
    assert out == tmp_path / "run" / "trade_log.duckdb"
    counts = rows_by_table(out)
    for table in (
        "runs",
        "intents",
        "orders",
        "fills",
        "order_events",
        "reconciliations",
        "discrepancies",
        "log_events",
    ):
        assert counts[table] == 1, table


def test_the_export_holds_no_row_of_another_run(two_runs: Ledger, tmp_path: Path) -> None:
    out = two_runs.export_run("r1", tmp_path / "trade_log.duckdb")
    con = duckdb.connect(str(out), read_only=True)
    try:
        ids = {
            r[0]
            for r in con.execute(
                "SELECT exec_id FROM fills UNION ALL SELECT order_ref FROM orders "
                "UNION ALL SELECT discrepancy_id FROM discrepancies UNION ALL SELECT run_id FROM runs"
            ).fetchall()
        }
    finally:
        con.close()
    assert ids == {"r1-x", "r1-i:P", "r1-d", "r1"}


def test_the_export_carries_the_schema_version(two_runs: Ledger, tmp_path: Path) -> None:
    out = two_runs.export_run("r1", tmp_path / "run")
    assert rows_by_table(out)["schema_version"] == two_runs.schema_version()


def test_exporting_again_replaces_the_file(two_runs: Ledger, tmp_path: Path) -> None:
    two_runs.export_run("r1", tmp_path / "run")
    out = two_runs.export_run("r1", tmp_path / "run")
    assert rows_by_table(out)["fills"] == 1


def test_exporting_an_unknown_run_is_an_error_naming_it(two_runs: Ledger, tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="no rows for run 'r9'"):
        two_runs.export_run("r9", tmp_path / "run")
    assert not (tmp_path / "run" / "trade_log.duckdb").exists()


def test_exporting_inside_a_transaction_is_refused(two_runs: Ledger, tmp_path: Path) -> None:
    with two_runs.transaction(), pytest.raises(LedgerError, match=r"inside ledger\.transaction"):
        two_runs.export_run("r1", tmp_path / "run")
