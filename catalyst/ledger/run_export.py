"""Export one run's rows from the ledger into a standalone ``trade_log.duckdb``.

A run's rows are: rows of any table whose ``run_id`` is the run; orders whose intent belongs to
the run; order events and fills of those orders (linked by ``order_ref``); positions opened by the
run's intents; discrepancies of the run's reconciliations. The export carries the same schema
(every migration applied) so the archived file can be queried like the ledger itself: a table the
run wrote nothing to is there, empty (an empty table costs a few hundred bytes of metadata and no block).

The file is written with DuckDB's smallest block size (16 KiB instead of 256 KiB): a run's rows fill
a few blocks, so the default size left a trade log of a few hundred rows at 2 to 4 MB of mostly empty
blocks. The block size is recorded in the file's header; any DuckDB (1.2 or later) opens it as usual.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from catalyst.ledger.errors import LedgerError
from catalyst.ledger.migrate import migrate

_ALIAS = "run_export_target"

#: DuckDB's smallest block size (its default is 256 KiB).
BLOCK_SIZE = 16384

_RUN_INTENTS = "SELECT intent_id FROM intents WHERE run_id = $run_id"
_RUN_ORDERS = "SELECT order_ref FROM orders WHERE run_id = $run_id OR intent_id IN (" + _RUN_INTENTS + ")"

#: Extra rules linking rows without the run's id to the run, per table.
_LINKS: dict[str, str] = {
    "orders": "intent_id IN (" + _RUN_INTENTS + ")",
    "order_events": "order_ref IN (" + _RUN_ORDERS + ")",
    "fills": "order_ref IN (" + _RUN_ORDERS + ")",
    "positions": "intent_id IN (" + _RUN_INTENTS + ")",
    "discrepancies": "recon_id IN (SELECT recon_id FROM reconciliations WHERE run_id = $run_id)",
}


def run_filter(table: str, columns: list[str]) -> str | None:
    """The WHERE clause selecting ``$run_id``'s rows of ``table``; None when the table has none."""
    parts = []
    if "run_id" in columns:
        parts.append("run_id = $run_id")
    if table in _LINKS:
        parts.append(_LINKS[table])
    return " OR ".join(f"({p})" for p in parts) if parts else None


def export_run_rows(
    con: duckdb.DuckDBPyConnection, run_id: str, target: Path, tables: dict[str, list[str]]
) -> dict[str, int]:
    """Copy ``run_id``'s rows into a fresh file at ``target`` (replaced atomically); return row counts."""
    if not run_id:
        raise LedgerError("export_run needs a run id")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    for stale in (tmp, tmp.with_name(tmp.name + ".wal")):
        stale.unlink(missing_ok=True)
    fresh = duckdb.connect(str(tmp), config={"default_block_size": str(BLOCK_SIZE)})
    try:
        migrate(fresh)
    finally:
        fresh.close()
    counts: dict[str, int] = {}
    con.execute(f"ATTACH ? AS {_ALIAS}", [str(tmp)])
    try:
        con.execute("BEGIN TRANSACTION")
        for table, columns in tables.items():
            if table == "schema_version":
                continue
            where = run_filter(table, columns)
            if where is None:
                continue
            col_sql = ", ".join(f'"{c}"' for c in columns)
            con.execute(
                f'INSERT INTO {_ALIAS}.main."{table}" ({col_sql}) '
                f'SELECT {col_sql} FROM "{table}" WHERE {where}',
                {"run_id": run_id},
            )
            row = con.execute(f'SELECT count(*) FROM {_ALIAS}.main."{table}"').fetchone()
            counts[table] = int(row[0]) if row else 0
        con.execute("COMMIT")
        con.execute(f"CHECKPOINT {_ALIAS}")
    except BaseException:
        con.execute("ROLLBACK")
        con.execute(f"DETACH {_ALIAS}")
        tmp.unlink(missing_ok=True)
        raise
    con.execute(f"DETACH {_ALIAS}")
    if sum(counts.values()) == 0:
        tmp.unlink(missing_ok=True)
        raise LedgerError(
            f"the ledger has no rows for run {run_id!r}; check the run id (`catalyst runs list`)"
        )
    os.replace(tmp, target)
    return counts
