"""The simulator's state in a DuckDB file, so a restarted gateway carries on where it stopped.

Held: accounts (cash, positions, average costs, realized P&L), every order with its engine-side
bookkeeping, untransmitted orders, executions, permId/execId counters, faults, price shocks, the
clock and how far the market has been processed. ``Exchange`` saves after every call that changed
something (one short transaction: changed orders upserted, new executions appended, the small
documents replaced; about 10 ms), so a crash loses at most the call in flight. The store keeps
one connection open for its life (DuckDB locks the file against other processes; another
``Exchange`` in the same process shares the database).

Values are stored as JSON documents (Decimals as text, times as ISO 8601), one row per order and
per execution, so the file is readable with plain SQL (``SELECT doc FROM orders``).
"""

from __future__ import annotations

import json
import typing
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from catalyst.sim.engine.accounts import AccountBook, Holding
from catalyst.sim.engine.charges import OrderCosts
from catalyst.sim.engine.errors import SimStateError
from catalyst.sim.engine.model import OrderRequest, SimExecution, SimOrder

SCHEMA_VERSION = "1"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    "CREATE TABLE IF NOT EXISTS orders (perm_id BIGINT PRIMARY KEY, doc VARCHAR)",
    "CREATE TABLE IF NOT EXISTS executions (seq BIGINT PRIMARY KEY, exec_id VARCHAR, doc VARCHAR)",
)


@dataclass
class OrderExt:
    """Engine-side facts about an order that the client never sees."""

    watch_from: int = 0  # first print (epoch s) that may fill or trigger it
    limit: Decimal | None = None  # the limit it works at once at the exchange
    working: bool = False  # at the exchange, able to fill
    odd_lot: bool = False
    costs: OrderCosts = field(default_factory=OrderCosts)
    #: an amendment waiting for HKEX's no-amendment window to open (``SimBehaviour.amend_window``)
    held_amend: OrderRequest | None = None


@dataclass
class Snapshot:
    """Everything ``Exchange`` persists. On save ``orders``/``executions`` hold only what changed."""

    accounts: list[str]
    seed: int
    books: dict[str, AccountBook]
    faults: dict[str, dict[str, object]]
    next_perm: int
    next_exec: int
    orders: list[tuple[SimOrder, OrderExt]]
    held: list[OrderRequest]
    executions: list[SimExecution]
    shocks: dict[str, list[tuple[int, float]]]
    clock: float
    prints_done: float
    bounds_done: float
    executions_offset: int = 0


