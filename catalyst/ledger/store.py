"""The ledger: one DuckDB file that several processes read and write.

DuckDB lets one process hold a database file open at a time, so every locked operation here opens
a short-lived connection under a cross-process lock (``<ledger>.lock``, see ``ledger_lock``), does
its work and closes the connection, releasing the file for the next process. A process that opens
the file without our lock (a DuckDB shell, an old notebook) makes ``duckdb.connect`` fail with a
lock error; that is retried with backoff and jitter until ``busy_timeout``. Both waits end in
:class:`LedgerBusyError` naming the file and how long we waited.

Appends to the event tables (``EVENT_TABLES``) do not take that lock: each process writes them to
its own append-only journal (``journal``: framed, checksummed records, one per ``append``
call), and ``append`` returns once the record is written (in the page cache: it survives a kill -9
of the process; with ``sync_appends`` it is also flushed to disk). Every locked operation first
ingests every process's journal (``ingest``: one transaction, deduplicated on the primary
key, offsets recorded in ``journal_ingest``), so a read sees every append that returned before it,
in any process. A background thread ingests this process's journal about once a second
(``flusher``) and each process ingests once more at exit, so the DuckDB file is complete
whenever no Catalyst process runs. ``flush()`` ingests now.

Inside one thread the connection is re-entrant: ``with ledger.transaction(): ledger.append(...)``
uses the transaction's connection (the append is written to DuckDB directly, not journaled), so
the writes commit or roll back together.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import random
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from catalyst.ledger.errors import LedgerBusyError, LedgerError
from catalyst.ledger.flusher import BackgroundFlush
from catalyst.ledger.ingest import IngestResult, ingest_journals
from catalyst.ledger.journal import JournalWriter, encode_record, journal_folder
from catalyst.ledger.lock import LedgerFileLock
from catalyst.ledger.migrate import migrate
from catalyst.ledger.run_export import export_run_rows
from catalyst.ledger.values import ColumnInfo, coerce, column_text

#: Append-only tables: rows are inserted once, keyed by a caller-made id, never updated.
EVENT_TABLES: frozenset[str] = frozenset(
    {"order_events", "fills", "position_snapshots", "discrepancies", "risk_events", "alerts", "log_events"}
)

#: Tables the ledger keeps for itself: not written or read through ``append``/``upsert``.
INTERNAL_TABLES: frozenset[str] = frozenset({"schema_version", "journal_ingest"})

#: Rows per INSERT statement when appending a batch.
_CHUNK = 400

#: Environment variable: "1" makes every journaled append ``fdatasync`` before it returns.
SYNC_APPENDS_ENV = "CATALYST_LEDGER_SYNC_APPENDS"

#: How long an attach waits for this process's previous detach of the same file to finish.
_REATTACH_WAIT_S = 5.0

#: How long the at-exit ingest waits for the ledger lock and for a foreign holder of the file.
_EXIT_LOCK_WAIT_S = 2.0
_EXIT_BUSY_WAIT_S = 0.5

Statement = str | tuple[str, Sequence[Any] | None]


_instance: duckdb.DuckDBPyConnection | None = None
_instance_pid = 0
_instance_lock = threading.Lock()
_inherited: list[duckdb.DuckDBPyConnection] = []


#: Per process and ledger path: the journal this process appends to and its background ingest.
_journals: dict[Path, tuple[JournalWriter, BackgroundFlush]] = {}
_journals_lock = threading.Lock()
_journals_pid = os.getpid()


#: Per thread: the open connection and transaction flag of each ledger path (re-entrancy across
#: every Ledger object of the same file, so nested use never waits for our own lock).
_active = threading.local()


def _thread_state(path: Path) -> dict[str, Any]:
    states: dict[Path, dict[str, Any]] | None = getattr(_active, "states", None)
    if states is None:
        states = _active.states = {}
    return states.setdefault(path, {"con": None, "in_tx": False})


def _new_cursor() -> duckdb.DuckDBPyConnection:
    """This process's in-memory DuckDB instance, the host every ledger file is attached to.

    Creating a DuckDB instance costs ~20 ms; attaching a file to a live one costs ~2 ms, and
    detaching it releases DuckDB's file lock just as closing would. So each process keeps one
    instance and every operation attaches the ledger, works and detaches. A forked child gets its
    own instance (DuckDB state is not fork-safe).
    """
    global _instance, _instance_pid
    with _instance_lock:
        if _instance is None or _instance_pid != os.getpid():
            if _instance is not None:
                _inherited.append(_instance)  # a parent's instance: never finalize it in the child
            _instance = duckdb.connect(":memory:", config={"threads": 1})
            _instance.execute("SET GLOBAL TimeZone = 'UTC'")
            _instance_pid = os.getpid()
        return _instance.cursor()


def _detach(con: duckdb.DuckDBPyConnection, alias: str) -> None:
    try:
        con.execute("USE memory")
        con.execute("DETACH DATABASE IF EXISTS " + alias)
    except duckdb.Error:  # pragma: no cover - best effort on the way out
        pass


def _is_duckdb_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set lock" in text)


def _is_still_attached_error(exc: BaseException) -> bool:
    """DuckDB finishes a DETACH lazily while another thread's connection is mid-query: wait for it."""
    return "already attached" in str(exc).lower()


