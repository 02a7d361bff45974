"""A bracket order the system intends to send: entry, stop loss and take profit, checked as a whole.

A :class:`BracketIntent` cannot exist in an unsafe state. Construction refuses a long whose stop
is not below the entry or whose target is not above it (a short: the reverse), any price that is
not a Decimal on the HKEX spread table of the security on the intent's date, and any quantity that
is not a positive whole number of board lots. So anything holding an intent may send it.

Order references are deterministic: ``<intent_id>:P`` (parent/entry), ``:TP`` (take profit) and
``:SL`` (stop loss). :func:`make_intent_id` derives the id from the run, symbol, side and sequence
number, so rerunning a crashed cycle recreates the same references and finds its own orders at
the broker instead of sending duplicates. References stay within :data:`MAX_ORDER_REF_LEN`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from catalyst.domain.domain_errors import InvalidIntentError, UnknownSideError
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


def make_intent_id(run_id: str, symbol: str, side: Side | str, seq: int) -> str:
    """Deterministic, short id: ``<10 hex of sha256(run_id)>-<symbol>-<B|S>-<seq>``.

    The same (run, symbol, side, seq) always gives the same id, so a rerun finds its own orders.
    At most 25 characters; its order references at most 28.
    """
    if not isinstance(run_id, str) or not run_id.strip():
        raise InvalidIntentError(f"run_id must be a non-empty string, got {run_id!r}")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_SEQ:
        raise InvalidIntentError(f"seq must be an integer from 0 to {MAX_SEQ}, got {seq!r}")
    try:
        code = normalize_symbol(symbol)
    except MarketError as e:
        raise InvalidIntentError(str(e)) from e
    s = _ensure_side(side)
    digest = hashlib.sha256(run_id.encode("utf-8")).hexdigest()[:10]
    return f"{digest}-{code}-{'B' if s is Side.BUY else 'S'}-{seq}"
