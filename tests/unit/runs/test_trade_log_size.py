"""A run's trade_log.duckdb is as small as DuckDB allows: its few rows, not megabytes of empty blocks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from catalyst.ledger import Ledger

NOW = dt.datetime(2026, 11, 24, 2, 30, tzinfo=dt.UTC)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "state" / "ledger.duckdb")


def _record_cycle(ledger: Ledger, run: str, log_lines: int) -> None:
    """What a cycle writes: its run, two intents with their legs and fills, a reconciliation, its log."""
    ledger.upsert("runs", {"run_id": run, "kind": "cycle", "mode": "sim", "started_at": NOW, "status": "ok"})
    ledger.upsert("reconciliations", {"recon_id": f"{run}-rc", "run_id": run, "ts": NOW, "status": "clean"})
    for n, symbol in enumerate(("700", "5")):
        intent = f"{run}-{n}"
        ledger.upsert(
            "intents",
            {
                "intent_id": intent,
                "run_id": run,
                "created_at": NOW,
                "symbol": symbol,
                "side": "BUY",
                "quantity": 100,
                "entry_price": Decimal("388.2"),
                "stop_price": Decimal("380"),
                "target_price": Decimal("400"),
                "status": "proven",
            },
        )
        for leg in ("P", "TP", "SL"):
            ledger.upsert(
                "orders",
                {
                    "order_ref": f"{intent}:{leg}",
                    "intent_id": intent,
                    "role": leg,
                    "symbol": symbol,
                    "side": "BUY",
                    "order_type": "LMT",
                    "quantity": 100,
                    "status": "Submitted",
                },
            )
        ledger.append(
            "fills",
            {
                "exec_id": f"{intent}-x",
                "ts": NOW,
                "order_ref": f"{intent}:P",
                "symbol": symbol,
                "side": "BUY",
                "quantity": 100,
                "price": Decimal("388.2"),
            },
        )
    ledger.append(
        "log_events",
        [
            {"event_id": f"{run}-l{i}", "ts": NOW, "run_id": run, "event": "cycle.phase", "level": "info"}
            for i in range(log_lines)
        ],
    )


def test_a_cycles_trade_log_is_a_few_hundred_kilobytes_not_megabytes(ledger: Ledger, tmp_path: Path) -> None:
    _record_cycle(ledger, "other", 2000)  # another run's rows stay out
    _record_cycle(ledger, "r1", 200)
    out = ledger.export_run("r1", tmp_path / "run")
    assert out.stat().st_size < 512 * 1024, f"{out.stat().st_size} bytes"


def test_the_compact_trade_log_opens_in_a_plain_duckdb_connection_with_the_whole_schema(
    ledger: Ledger, tmp_path: Path
) -> None:
    _record_cycle(ledger, "r1", 20)
    out = ledger.export_run("r1", tmp_path / "run")
    with duckdb.connect(str(out), read_only=True) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        fills = con.execute("SELECT count(*) FROM fills").fetchone()
        alerts = con.execute("SELECT count(*) FROM alerts").fetchone()
    assert {"runs", "intents", "orders", "fills", "log_events", "schema_version"} <= tables
    assert fills == (2,) and alerts == (0,)
