"""The facts about one run that the go-live gate and ``runs list`` need, read from its trade log.

Computed when the run is sealed and stored in its manifest, so they are covered by the hash chain.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

_QUERIES = {
    "intents": "SELECT status, count(*) FROM intents GROUP BY status",
    "reconciliations": "SELECT status, count(*) FROM reconciliations GROUP BY status",
    "alerts": (
        "SELECT CASE WHEN delivered THEN 'delivered' ELSE 'undelivered' END, count(*) FROM alerts GROUP BY 1"
    ),
}


def summarize_trade_log(path: Path) -> dict[str, Any]:
    """Counts by status of the run's intents, reconciliations and alerts (delivered or not; empty when
    the log is absent)."""
    out: dict[str, Any] = {"intents": {}, "reconciliations": {}, "alerts": {}}
    if not path.exists():
        return out
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = {
            row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
        for key, sql in _QUERIES.items():
            if key in tables:
                out[key] = {str(status): int(n) for status, n in con.execute(sql).fetchall()}
    finally:
        con.close()
    return out


def brackets_unproven(summary: dict[str, Any]) -> int:
    """Intents that were sent but not proven (failed proof, or stuck as submitted)."""
    intents = summary.get("intents") or {}
    return int(intents.get("failed", 0)) + int(intents.get("submitted", 0))


def brackets_proven(summary: dict[str, Any]) -> int:
    return int((summary.get("intents") or {}).get("proven", 0))


def reconciliations_unclean(summary: dict[str, Any]) -> int:
    recs = summary.get("reconciliations") or {}
    return sum(int(n) for status, n in recs.items() if status != "clean")


def reconciliations_clean(summary: dict[str, Any]) -> int:
    return int((summary.get("reconciliations") or {}).get("clean", 0))


def run_alerts(path: Path) -> list[dict[str, Any]]:
    """The alerts the run raised, oldest first: severity, title, delivered, failure."""
    if not path.exists():
        return []
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = {
            row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
        if "alerts" not in tables:
            return []
        rows = con.execute(
            "SELECT severity, title, coalesce(delivered, false), coalesce(failure, '') "
            "FROM alerts ORDER BY ts"
        ).fetchall()
    finally:
        con.close()
    return [
        {"severity": str(sev), "title": str(title), "delivered": bool(ok), "failure": str(why)}
        for sev, title, ok, why in rows
    ]