def to_doc(obj: Any) -> Any:
    """A dataclass (or value) as JSON-ready data: Decimal -> str, datetime -> ISO text."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_doc(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, dict):
        return {str(k): to_doc(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_doc(v) for v in obj]
    return obj


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    args = typing.get_args(hint)
    if args and type(None) in args:  # X | None
        hint = next(a for a in args if a is not type(None))
    if hint is Decimal:
        return Decimal(value)
    if hint is datetime:
        return datetime.fromisoformat(value)
    if isinstance(hint, type) and is_dataclass(hint):
        return from_doc(hint, value)
    return value


def from_doc(cls: type[Any], doc: dict[str, Any]) -> Any:
    """Rebuild dataclass ``cls`` from :func:`to_doc` output."""
    hints = typing.get_type_hints(cls)
    kwargs = {f.name: _convert(hints[f.name], doc[f.name]) for f in fields(cls) if f.name in doc}
    return cls(**kwargs)


def _books_doc(books: dict[str, AccountBook]) -> str:
    return json.dumps({a: to_doc(b) for a, b in books.items()})


def _books_from(text: str) -> dict[str, AccountBook]:
    out: dict[str, AccountBook] = {}
    for account, doc in json.loads(text).items():
        holdings = {s: from_doc(Holding, h) for s, h in doc["holdings"].items()}
        out[account] = AccountBook(account, Decimal(doc["cash"]), Decimal(doc["realized"]), holdings)
    return out


def _upsert(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple[object, ...]]) -> None:
    """INSERT OR REPLACE in few statements (DuckDB's executemany is slow per row)."""
    for i in range(0, len(rows), 500):
        chunk = rows[i : i + 500]
        marks = ",".join("(" + ",".join("?" * len(r)) + ")" for r in chunk)
        con.execute(f"INSERT OR REPLACE INTO {table} VALUES {marks}", [v for r in chunk for v in r])


class StateStore:
    """Reads and writes one state file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._con: duckdb.DuckDBPyConnection | None = None

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def _connect(self) -> duckdb.DuckDBPyConnection:
        if self._con is not None:
            return self._con
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = duckdb.connect(str(self.path))
        except (duckdb.Error, OSError) as exc:
            raise SimStateError(
                f"cannot open the simulator state {self.path}: {exc}. Is another gateway using it? "
                "Stop it, or start with --fresh / another --state path"
            ) from exc
        for stmt in _SCHEMA:
            con.execute(stmt)
        self._con = con
        return con

    def reset(self) -> None:
        """Forget everything (``--fresh``)."""
        con = self._connect()
        for table in ("meta", "orders", "executions"):
            con.execute(f"DELETE FROM {table}")

    def save(self, snap: Snapshot) -> None:
        meta = {
            "schema": SCHEMA_VERSION,
            "accounts": json.dumps(snap.accounts),
            "seed": str(snap.seed),
            "books": _books_doc(snap.books),
            "faults": json.dumps(to_doc(snap.faults)),
            "next_perm": str(snap.next_perm),
            "next_exec": str(snap.next_exec),
            "held": json.dumps([to_doc(r) for r in snap.held]),
            "shocks": json.dumps(snap.shocks),
            "clock": repr(snap.clock),
            "prints_done": repr(snap.prints_done),
            "bounds_done": repr(snap.bounds_done),
        }
        con = self._connect()
        con.execute("BEGIN TRANSACTION")
        try:
            _upsert(con, "meta", list(meta.items()))
            _upsert(
                con,
                "orders",
                [(o.perm_id, json.dumps({"order": to_doc(o), "ext": to_doc(e)})) for o, e in snap.orders],
            )
            _upsert(
                con,
                "executions",
                [
                    (snap.executions_offset + i, e.exec_id, json.dumps(to_doc(e)))
                    for i, e in enumerate(snap.executions)
                ],
            )
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise SimStateError(f"cannot save the simulator state to {self.path}: {exc}") from exc

    def load(self) -> Snapshot | None:
        """The saved state, or None for a new (or reset) file."""
        con = self._connect()
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        if not meta:
            return None
        if meta.get("schema") != SCHEMA_VERSION:
            raise SimStateError(
                f"simulator state {self.path} has schema {meta.get('schema')!r}, this version reads "
                f"{SCHEMA_VERSION!r}; start the gateway with --fresh"
            )
        order_rows = con.execute("SELECT doc FROM orders ORDER BY perm_id").fetchall()
        exec_rows = con.execute("SELECT doc FROM executions ORDER BY seq").fetchall()
        try:
            orders = []
            for (doc,) in order_rows:
                d = json.loads(doc)
                orders.append((from_doc(SimOrder, d["order"]), from_doc(OrderExt, d["ext"])))
            return Snapshot(
                accounts=json.loads(meta["accounts"]),
                seed=int(meta["seed"]),
                books=_books_from(meta["books"]),
                faults=json.loads(meta["faults"]),
                next_perm=int(meta["next_perm"]),
                next_exec=int(meta["next_exec"]),
                orders=orders,
                held=[from_doc(OrderRequest, r) for r in json.loads(meta["held"])],
                executions=[from_doc(SimExecution, json.loads(doc)) for (doc,) in exec_rows],
                shocks={k: [(int(a), float(b)) for a, b in v] for k, v in json.loads(meta["shocks"]).items()},
                clock=float(meta["clock"]),
                prints_done=float(meta["prints_done"]),
                bounds_done=float(meta["bounds_done"]),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise SimStateError(
                f"simulator state {self.path} is damaged ({exc}); start with --fresh"
            ) from exc
