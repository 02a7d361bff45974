"""Moving journal records into the DuckDB ledger: exactly once, whole records, one transaction.

The caller holds the ledger lock and a connection to the attached ledger (``ledger_store``). Steps:

1. list the journals (``journal``) and read how far each was ingested (``journal_ingest``);
2. note which journals' writers are gone, then read the whole records after each offset (in a
   journal whose writer is gone a damaged record, a torn tail from a kill, is skipped);
3. in one transaction, insert every record's rows and advance the offsets: a reader sees all of
   them or none, and a kill before the commit leaves the offsets where they were. Rows are
   deduplicated on their primary key (``ON CONFLICT DO NOTHING``), so a row stored before (a retry,
   the same event journaled twice) is never doubled;
4. after the commit, delete journals that are complete (writer gone) and fully ingested, then their
   offset rows (a kill in between leaves a row for a missing file: harmless, removed next time).

A record the ledger refuses (it should not happen: ``append`` validated every value) is set aside
with the error in ``<ledger>.journal/rejected/``, so one bad record never blocks every later write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import structlog

from catalyst.ledger.journal import (
    Group,
    JournalRead,
    decode_record,
    journals,
    read_journal,
    remove_stale_temporaries,
    writer_gone,
)
from catalyst.ledger.values import ColumnInfo

log = structlog.get_logger(__name__)

_FRAME = "catalyst_journal_rows"

Columns = Mapping[str, Mapping[str, ColumnInfo]]
Keys = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class IngestResult:
    records: int = 0  # journal records moved into the ledger now
    rows: int = 0  # rows that were new
    rejected: int = 0  # records set aside in rejected/
    deleted: int = 0  # journals removed (complete and fully ingested)


@dataclass(frozen=True)
class _Source:
    path: Path
    read: JournalRead
    gone: bool
    size: int
    records_before: int


@dataclass(frozen=True)
class _Record:
    source: Path
    offset: int
    payload: bytes
    table: str
    groups: list[Group]


def ingest_journals(
    con: duckdb.DuckDBPyConnection, folder: Path, columns: Columns, keys: Keys
) -> IngestResult:
    """Ingest every journal in ``folder`` into the attached ledger (the caller holds the lock)."""
    files = journals(folder)
    known = _offsets(con) if files else {}
    sources = [s for s in (_source(path, known) for path in files) if s is not None]
    pending = [s for s in sources if s.read.records or s.read.skipped]
    records, refused = _decoded(pending, columns)
    rows = 0
    if pending:
        rows, failed = _commit(con, pending, records, columns, keys)
        refused += failed
    for record, error in refused:
        _set_aside(folder, record, error)
    deleted = _remove_finished(con, folder, sources, known)
    if not files:
        remove_stale_temporaries(folder)
    return IngestResult(len(records), rows, len(refused), deleted)


def _offsets(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    rows = con.execute("SELECT journal, ingested_bytes, records FROM journal_ingest").fetchall()
    return {str(name): (int(offset), int(count)) for name, offset, count in rows}


def _source(path: Path, known: Mapping[str, tuple[int, int]]) -> _Source | None:
    start, count = known.get(path.name, (0, 0))
    gone = writer_gone(path)  # before reading: a writer gone now adds nothing after our read
    try:
        size = path.stat().st_size
        read = read_journal(path, start, skip_damage=gone) if size > start else JournalRead([], start, 0, 0)
    except FileNotFoundError:
        return None
    return _Source(path, read, gone, size, count)


def _decoded(sources: list[_Source], columns: Columns) -> tuple[list[_Record], list[tuple[_Record, str]]]:
    good: list[_Record] = []
    bad: list[tuple[_Record, str]] = []
    for source in sources:
        for offset, payload in source.read.records:
            record = _Record(source.path, offset, payload, "", [])
            try:
                table, groups = decode_record(payload)
            except (ValueError, KeyError, TypeError) as exc:
                bad.append((record, f"not a journal record: {exc}"))
                continue
            record = _Record(source.path, offset, payload, table, groups)
            problem = _unknown_names(table, groups, columns)
            if problem:
                bad.append((record, problem))
            else:
                good.append(record)
    return good, bad


def _unknown_names(table: str, groups: list[Group], columns: Columns) -> str:
    if table not in columns:
        return f"unknown ledger table {table!r}"
    known = columns[table]
    unknown = {c for cols, _ in groups for c in cols if c not in known}
    return f"unknown column(s) {', '.join(sorted(unknown))} for {table}" if unknown else ""


def _commit(
    con: duckdb.DuckDBPyConnection,
    sources: list[_Source],
    records: list[_Record],
    columns: Columns,
    keys: Keys,
) -> tuple[int, list[tuple[_Record, str]]]:
    """Insert all records and advance the offsets in one transaction; fall back record by record."""
    try:
        con.execute("BEGIN TRANSACTION")
        rows = _insert(con, records, columns, keys)
        _advance(con, sources)
        con.execute("COMMIT")
        return rows, []
    except duckdb.Error:
        con.execute("ROLLBACK")
    rows = 0
    failed: list[tuple[_Record, str]] = []
    for record in records:  # each record still all or nothing
        try:
            con.execute("BEGIN TRANSACTION")
            rows += _insert(con, [record], columns, keys)
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            failed.append((record, str(exc)))
    con.execute("BEGIN TRANSACTION")
    _advance(con, sources)
    con.execute("COMMIT")
    return rows, failed


def _insert(con: duckdb.DuckDBPyConnection, records: list[_Record], columns: Columns, keys: Keys) -> int:
    buckets: dict[tuple[str, tuple[str, ...]], list[list[str | None]]] = {}
    seen: dict[str, set[tuple[str | None, ...]]] = {}
    for record in records:
        table_keys = keys.get(record.table, ())
        table_seen = seen.setdefault(record.table, set())
        for cols, rows in record.groups:
            bucket = buckets.setdefault((record.table, tuple(cols)), [])
            where = [cols.index(k) for k in table_keys if k in cols]
            for row in rows:
                if where:
                    key = tuple(row[i] for i in where)
                    if key in table_seen:
                        continue
                    table_seen.add(key)
                bucket.append(row)
    count = 0
    for (table, names), rows in buckets.items():
        if rows:
            count += _insert_rows(con, table, names, rows, columns[table], bool(keys.get(table)))
    return count


def _insert_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    cols: tuple[str, ...],
    rows: list[list[str | None]],
    info: Mapping[str, ColumnInfo],
    keyed: bool,
) -> int:
    by_column = zip(*rows, strict=True)
    frame = pa.table({f"c{i}": pa.array(values, pa.string()) for i, values in enumerate(by_column)})
    targets = ", ".join(f'"{c}"' for c in cols)
    casts = ", ".join(f"CAST(c{i} AS {info[c].data_type})" for i, c in enumerate(cols))
    conflict = " ON CONFLICT DO NOTHING" if keyed else ""
    con.register(_FRAME, frame)
    try:
        result = con.execute(
            f'INSERT INTO "{table}" ({targets}) SELECT {casts} FROM {_FRAME}{conflict}'
        ).fetchone()
    finally:
        con.unregister(_FRAME)
    return int(result[0]) if result else 0


def _advance(con: duckdb.DuckDBPyConnection, sources: list[_Source]) -> None:
    """Record the new offsets (delete and insert: DuckDB's ON CONFLICT DO UPDATE is ~8x slower)."""
    now = dt.datetime.now(dt.UTC)
    names = [source.path.name for source in sources]
    con.execute("DELETE FROM journal_ingest WHERE list_contains(?, journal)", [names])
    values: list[object] = []
    for source in sources:
        values += [source.path.name, source.read.end, source.records_before + len(source.read.records), now]
    con.execute(
        "INSERT INTO journal_ingest (journal, ingested_bytes, records, updated_at) VALUES "
        + ", ".join(["(?, ?, ?, ?)"] * len(sources)),
        values,
    )


def _remove_finished(
    con: duckdb.DuckDBPyConnection, folder: Path, sources: list[_Source], known: Mapping[str, tuple[int, int]]
) -> int:
    """Delete complete, fully ingested journals; then the offset rows of journals no longer there."""
    deleted = 0
    for source in sources:
        if source.gone and source.read.leftover == 0 and source.read.end >= source.size:
            try:
                source.path.unlink()
                deleted += 1
            except FileNotFoundError:
                pass
    present = {p.name for p in journals(folder)}
    stale = [name for name in known if name not in present]
    stale += [s.path.name for s in sources if s.path.name not in present and s.path.name not in known]
    if stale:
        con.execute("DELETE FROM journal_ingest WHERE list_contains(?, journal)", [stale])
    return deleted


def _set_aside(folder: Path, record: _Record, error: str) -> None:
    target = folder / "rejected"
    target.mkdir(parents=True, exist_ok=True)
    stem = f"{record.source.name}.{record.offset}"
    (target / f"{stem}.record").write_bytes(record.payload)
    (target / f"{stem}.error.txt").write_text(error + "\n", encoding="utf-8")
    log.warning(
        "ledger.journal_record_rejected",
        journal=str(record.source),
        offset=record.offset,
        table=record.table or None,
        error=error,
        kept=str(target / f"{stem}.record"),
    )