def _sync_appends_default() -> bool:
    return os.environ.get(SYNC_APPENDS_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _journal_of(path: Path, sync: bool) -> tuple[JournalWriter, BackgroundFlush]:
    """This process's journal writer and background ingest for the ledger at ``path``."""
    global _journals_pid
    with _journals_lock:
        if _journals_pid != os.getpid():  # forked without our hook (should not happen): start clean
            _journals.clear()
            _journals_pid = os.getpid()
        entry = _journals.get(path)
        if entry is None:
            background = Ledger(path, lock_timeout=0.0, busy_timeout=0.0)
            writer = JournalWriter(journal_folder(path), sync=sync)
            entry = _journals[path] = (writer, BackgroundFlush(background.try_flush))
        elif sync and not entry[0].sync:
            entry[0].sync = True  # any Ledger of this path asking for synced appends gets them
        return entry


def _flush_at_exit() -> None:
    """Close this process's journals and ingest them, waiting briefly for the lock; never raise."""
    with _journals_lock:
        entries = list(_journals.items()) if _journals_pid == os.getpid() else []
    for path, (writer, background) in entries:
        background.stop()
        if not writer.close_and_remove_if_ingested() and path.exists():
            # on failure the journal stays; the next Catalyst process ingests it
            with contextlib.suppress(Exception):
                Ledger(path, lock_timeout=_EXIT_LOCK_WAIT_S, busy_timeout=_EXIT_BUSY_WAIT_S).flush()


def _after_fork_in_child() -> None:
    global _journals_lock, _instance_lock, _journals_pid
    _journals_lock = threading.Lock()
    _instance_lock = threading.Lock()
    for writer, background in _journals.values():
        writer.forget_after_fork()
        background.reset_after_fork()
    _journals.clear()
    _journals_pid = os.getpid()


atexit.register(_flush_at_exit)
os.register_at_fork(after_in_child=_after_fork_in_child)


class Ledger:
    """Access to one ledger file; cheap to create, safe to share between threads and processes.

    ``sync_appends``: flush every journaled append to disk before it returns (survives a power cut,
    costs a disk flush per append); by default appends survive a kill of the process but not of
    the machine. None reads ``CATALYST_LEDGER_SYNC_APPENDS`` ("1" turns it on).
    """

    def __init__(
        self,
        path: Path | str,
        *,
        lock_timeout: float = 60.0,
        busy_timeout: float = 60.0,
        sync_appends: bool | None = None,
    ) -> None:
        text = str(path)
        if not text or text == ":memory:":
            raise LedgerError("the ledger needs a file path (several processes share it); got " + repr(text))
        self.path = Path(path).expanduser().absolute()
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.journal_folder = journal_folder(self.path)
        self.lock_timeout = lock_timeout
        self.busy_timeout = busy_timeout
        self.sync_appends = _sync_appends_default() if sync_appends is None else sync_appends
        self.last_ingest = IngestResult()
        self._schema_lock = threading.Lock()
        self._columns: dict[str, dict[str, ColumnInfo]] | None = None
        self._keys: dict[str, tuple[str, ...]] = {}
        self._alias = "ledger_" + hashlib.sha1(str(self.path).encode()).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    # -- connections -------------------------------------------------------------------------------

    def _open(self) -> duckdb.DuckDBPyConnection:
        """Attach the ledger file to this process's DuckDB instance and make it the current catalog."""
        con = _new_cursor()
        start = time.monotonic()
        delay = 0.002
        while True:
            try:
                con.execute("ATTACH ? AS " + self._alias, [str(self.path)])
                con.execute("USE " + self._alias)
                return con
            except duckdb.Error as exc:
                if _is_still_attached_error(exc) and time.monotonic() - start < _REATTACH_WAIT_S:
                    time.sleep(0.001)
                    continue
                _detach(con, self._alias)
                if not _is_duckdb_lock_error(exc):
                    con.close()
                    raise LedgerError(f"cannot open the ledger {self.path}: {exc}") from exc
                waited = time.monotonic() - start
                if waited >= self.busy_timeout:
                    con.close()
                    raise LedgerBusyError(
                        f"the ledger {self.path} is held open by a process that does not use Catalyst's "
                        f"lock (waited {waited:.1f} s): close that DuckDB session and retry"
                    ) from exc
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.25)

    @contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        state = _thread_state(self.path)
        active: duckdb.DuckDBPyConnection | None = state["con"]
        if active is not None:
            if self._columns is None:  # another Ledger object of this file opened it (and migrated)
                with self._schema_lock:
                    self._load_schema(active)
            yield active
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with LedgerFileLock(self.lock_path, self.lock_timeout):
            con = self._open()
            state["con"] = con
            try:
                if self._columns is None:
                    self._prepare(con)
                self._ingest(con)
                yield con
            finally:
                state["con"] = None
                _detach(con, self._alias)
                con.close()

    def _ingest(self, con: duckdb.DuckDBPyConnection) -> None:
        """Move every process's journaled appends into the file (we hold the lock)."""
        assert self._columns is not None
        own = _journals.get(self.path)
        written_before = own[0].written if own is not None else 0
        try:
            self.last_ingest = ingest_journals(con, self.journal_folder, self._columns, self._keys)
            if own is not None:
                own[0].note_ingested(written_before)
        except (OSError, duckdb.Error) as exc:
            raise LedgerError(
                f"could not ingest the ledger journals in {self.journal_folder}: {exc}"
            ) from exc

    def flush(self) -> IngestResult:
        """Ingest every journal into the DuckDB file now (waits for the lock like any operation)."""
        with self._connection():
            return self.last_ingest

    def try_flush(self) -> bool:
        """Ingest now if the ledger is free; False (nothing done) when another process holds it.

        A ledger file that no longer exists (its folder was removed) is not created again: True.
        """
        if not self.path.exists():
            return True
        try:
            self.flush()
        except LedgerBusyError:
            return False
        return True

    def _prepare(self, con: duckdb.DuckDBPyConnection) -> None:
        with self._schema_lock:
            migrate(con)
            self._load_schema(con)

    def _load_schema(self, con: duckdb.DuckDBPyConnection) -> None:
        columns: dict[str, dict[str, ColumnInfo]] = {}
        rows = con.execute(
            "SELECT table_name, column_name, data_type, numeric_precision, numeric_scale, is_nullable, "
            "column_default FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name = 'main' "
            "ORDER BY table_name, column_index"
        ).fetchall()
        for table, column, data_type, precision, scale, nullable, default in rows:
            columns.setdefault(table, {})[column] = ColumnInfo(
                column, data_type, precision, scale, bool(nullable), default is not None
            )
        keys: dict[str, tuple[str, ...]] = {}
        for table, names in con.execute(
            "SELECT table_name, constraint_column_names FROM duckdb_constraints() "
            "WHERE database_name = current_database() AND schema_name = 'main' "
            "AND constraint_type = 'PRIMARY KEY'"
        ).fetchall():
            keys[table] = tuple(names)
        self._keys = keys
        self._columns = columns

    def _ensure_schema(self) -> None:
        if self._columns is None:
            with self._connection():
                pass

    # -- schema ------------------------------------------------------------------------------------

    def tables(self) -> dict[str, list[str]]:
        """Every table of the ledger and its columns, in schema order."""
        with self._connection():
            assert self._columns is not None
            return {t: list(cols) for t, cols in self._columns.items()}

    def schema_version(self) -> int:
        with self._connection() as con:
            row = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
            return int(row[0]) if row else 0

    def _table(self, table: str) -> dict[str, ColumnInfo]:
        assert self._columns is not None
        if table not in self._columns or table in INTERNAL_TABLES:
            known = ", ".join(sorted(t for t in self._columns if t not in INTERNAL_TABLES))
            raise LedgerError(f"unknown ledger table {table!r}; the ledger has: {known}")
        return self._columns[table]

    def _prepared_rows(
        self, table: str, rows: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        columns = self._table(table)
        batch = [rows] if isinstance(rows, Mapping) else list(rows)
        keys = self._keys.get(table, ())
        out: list[dict[str, Any]] = []
        for row in batch:
            if not isinstance(row, Mapping):
                raise LedgerError(
                    f"rows for {table} must be mappings of column -> value; got {type(row).__name__}"
                )
            unknown = [c for c in row if c not in columns]
            if unknown:
                raise LedgerError(
                    f"unknown column(s) {', '.join(map(repr, unknown))} for ledger table {table!r}; "
                    f"its columns are: {', '.join(columns)}"
                )
            missing = [k for k in keys if row.get(k) is None]
            if missing:
                raise LedgerError(f"{table} row lacks its key column(s) {', '.join(missing)}: {dict(row)!r}")
            out.append({c: coerce(table, columns[c], v) for c, v in row.items()})
        return out

    # -- writes ------------------------------------------------------------------------------------

    def append(self, table: str, rows: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> int:
        """Record rows; idempotent on the primary key: a row whose key is stored is never doubled.

        An event-table append outside ``transaction()`` is journaled: it returns once the record is
        written, without waiting for any other process, and returns how many distinct rows it
        recorded (a row stored earlier, a retry after a crash, is dropped when the journal is
        ingested). Any other append writes DuckDB directly under the lock and returns how many
        rows were new.
        """
        self._ensure_schema()  # validate and convert before taking the lock: hold it briefly
        prepared = self._unique(table, self._prepared_rows(table, rows))
        if not prepared:
            return 0
        self._check_required(table, prepared)
        state = _thread_state(self.path)
        if table in EVENT_TABLES and not state["in_tx"]:
            return self._journal(table, prepared)
        return self._append_direct(table, prepared)

    def _unique(self, table: str, prepared: list[dict[str, Any]]) -> list[dict[str, Any]]:
        keys = self._keys.get(table, ())
        if not keys:
            return prepared
        seen: set[tuple[Any, ...]] = set()
        unique: list[dict[str, Any]] = []
        for row in prepared:
            key = tuple(row[k] for k in keys)
            if key not in seen:
                seen.add(key)
                unique.append(row)
        return unique

    def _check_required(self, table: str, prepared: list[dict[str, Any]]) -> None:
        required = [c for c in self._table(table).values() if not c.nullable and not c.has_default]
        for row in prepared:
            missing = [c.name for c in required if row.get(c.name) is None]
            if missing:
                raise LedgerError(
                    f"{table} row lacks required column(s) {', '.join(missing)} (NOT NULL): {row!r}"
                )

    def _journal(self, table: str, prepared: list[dict[str, Any]]) -> int:
        columns = self._table(table)
        groups: dict[tuple[str, ...], list[list[str | None]]] = {}
        for row in prepared:
            groups.setdefault(tuple(row), []).append(
                [column_text(table, columns[c], v) for c, v in row.items()]
            )
        record = encode_record(table, [(list(cols), texts) for cols, texts in groups.items()])
        writer, background = _journal_of(self.path, self.sync_appends)
        writer.write(record)
        background.poke()
        return len(prepared)

    def _append_direct(self, table: str, prepared: list[dict[str, Any]]) -> int:
        keys = self._keys.get(table, ())
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in prepared:
            groups.setdefault(tuple(row), []).append(row)
        statements: list[tuple[str, list[Any]]] = []
        conflict = " ON CONFLICT DO NOTHING" if keys else ""
        for cols, group in groups.items():
            col_sql = ", ".join(f'"{c}"' for c in cols)
            one = "(" + ", ".join("?" for _ in cols) + ")"
            for i in range(0, len(group), _CHUNK):
                chunk = group[i : i + _CHUNK]
                sql = f'INSERT INTO "{table}" ({col_sql}) VALUES ' + ", ".join([one] * len(chunk)) + conflict
                statements.append((sql, [r[c] for r in chunk for c in cols]))
        with self._connection() as con:
            return self._write(con, table, statements)

    def upsert(self, table: str, row: Mapping[str, Any]) -> None:
        """Insert a state-table row, or update the given columns of the row with the same key."""
        if table in EVENT_TABLES:
            raise LedgerError(f"{table} is an append-only event table: use append(), rows are never updated")
        if not isinstance(row, Mapping):
            raise LedgerError(f"upsert takes one row (a mapping) for {table}; got {type(row).__name__}")
        self._ensure_schema()
        (prepared,) = self._prepared_rows(table, row)
        keys = self._keys.get(table, ())
        if not keys:
            raise LedgerError(f"{table} has no primary key to upsert by; use append()")
        cols = list(prepared)
        updates = [c for c in cols if c not in keys]
        action = (
            "DO UPDATE SET " + ", ".join(f'"{c}" = excluded."{c}"' for c in updates)
            if updates
            else "DO NOTHING"
        )
        sql = (
            f'INSERT INTO "{table}" ('
            + ", ".join(f'"{c}"' for c in cols)
            + ") VALUES ("
            + ", ".join("?" for _ in cols)
            + f") ON CONFLICT ({', '.join(keys)}) {action}"
        )
        with self._connection() as con:
            self._write(con, table, [(sql, [prepared[c] for c in cols])])

    def _write(
        self, con: duckdb.DuckDBPyConnection, table: str, statements: list[tuple[str, list[Any]]]
    ) -> int:
        own_tx = len(statements) > 1 and not _thread_state(self.path)["in_tx"]
        count = 0
        try:
            if own_tx:
                con.execute("BEGIN TRANSACTION")
            for sql, params in statements:
                result = con.execute(sql, params).fetchone()
                count += int(result[0]) if result else 0
            if own_tx:
                con.execute("COMMIT")
        except duckdb.Error as exc:
            if own_tx:
                con.execute("ROLLBACK")
            raise LedgerError(f"could not write to ledger table {table}: {exc}") from exc
        return count

    # -- reads and raw SQL -------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Run SQL and return a DataFrame; DECIMAL columns come back as ``Decimal`` objects, never floats."""
        with self._connection() as con:
            try:
                relation = con.sql(sql, params=params)
                if relation is None:
                    return pd.DataFrame()
                table = relation.to_arrow_table()
            except duckdb.Error as exc:
                raise LedgerError(f"ledger query failed: {exc}\nSQL: {sql}") from exc
        return table.to_pandas()

    def scalar(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row (None when there is no row)."""
        with self._connection() as con:
            try:
                row = (con.execute(sql, params) if params is not None else con.execute(sql)).fetchone()
            except duckdb.Error as exc:
                raise LedgerError(f"ledger query failed: {exc}\nSQL: {sql}") from exc
        return row[0] if row else None

    def execute_many(self, statements: Iterable[Statement]) -> None:
        """Run several SQL statements in one transaction (all or nothing)."""
        with self.transaction() as con:
            for statement in statements:
                sql, params = (statement, None) if isinstance(statement, str) else statement
                try:
                    con.execute(sql, params) if params is not None else con.execute(sql)
                except duckdb.Error as exc:
                    raise LedgerError(f"ledger statement failed: {exc}\nSQL: {sql}") from exc

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection inside one transaction, holding the ledger lock: keep the block short.

        Ledger methods called inside the block (in the same thread) join the transaction.
        """
        with self._connection() as con:
            state = _thread_state(self.path)
            if state["in_tx"]:
                yield con
                return
            con.execute("BEGIN TRANSACTION")
            state["in_tx"] = True
            try:
                yield con
            except BaseException:
                state["in_tx"] = False
                con.execute("ROLLBACK")
                raise
            state["in_tx"] = False
            con.execute("COMMIT")

    # -- export ------------------------------------------------------------------------------------

    def export_run(self, run_id: str, dest: Path | str) -> Path:
        """Write a standalone ``trade_log.duckdb`` holding exactly ``run_id``'s rows of every table.

        ``dest`` is a folder (the file is ``dest/trade_log.duckdb``) or a path ending in ``.duckdb``.
        """
        if _thread_state(self.path)["in_tx"]:
            raise LedgerError("export_run cannot run inside ledger.transaction(); call it after the block")
        target = Path(dest)
        if target.suffix != ".duckdb":
            target = target / "trade_log.duckdb"
        target.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as con:
            assert self._columns is not None
            export_run_rows(con, run_id, target, {t: list(c) for t, c in self._columns.items()})
        return target
