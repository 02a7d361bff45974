"""A bracket order the system intends to send: entry, stop loss and take profit, checked as a whole.

A :class:`BracketIntent` cannot exist in an unsafe state. Construction refuses a long whose stop
is not below the entry or whose target is not above it (a short: the reverse), any price that is
not a Decimal on the HKEX spread table of the security on the intent's date, and any quantity that
is not a positive whole number of board lots. So anything holding an intent may send it.

Order references are deterministic: ``<intent_id>:P`` (parent/entry), ``:TP`` (take profit) and
``:SL`` (stop loss). References stay within :data:`MAX_ORDER_REF_LEN`.

Intent ids follow from the decision, never from the run that made it (:func:`make_intent_id`):
account, Hong Kong trading day, strategy, symbol, side and a sequence number. A rerun on the same
day after a crash decides the same trade, computes the same id and so finds (adopts) the legs the
crashed run sent, instead of sending them twice. The sequence number (:class:`IntentNumbering`)
tells apart the brackets one decision key gets in a day: number ``n`` is reused only while the
intent recorded under it never got an outcome (its submission was cut off: a status in
:data:`RESUMABLE_INTENT_STATUSES`); once it has one (proven, failed, rejected, dry run, adopted by
reconciliation, ended...), the next bracket of the same key that day takes ``n + 1``. So a later
cycle, after the first bracket of a symbol was proven (or has exited), can never "adopt" those
finished legs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from catalyst.domain.errors import InvalidIntentError, UnknownSideError
from catalyst.domain.side import Side
from catalyst.market import (
    MarketError,
    as_hk_date,
    hk_today,
    is_on_tick,
    normalize_symbol,
    security,
    snap_for_role,
    snap_to_tick,
    tick_size,
    whole_lots,
)

#: Longest orderRef Catalyst produces (IB accepts longer; short refs keep logs and TWS readable).
MAX_ORDER_REF_LEN = 40
#: Role suffixes of the three legs, and the spellings accepted for each.
ORDER_REF_ROLES: dict[str, str] = {
    "P": "P",
    "parent": "P",
    "entry": "P",
    "TP": "TP",
    "target": "TP",
    "take_profit": "TP",
    "SL": "SL",
    "stop": "SL",
    "stop_loss": "SL",
}
MAX_INTENT_ID_LEN = MAX_ORDER_REF_LEN - len(":TP")
_INTENT_ID_RE = re.compile(r"^[A-Za-z0-9._-]+$")
MAX_SEQ = 999_999


def _ensure_side(side: Any) -> Side:
    if isinstance(side, Side):
        return side
    try:
        return Side.parse(side)
    except UnknownSideError as e:
        raise InvalidIntentError(str(e)) from e


def _ensure_price(name: str, value: Any) -> Decimal:
    if isinstance(value, float):
        raise InvalidIntentError(
            f"{name} price {value!r} is a float; build intents from Decimal prices (Decimal(str(x)))"
        )
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise InvalidIntentError(f"{name} price must be a positive Decimal, got {value!r}")
    return value


@dataclass(frozen=True)
class BracketIntent:
    """An entry with its protective stop and profit target, validated on construction."""

    intent_id: str
    symbol: str
    side: Side
    quantity: int
    entry: Decimal
    stop: Decimal
    target: Decimal
    strategy: str = ""
    reason: str = ""
    score: float = 0.0
    run_id: str = ""
    account: str = ""
    created_at: datetime | None = field(default=None, compare=True)

    def __post_init__(self) -> None:
        if not isinstance(self.intent_id, str) or not _INTENT_ID_RE.match(self.intent_id):
            raise InvalidIntentError(
                f"intent_id {self.intent_id!r} must be non-empty letters, digits, '.', '_' or '-' "
                "(use make_intent_id)"
            )
        if len(self.intent_id) > MAX_INTENT_ID_LEN:
            raise InvalidIntentError(
                f"intent_id {self.intent_id!r} is {len(self.intent_id)} characters; at most "
                f"{MAX_INTENT_ID_LEN} keep its orderRefs within {MAX_ORDER_REF_LEN}"
            )
        if self.created_at is not None and (
            not isinstance(self.created_at, datetime) or self.created_at.utcoffset() is None
        ):
            raise InvalidIntentError(f"created_at must be a tz-aware datetime, got {self.created_at!r}")
        object.__setattr__(self, "side", _ensure_side(self.side))
        try:
            sec = security(self.symbol)
            object.__setattr__(self, "symbol", normalize_symbol(self.symbol))
            whole_lots(self.quantity, self.symbol)
        except MarketError as e:
            raise InvalidIntentError(f"intent {self.intent_id}: {e}") from e
        prices = {name: _ensure_price(name, getattr(self, name)) for name in ("entry", "stop", "target")}
        day = self.trade_date
        for name, price in prices.items():
            try:
                tick_size(price, on=day, table=sec.spread_table)  # range check: <= 0 or above the top
            except MarketError as e:
                raise InvalidIntentError(f"intent {self.intent_id}: {name}: {e}") from e
            on_tick = is_on_tick(price, on=day, table=sec.spread_table)
            if not on_tick:
                raise InvalidIntentError(
                    f"intent {self.intent_id}: {name} {price} of {self.symbol} is off the spread table "
                    f"{sec.spread_table} ladder on {day}; nearest valid prices "
                    f"{_neighbours(price, day, sec.spread_table)} (use BracketIntent.snapped)"
                )
        entry, stop, target = prices["entry"], prices["stop"], prices["target"]
        if self.side is Side.BUY and not stop < entry < target:
            raise InvalidIntentError(
                f"intent {self.intent_id}: a long needs stop < entry < target, got stop {stop}, "
                f"entry {entry}, target {target}"
            )
        if self.side is Side.SELL and not target < entry < stop:
            raise InvalidIntentError(
                f"intent {self.intent_id}: a short needs target < entry < stop, got target {target}, "
                f"entry {entry}, stop {stop}"
            )

    @classmethod
    def snapped(
        cls,
        intent_id: str,
        symbol: str,
        side: Side | str,
        quantity: int,
        entry: Decimal,
        stop: Decimal,
        target: Decimal,
        **extra: Any,
    ) -> BracketIntent:
        """Build an intent from raw strategy prices, snapping each leg in its safe direction.

        Entries never get worse, stops only move toward the entry and targets only toward the entry
        (``catalyst.market.spread_table``). A bracket that collapses when snapped still raises.
        """
        s = _ensure_side(side)
        created_at = extra.get("created_at")
        day = as_hk_date(created_at) if created_at is not None else hk_today()
        try:
            table = security(symbol).spread_table
            legs = {
                role: snap_for_role(_ensure_price(role, price), role, s, on=day, table=table)  # type: ignore[arg-type]
                for role, price in (("entry", entry), ("stop", stop), ("target", target))
            }
        except MarketError as e:
            raise InvalidIntentError(f"intent {intent_id}: {e}") from e
        return cls(intent_id, symbol, s, quantity, legs["entry"], legs["stop"], legs["target"], **extra)

    @property
    def trade_date(self) -> date:
        """The Hong Kong date whose spread table the prices were checked against."""
        return as_hk_date(self.created_at) if self.created_at is not None else hk_today()

    @property
    def is_long(self) -> bool:
        return self.side is Side.BUY

    @property
    def lots(self) -> int:
        """Number of board lots."""
        return whole_lots(self.quantity, self.symbol)

    @property
    def risk_per_share(self) -> Decimal:
        """Distance from entry to stop, HKD per share (always positive)."""
        return abs(self.entry - self.stop)

    @property
    def reward_per_share(self) -> Decimal:
        """Distance from entry to target, HKD per share (always positive)."""
        return abs(self.target - self.entry)

    @property
    def risk(self) -> Decimal:
        """HKD lost if the stop fills at its price (before costs and slippage)."""
        return self.risk_per_share * self.quantity

    @property
    def notional(self) -> Decimal:
        """Entry value, HKD."""
        return self.entry * self.quantity

    def ledger_row(
        self,
        status: str,
        *,
        run_id: str = "",
        account: str = "",
        detail: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """This intent as a row of the ledger's ``intents`` table, with its ``status``.

        The intent's own run and account come first (they are part of its identity); the caller's
        fill in where the intent has none. ``at`` stands in for a missing ``created_at`` (default:
        now). ``detail`` is stored as JSON text.
        """
        return {
            "intent_id": self.intent_id,
            "run_id": self.run_id or run_id or None,
            "created_at": self.created_at or at or datetime.now(UTC),
            "account": self.account or account or None,
            "symbol": self.symbol,
            # a tampered intent (its side replaced after validation) is still recorded as it came,
            # so the rejection the broker writes shows what was refused
            "side": self.side.value if isinstance(self.side, Side) else str(self.side),
            "quantity": self.quantity,
            "entry_price": self.entry,
            "stop_price": self.stop,
            "target_price": self.target,
            "strategy": self.strategy,
            "score": self.score,
            "reason": self.reason,
            "status": status,
            "detail": json.dumps(dict(detail or {}), default=str, sort_keys=True),
        }

    def order_ref(self, role: str) -> str:
        """The deterministic orderRef of one leg: ``<intent_id>:P``, ``:TP`` or ``:SL``."""
        code = ORDER_REF_ROLES.get(role)
        if code is None:
            raise InvalidIntentError(f"order role must be one of {sorted(ORDER_REF_ROLES)}, got {role!r}")
        return f"{self.intent_id}:{code}"

    def order_refs(self) -> dict[str, str]:
        """orderRef of every leg, keyed by role code P, TP, SL."""
        return {code: self.order_ref(code) for code in ("P", "TP", "SL")}


def _neighbours(price: Decimal, day: date, table: str) -> str:
    down = snap_to_tick(price, "down", on=day, table=table)
    up = snap_to_tick(price, "up", on=day, table=table)
    return f"{down} and {up}"


def parse_order_ref(ref: str) -> tuple[str, str]:
    """Split an orderRef made by :meth:`BracketIntent.order_ref` into (intent_id, role code)."""
    if isinstance(ref, str) and ":" in ref:
        intent_id, _, code = ref.rpartition(":")
        if code in ("P", "TP", "SL") and _INTENT_ID_RE.match(intent_id):
            return intent_id, code
    raise InvalidIntentError(f"{ref!r} is not a Catalyst orderRef ('<intent_id>:P|TP|SL')")


#: Intent statuses whose submission was cut off before it got an outcome: the crashed run's
#: ``submitted`` (written before anything is sent) and reconciliation's ``interrupted`` (the process
#: died with legs still working at the broker). A rerun of the same decision reuses such an id.
RESUMABLE_INTENT_STATUSES = frozenset({"submitted", "interrupted"})


def _decision_digest(account: str, day: date, strategy: str) -> str:
    key = json.dumps([account, day.isoformat(), strategy], separators=(",", ":"))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]


def intent_id_prefix(account: str, day: date, strategy: str, symbol: str, side: Side | str) -> str:
    """Every intent id of one decision key, up to its sequence number:
    ``<10 hex of sha256(account, day, strategy)>-<YYMMDD>-<symbol>-<B|S>-``."""
    if not isinstance(account, str) or not account.strip():
        raise InvalidIntentError(
            f"account must be a non-empty string (the broker's account the intent is for), got {account!r}"
        )
    if not isinstance(day, date) or isinstance(day, datetime):
        raise InvalidIntentError(f"day must be the Hong Kong trading day (a datetime.date), got {day!r}")
    if not isinstance(strategy, str):
        raise InvalidIntentError(f"strategy must be a string, got {strategy!r}")
    try:
        code = normalize_symbol(symbol)
    except MarketError as e:
        raise InvalidIntentError(str(e)) from e
    s = _ensure_side(side)
    digest = _decision_digest(account.strip(), day, strategy)
    return f"{digest}-{day:%y%m%d}-{code}-{'B' if s is Side.BUY else 'S'}-"


def make_intent_id(account: str, day: date, strategy: str, symbol: str, side: Side | str, seq: int) -> str:
    """Deterministic, short id of one decision: ``<digest>-<YYMMDD>-<symbol>-<B|S>-<seq>``.

    The digest hashes (account, Hong Kong trading day, strategy), so the same decision on the same
    day gives the same id whichever run makes it: a rerun after a crash finds the crashed run's
    orders. ``seq`` numbers the brackets of one key in a day (see :class:`IntentNumbering`).
    At most 32 characters; its order references at most 35.
    """
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_SEQ:
        raise InvalidIntentError(f"seq must be an integer from 0 to {MAX_SEQ}, got {seq!r}")
    return f"{intent_id_prefix(account, day, strategy, symbol, side)}{seq}"


#: (intent id prefix) -> {sequence number: recorded status} of the intents recorded under it.
RecordedIntents = Callable[[str], Mapping[int, str]]


def _nothing_recorded(_prefix: str) -> Mapping[int, str]:
    return {}


class IntentNumbering:
    """Gives each sized decision its intent id, numbering the brackets of one key in a day.

    The number of a key is the smallest ``n`` that is neither given out by this object already nor
    recorded with an outcome: an id recorded without one (a status in
    :data:`RESUMABLE_INTENT_STATUSES`, a crashed submission) is given again, so the rerun adopts its
    legs. ``recorded`` reads what the ledger holds (the trading cycle); the default, nothing, numbers
    the decisions of one backtest 0, 1, 2... per key.
    """

    def __init__(self, recorded: RecordedIntents = _nothing_recorded) -> None:
        self._recorded = recorded
        self._given: dict[str, set[int]] = {}

    def next_id(self, account: str, day: date, strategy: str, symbol: str, side: Side | str) -> str:
        prefix = intent_id_prefix(account, day, strategy, symbol, side)
        given = self._given.setdefault(prefix, set())
        recorded = self._recorded(prefix)
        seq = 0
        while seq in given or (seq in recorded and recorded[seq] not in RESUMABLE_INTENT_STATUSES):
            seq += 1
        if seq > MAX_SEQ:
            raise InvalidIntentError(f"more than {MAX_SEQ} brackets of {prefix}* in one day")
        given.add(seq)
        return f"{prefix}{seq}"
