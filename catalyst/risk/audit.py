"""The invariant audit: what must be true of one account at the broker and in the ledger, checked now.

One pure function, :func:`audit`, judges an :class:`AuditInputs` (the broker's frames, what the
ledger knows, the limits, the halt windows and the time) and returns every :class:`Violation`;
one I/O edge, :func:`read_audit_inputs`, builds that view from a broker session and the ledger.
``catalyst broker audit`` prints the violations and exits 1; the monitor calls the same two
functions on every poll and acts on ``naked_exit`` and ``over_coverage``::

    view = await read_audit_inputs(session, ledger, account=session.account,
                                   now=await session.server_time(), limits=limits)
    for v in audit(view):
        if v.rule in (NAKED_EXIT, OVER_COVERAGE):
            ...  # cancel v.order_refs / v.perm_ids it may cancel, record a risk event, alert

The rules (the constants below are the stable names):

* ``unprotected_position``: a position without working stop orders and working take-profit (limit)
  orders each covering the whole quantity, once ``fill_grace`` has passed since the symbol's last
  fill (children of a still-working entry count for what that entry has filled: IB lets a bracket's
  children work for the parent's partial fills, as the simulator does by default).
* ``naked_exit``: a working exit order (a bracket's TP/SL, a flatten or a protective leg, or any
  order on the closing side) with no position for it to close: flat, or the position is on the other
  side. Children still attached to a working entry are not exits yet.
* ``over_coverage``: working stop orders, or working limit exits, covering more shares than are held.
* ``duplicate_entry``: two working entries in one symbol, a working entry in a symbol already held,
  or (from today's executions) an entry of one intent filled while another intent's position in the
  symbol was still open.
* ``over_limit``: a position whose notional (quantity x average cost) exceeds
  ``risk.max_notional_per_position`` (plus :data:`NOTIONAL_FEE_ALLOWANCE` for the fees IB folds into
  the average cost), more symbols held or entered than ``risk.max_positions``, or a short position
  while shorts are disabled.
* ``unknown_catalyst_order``: a broker order (working, or executed today) carrying a Catalyst
  orderRef that the ledger's ``orders`` table has no row for.
* ``entry_while_halted``: an entry whose ``placed_at`` falls inside a halt window of the circuit
  breaker (from a ``breaker_tripped`` event until the next ``breaker_reset`` or the halt's expiry).

Clocks: ``now`` and the fill grace are on the broker's clock (``server_time()``, the clock its
execution times are stamped with, which in the simulator can be far from ours); halt windows and
``placed_at`` both come from the ledger and are compared with each other only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from catalyst.domain import parse_order_ref
from catalyst.domain.errors import InvalidIntentError
from catalyst.risk.errors import RiskInputError
from catalyst.risk.limits import RiskLimits
from catalyst.risk.position_monitor import STOP_TYPES, WORKING
from catalyst.risk.state import BREAKER_RESET, BREAKER_TRIPPED, halt_expiry

if TYPE_CHECKING:
    from catalyst.ledger import Ledger

UNPROTECTED_POSITION = "unprotected_position"
NAKED_EXIT = "naked_exit"
OVER_COVERAGE = "over_coverage"
DUPLICATE_ENTRY = "duplicate_entry"
OVER_LIMIT = "over_limit"
UNKNOWN_CATALYST_ORDER = "unknown_catalyst_order"
ENTRY_WHILE_HALTED = "entry_while_halted"
RULES = (
    UNPROTECTED_POSITION,
    NAKED_EXIT,
    OVER_COVERAGE,
    DUPLICATE_ENTRY,
    OVER_LIMIT,
    UNKNOWN_CATALYST_ORDER,
    ENTRY_WHILE_HALTED,
)

#: Time after a symbol's last fill in which a missing stop or target is not (yet) a violation: the
#: broker activates children, the monitor re-protects.
DEFAULT_FILL_GRACE = timedelta(seconds=10)
#: IB folds commissions and fees into a position's average cost; a position sized exactly at the
#: notional limit at its entry price reads a little above it (HK fees are ~0.1-0.2 %).
NOTIONAL_FEE_ALLOWANCE = Decimal("0.01")

_FLATTEN_REF = re.compile(r":FLAT(:\d+)?$")
_PROTECT_REF = re.compile(r":PROT\d+:(TP|SL)$")
_ENTRY, _EXIT = "entry", "exit"


@dataclass(frozen=True)
class Violation:
    """One broken invariant: which rule, in which symbol ("" for the account), and the orders involved."""

    rule: str
    symbol: str
    detail: str
    order_refs: tuple[str, ...] = ()
    perm_ids: tuple[int, ...] = ()

    def describe(self) -> str:
        """One line for a trader: rule, symbol, detail, then the orders by orderRef and permId."""
        where = self.symbol or "account"
        parts = [f"{self.rule} [{where}] {self.detail}"]
        if self.order_refs:
            parts.append("orderRefs " + ", ".join(self.order_refs))
        if self.perm_ids:
            parts.append("permIds " + ", ".join(str(p) for p in self.perm_ids))
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "symbol": self.symbol,
            "detail": self.detail,
            "order_refs": list(self.order_refs),
            "perm_ids": list(self.perm_ids),
        }


@dataclass(frozen=True)
class HaltWindow:
    """The breaker halted new entries from ``start`` until ``end`` (a reset or the halt's expiry)."""

    start: datetime
    end: datetime
    reason: str = ""

    def contains(self, ts: datetime) -> bool:
        return self.start <= ts < self.end


@dataclass(frozen=True)
class AuditInputs:
    """Everything :func:`audit` looks at, for one account.

    ``positions``, ``open_orders`` and ``executions`` are the broker session's frames
    (``BrokerSession.positions()``, ``.open_orders()`` of every client, ``.executions()`` of the
    day); rows of other accounts are ignored. ``ledger_order_refs``: every orderRef of the ledger's
    ``orders`` table. ``ledger_entries``: the ledger's entry orders of the account (columns
    ``order_ref``, ``symbol``, ``placed_at``). ``halt_windows``: :func:`halt_windows` of the
    account's breaker events. ``now``: on the broker's clock (see the module docstring).
    """

    account: str
    now: datetime
    limits: RiskLimits
    positions: pd.DataFrame
    open_orders: pd.DataFrame
    executions: pd.DataFrame = field(default_factory=pd.DataFrame)
    ledger_order_refs: frozenset[str] = frozenset()
    ledger_entries: pd.DataFrame = field(default_factory=pd.DataFrame)
    halt_windows: tuple[HaltWindow, ...] = ()
    fill_grace: timedelta = DEFAULT_FILL_GRACE

    def __post_init__(self) -> None:
        if not isinstance(self.account, str) or not self.account.strip():
            raise RiskInputError(
                "the audit needs the broker session's account (BrokerSession.account); "
                "nothing is audited under an empty account"
            )
        if self.now.tzinfo is None:
            raise RiskInputError("the audit's time must be timezone-aware (the broker's server time)")
        if self.fill_grace < timedelta(0):
            raise RiskInputError(f"the fill grace must be >= 0 seconds, got {self.fill_grace}")


# -- orders as the audit sees them ----------------------------------------------------------------


@dataclass(frozen=True)
class _Order:
    ref: str
    perm_id: int | None
    symbol: str
    side: str  # BUY | SELL
    order_type: str
    remaining: int
    role: str  # entry | exit
    attached_to: _Order | None = None  # the working entry this child waits on
    filled: int = 0
    #: its cancel was asked and is pending (at IB, or held by an HKEX no-cancel window until it
    #: opens): nothing more to cancel, so not an exit violation; it still protects until it goes
    pending_cancel: bool = False


def order_role(order_ref: str) -> str | None:
    """``entry`` or ``exit`` for a Catalyst orderRef (bracket legs, flatten, protection), else None."""
    ref = order_ref or ""
    try:
        _, code = parse_order_ref(ref)
    except InvalidIntentError:
        if _FLATTEN_REF.search(ref) or _PROTECT_REF.search(ref):
            return _EXIT
        return None
    return _ENTRY if code == "P" else _EXIT


def is_catalyst_ref(order_ref: str) -> bool:
    return order_role(order_ref) is not None


def _int_or_none(value: Any) -> int | None:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    number = int(value)
    return number or None


def _rows(frame: pd.DataFrame | None, account: str) -> list[dict[str, Any]]:
    if frame is None or frame.empty:
        return []
    rows: list[dict[str, Any]] = [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]
    return [r for r in rows if str(r.get("account") or account) == account]


def _working_orders(view: AuditInputs, held: dict[str, int]) -> list[_Order]:
    """The account's working orders with a role each and, for children, the entry they wait on."""
    rows = [r for r in _rows(view.open_orders, view.account) if str(r.get("status")) in WORKING]
    by_perm: dict[int, dict[str, Any]] = {}
    by_client_id: dict[tuple[int | None, int | None], dict[str, Any]] = {}
    for r in rows:
        if (perm := _int_or_none(r.get("perm_id"))) is not None:
            by_perm[perm] = r
        by_client_id[(_int_or_none(r.get("client_id")), _int_or_none(r.get("order_id")))] = r

    def parent_of(r: dict[str, Any]) -> dict[str, Any] | None:
        perm = _int_or_none(r.get("parent_perm_id"))
        if perm is not None and perm in by_perm:
            return by_perm[perm]
        pid = _int_or_none(r.get("parent_id"))
        return by_client_id.get((_int_or_none(r.get("client_id")), pid)) if pid is not None else None

    def plain(r: dict[str, Any], attached_to: _Order | None = None) -> _Order:
        symbol, side = str(r["symbol"]), str(r["side"]).upper()
        ref = str(r.get("order_ref") or "")
        role = order_role(ref)
        if role is None:  # not Catalyst's: an exit when it closes the position or is a stop
            closing = (held.get(symbol, 0) > 0 and side == "SELL") or (
                held.get(symbol, 0) < 0 and side == "BUY"
            )
            role = _EXIT if closing or attached_to is not None or _is_stop(r) else _ENTRY
        return _Order(
            ref=ref,
            perm_id=_int_or_none(r.get("perm_id")),
            symbol=symbol,
            side=side,
            order_type=str(r.get("order_type") or "").upper(),
            remaining=_remaining(r),
            role=role,
            attached_to=attached_to,
            filled=int(r.get("filled") or 0),
            pending_cancel=str(r.get("status")) == "PendingCancel",
        )

    out = []
    for r in rows:
        parent = parent_of(r)
        out.append(plain(r, plain(parent) if parent is not None else None))
    return out


def _remaining(row: dict[str, Any]) -> int:
    value = row.get("remaining")
    if value is None or (isinstance(value, float) and pd.isna(value)):
        value = row.get("quantity")
    return int(value or 0)


def _is_stop(row: dict[str, Any]) -> bool:
    return str(row.get("order_type") or "").upper() in STOP_TYPES


def _names(orders: Iterable[_Order]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    items = list(orders)
    refs = tuple(o.ref for o in items if o.ref)
    perms = tuple(o.perm_id for o in items if o.perm_id is not None)
    return refs, perms


def _violation(rule: str, symbol: str, detail: str, orders: Iterable[_Order] = ()) -> Violation:
    refs, perms = _names(orders)
    return Violation(rule, symbol, detail, refs, perms)


# -- the checks -----------------------------------------------------------------------------------


def audit(view: AuditInputs) -> list[Violation]:
    """Every broken invariant of ``view.account``, in rule order then by symbol. Pure.

    Empty list: the account is clean. Each :class:`Violation` names its rule (one of
    :data:`RULES`), the symbol ("" for the whole account), a detail for a trader and the orderRefs
    and permIds involved (for ``naked_exit`` and ``over_coverage``: exactly the orders to cancel).
    """
    held = held_positions(view.positions, view.account)
    orders = _working_orders(view, held)
    found = [
        *protection_violations(view, held, orders),
        *exit_violations(held, orders),
        *entry_violations(view, held, orders),
        *limit_violations(view, held, orders),
        *ledger_violations(view, orders),
        *halt_violations(view),
    ]
    order = {rule: i for i, rule in enumerate(RULES)}
    return sorted(found, key=lambda v: (order.get(v.rule, len(RULES)), v.symbol))


def held_positions(positions: pd.DataFrame | None, account: str) -> dict[str, int]:
    """Signed quantity per symbol held in ``account`` (a repeated row counts once)."""
    held: dict[str, int] = {}
    for r in _rows(positions, account):
        held[str(r["symbol"])] = int(r["quantity"])
    return {s: q for s, q in held.items() if q != 0}


def _exit_side(quantity: int) -> str:
    return "SELL" if quantity > 0 else "BUY"


def _covers(o: _Order) -> int:
    """Shares an order protects now: a child of a working entry only what that entry has filled."""
    if o.attached_to is None:
        return o.remaining
    return min(o.remaining, o.attached_to.filled)


def protection_violations(
    view: AuditInputs, held: dict[str, int], orders: Sequence[_Order]
) -> list[Violation]:
    last_fill = last_fill_times(view.executions, view.account)
    out = []
    for symbol, qty in sorted(held.items()):
        exits = [o for o in orders if o.symbol == symbol and o.role == _EXIT and o.side == _exit_side(qty)]
        stop = sum(_covers(o) for o in exits if o.order_type in STOP_TYPES)
        target = sum(_covers(o) for o in exits if o.order_type not in STOP_TYPES)
        missing = [name for name, cov in (("stop", stop), ("target", target)) if cov < abs(qty)]
        if not missing:
            continue
        filled_at = last_fill.get(symbol)
        if filled_at is not None and view.now - filled_at < view.fill_grace:
            continue
        since = f"; last fill {filled_at:%H:%M:%S}" if filled_at is not None else ""
        out.append(
            _violation(
                UNPROTECTED_POSITION,
                symbol,
                f"position {qty} has working stop orders for {stop} and take-profit orders for {target} "
                f"shares (missing: {', '.join(missing)}){since}",
                exits,
            )
        )
    return out


def exit_violations(held: dict[str, int], orders: Sequence[_Order]) -> list[Violation]:
    out = []
    active = [o for o in orders if o.role == _EXIT and o.attached_to is None and not o.pending_cancel]
    for symbol in sorted({o.symbol for o in active}):
        qty = held.get(symbol, 0)
        mine = [o for o in active if o.symbol == symbol]
        naked = [o for o in mine if qty == 0 or o.side != _exit_side(qty)]
        if naked:
            what = "no position" if qty == 0 else f"a position of {qty} (these would add to it)"
            listed = ", ".join(f"{o.side} {o.order_type} x{o.remaining}" for o in naked)
            out.append(
                _violation(
                    NAKED_EXIT, symbol, f"{len(naked)} working exit order(s) with {what}: {listed}", naked
                )
            )
        closing = [o for o in mine if o not in naked]
        stops = [o for o in closing if o.order_type in STOP_TYPES]
        limits = [o for o in closing if o.order_type not in STOP_TYPES]
        for kind, group in (("stop", stops), ("limit", limits)):
            covered = sum(o.remaining for o in group)
            if qty and covered > abs(qty):
                out.append(
                    _violation(
                        OVER_COVERAGE,
                        symbol,
                        f"working {kind} exits cover {covered} shares, more than the {abs(qty)} held",
                        group,
                    )
                )
    return out


def entry_violations(view: AuditInputs, held: dict[str, int], orders: Sequence[_Order]) -> list[Violation]:
    out = []
    entries = [o for o in orders if o.role == _ENTRY]
    for symbol in sorted({o.symbol for o in entries}):
        mine = [o for o in entries if o.symbol == symbol]
        if len(mine) > 1:
            out.append(_violation(DUPLICATE_ENTRY, symbol, f"{len(mine)} working entry orders", mine))
        qty = held.get(symbol, 0)
        adding = [o for o in mine if qty and o.side != _exit_side(qty)]
        if adding and abs(qty) > sum(o.filled for o in adding):  # not just what these entries filled
            out.append(
                _violation(
                    DUPLICATE_ENTRY, symbol, f"a working entry although {qty} are already held", adding
                )
            )
    out += overlapping_entry_fills(view.executions, view.account, held)
    return out


def overlapping_entry_fills(executions: pd.DataFrame, account: str, held: dict[str, int]) -> list[Violation]:
    """Entries of one intent filled while another intent's position in the symbol was still open.

    Walks the day's executions per symbol in time order from the position the day started with
    (now held minus today's signed fills).
    """
    rows = sorted(_rows(executions, account), key=lambda r: _ts(r.get("time")) or datetime.min)
    out = []
    for symbol in sorted({str(r["symbol"]) for r in rows}):
        mine = [r for r in rows if str(r["symbol"]) == symbol]
        signed = [int(r["quantity"]) * (1 if str(r["side"]).upper() in ("BUY", "BOT") else -1) for r in mine]
        position = held.get(symbol, 0) - sum(signed)
        opener: str | None = "(held at the start of the day)" if position else None
        clashes: dict[str, str] = {}
        for r, change in zip(mine, signed, strict=True):
            ref = str(r.get("order_ref") or "")
            if order_role(ref) == _ENTRY:
                intent = parse_order_ref(ref)[0]
                if position and opener is not None and opener != intent and (position > 0) == (change > 0):
                    clashes.setdefault(ref, opener)
                if not position:
                    opener = intent
            position += change
            if not position:
                opener = None
        if clashes:
            pairs = ", ".join(f"{ref} while {other} was open" for ref, other in clashes.items())
            out.append(
                Violation(
                    DUPLICATE_ENTRY,
                    symbol,
                    f"an entry filled while another intent held the symbol: {pairs}",
                    tuple(clashes),
                )
            )
    return out


def limit_violations(view: AuditInputs, held: dict[str, int], orders: Sequence[_Order]) -> list[Violation]:
    limits, out = view.limits, []
    if limits.max_notional_per_position is not None:
        ceiling = limits.max_notional_per_position * (1 + NOTIONAL_FEE_ALLOWANCE)
        for r in _rows(view.positions, view.account):
            qty, cost = int(r["quantity"]), r.get("avg_cost")
            if not qty or cost is None or pd.isna(cost):
                continue
            notional = abs(qty) * Decimal(str(cost))
            if notional > ceiling:
                out.append(
                    Violation(
                        OVER_LIMIT,
                        str(r["symbol"]),
                        f"position {qty} at average cost {Decimal(str(cost)):.4f} is {notional:,.2f} HKD, "
                        f"over the per-position limit {limits.max_notional_per_position:,.2f} HKD",
                    )
                )
    if not limits.allow_shorts:
        for symbol, qty in sorted(held.items()):
            if qty < 0:
                out.append(Violation(OVER_LIMIT, symbol, f"short position {qty} while shorts are disabled"))
    busy = set(held) | {o.symbol for o in orders if o.role == _ENTRY}
    if len(busy) > limits.max_positions:
        out.append(
            Violation(
                OVER_LIMIT,
                "",
                f"{len(busy)} symbols held or being entered ({', '.join(sorted(busy))}); "
                f"the limit is {limits.max_positions}",
            )
        )
    return out


def ledger_violations(view: AuditInputs, orders: Sequence[_Order]) -> list[Violation]:
    """Catalyst orders at the broker (working, or executed today) the ledger has no row for."""
    seen: dict[str, tuple[str, set[int]]] = {}
    for o in orders:
        if is_catalyst_ref(o.ref):
            seen.setdefault(o.ref, (o.symbol, set()))[1].update({o.perm_id} if o.perm_id else set())
    for r in _rows(view.executions, view.account):
        ref = str(r.get("order_ref") or "")
        if is_catalyst_ref(ref):
            perm = _int_or_none(r.get("perm_id"))
            seen.setdefault(ref, (str(r["symbol"]), set()))[1].update({perm} if perm else set())
    out = []
    for ref, (symbol, perms) in sorted(seen.items(), key=lambda kv: (kv[1][0], kv[0])):
        if ref not in view.ledger_order_refs:
            out.append(
                Violation(
                    UNKNOWN_CATALYST_ORDER,
                    symbol,
                    f"the broker has Catalyst order {ref} and the ledger's orders table has no row for it",
                    (ref,),
                    tuple(sorted(perms)),
                )
            )
    return out


def halt_violations(view: AuditInputs) -> list[Violation]:
    out = []
    for r in _rows(view.ledger_entries, view.account):
        placed = _ts(r.get("placed_at"))
        if placed is None:
            continue
        for window in view.halt_windows:
            if window.contains(placed):
                out.append(
                    Violation(
                        ENTRY_WHILE_HALTED,
                        str(r["symbol"]),
                        f"entry placed at {placed:%Y-%m-%d %H:%M:%S %Z} inside the halt from "
                        f"{window.start:%H:%M:%S} to {window.end:%H:%M:%S} ({window.reason})",
                        (str(r["order_ref"]),),
                        tuple(p for p in (_int_or_none(r.get("perm_id")),) if p is not None),
                    )
                )
                break
    return out


# -- folds over the ledger and the broker's frames ------------------------------------------------


def _ts(value: Any) -> datetime | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return None
    ts = pd.Timestamp(value)
    if pd.isna(ts):
        return None
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return ts.to_pydatetime()


def last_fill_times(executions: pd.DataFrame | None, account: str) -> dict[str, datetime]:
    """The time of each symbol's latest execution today."""
    out: dict[str, datetime] = {}
    for r in _rows(executions, account):
        when = _ts(r.get("time"))
        symbol = str(r["symbol"])
        if when is not None and (symbol not in out or when > out[symbol]):
            out[symbol] = when
    return out


def halt_windows(
    events: pd.DataFrame, expiry: Callable[[datetime], datetime] = halt_expiry
) -> tuple[HaltWindow, ...]:
    """Fold breaker events (columns ts, kind, message) into the windows in which entries were halted.

    A trip opens a window (a trip while halted changes nothing); the window closes at the next
    reset or at the trip's expiry (the next session open), whichever comes first.
    """
    if events is None or events.empty:
        return ()
    rows = sorted(
        (r for r in events.to_dict("records") if r["kind"] in (BREAKER_TRIPPED, BREAKER_RESET)),
        key=lambda r: _ts(r["ts"]) or datetime.min,
    )
    windows: list[HaltWindow] = []
    start: datetime | None = None
    reason = ""
    for r in rows:
        ts = _ts(r["ts"])
        if ts is None:
            continue
        if start is not None and ts >= expiry(start):
            windows.append(HaltWindow(start, expiry(start), reason))
            start = None
        if r["kind"] == BREAKER_TRIPPED and start is None:
            start, reason = ts, str(r.get("message") or "")
        elif r["kind"] == BREAKER_RESET and start is not None:
            windows.append(HaltWindow(start, ts, reason))
            start = None
    if start is not None:
        windows.append(HaltWindow(start, expiry(start), reason))
    return tuple(windows)


# -- the I/O edge ---------------------------------------------------------------------------------


class AuditBroker(Protocol):
    """What :func:`read_audit_inputs` reads from a broker session (``BrokerSession`` is one)."""

    async def positions(self) -> pd.DataFrame: ...

    async def open_orders(self) -> pd.DataFrame: ...

    async def executions(self) -> pd.DataFrame: ...


async def read_audit_inputs(
    broker: AuditBroker,
    ledger: Ledger,
    *,
    account: str,
    now: datetime,
    limits: RiskLimits,
    fill_grace: timedelta = DEFAULT_FILL_GRACE,
) -> AuditInputs:
    """The view :func:`audit` judges: the broker's positions, open orders of every client and the
    day's executions; the ledger's orderRefs, the account's entries and breaker events.

    ``account`` is the broker session's resolved account (``BrokerSession.account``); ``now`` its
    server time. Read-only on both sides.
    """
    if not account:
        raise RiskInputError("the audit needs the broker session's account; got an empty one")
    positions = await broker.positions()
    open_orders = await broker.open_orders()
    executions = await broker.executions()
    facts = ledger_facts(ledger, account)
    return AuditInputs(
        account=account,
        now=now,
        limits=limits,
        positions=positions,
        open_orders=open_orders,
        executions=executions,
        ledger_order_refs=facts.order_refs,
        ledger_entries=facts.entries,
        halt_windows=facts.halt_windows,
        fill_grace=fill_grace,
    )


@dataclass(frozen=True)
class LedgerFacts:
    """What the audit takes from the ledger for one account."""

    order_refs: frozenset[str]  # every orderRef of the orders table (any account: a row is a row)
    entries: pd.DataFrame  # the account's placed entries: order_ref, symbol, account, perm_id, placed_at
    halt_windows: tuple[HaltWindow, ...]  # from the account's own breaker events only


def ledger_facts(ledger: Ledger, account: str) -> LedgerFacts:
    """Read the ledger's side of the audit for ``account`` (never events or entries under "")."""
    if not account:
        raise RiskInputError("the audit needs the broker session's account; got an empty one")
    refs = ledger.query("SELECT order_ref FROM orders")
    entries = ledger.query(
        "SELECT order_ref, symbol, account, perm_id, placed_at FROM orders "
        "WHERE account = ? AND (role = 'entry' OR order_ref LIKE '%:P') AND placed_at IS NOT NULL",
        [account],
    )
    events = ledger.query(
        "SELECT ts, kind, message FROM risk_events WHERE kind IN (?, ?) AND account = ? ORDER BY ts",
        [BREAKER_TRIPPED, BREAKER_RESET, account],
    )
    return LedgerFacts(frozenset(str(r) for r in refs["order_ref"]), entries, halt_windows(events))
