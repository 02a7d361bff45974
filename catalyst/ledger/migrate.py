"""Ordered schema migrations: ``migrations/NNN_name.sql``, each applied once per ledger file.

The ``schema_version`` table records which versions a file has; the caller holds the ledger lock, so
two processes opening a new ledger at once cannot both apply a migration. Each migration runs in one
transaction together with its ``schema_version`` row, so a crash leaves it fully applied or not at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import duckdb

from catalyst.ledger.errors import LedgerMigrationError

_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY,
    name        VARCHAR NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
)
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """The migration files shipped in the package, in version order; gaps or duplicates raise."""
    found: list[Migration] = []
    folder = resources.files("catalyst.ledger") / "migrations"
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if not match:
            continue
        found.append(Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    expected = list(range(1, len(found) + 1))
    if [m.version for m in found] != expected:
        raise LedgerMigrationError(
            f"ledger migration files must be numbered 001, 002, ... without gaps; found "
            f"{[m.version for m in found]}"
        )
    return found


def latest_version() -> int:
    return len(available_migrations())


def applied_versions(con: duckdb.DuckDBPyConnection) -> set[int]:
    con.execute(_VERSION_TABLE)
    return {int(row[0]) for row in con.execute("SELECT version FROM schema_version").fetchall()}


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply every migration the database lacks; return the versions applied now."""
    done = applied_versions(con)
    applied: list[int] = []
    for migration in available_migrations():
        if migration.version in done:
            continue
        try:
            con.execute("BEGIN TRANSACTION")
            con.execute(migration.sql)
            con.execute(
                "INSERT INTO schema_version (version, name) VALUES (?, ?)",
                [migration.version, migration.name],
            )
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise LedgerMigrationError(
                f"ledger migration {migration.version:03d}_{migration.name}.sql failed: {exc}"
            ) from exc
        applied.append(migration.version)
    return applied
