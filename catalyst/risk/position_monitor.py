"""Layer 2: the position monitor's judgements. Pure; the monitor daemon acts on them.

Two questions for every open position: has the price crossed the stop or target recorded for
it in the ledger while the position is still open (so the broker's own order did not handle
it)? And does the broker hold live protective orders for the whole quantity?
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd

from catalyst.risk.risk_errors import RiskInputError

STOP_TYPES = frozenset({"STP", "STP LMT", "TRAIL", "TRAIL LIMIT"})
LIMIT_TYPES = frozenset({"LMT"})
WORKING = frozenset({"PreSubmitted", "Submitted", "PendingSubmit", "ApiPending", "PendingCancel"})


@dataclass(frozen=True)
class GuardedPosition:
    """An open position with the levels recorded for it (broker quantity, ledger levels)."""

    symbol: str
    quantity: int  # signed
    stop: Decimal | None
    target: Decimal | None
    account: str = ""
    intent_id: str = ""

    @property
    def is_long(self) -> bool:
        return self.quantity > 0


@dataclass(frozen=True)
class PriceView:
    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None

    def exit_price(self, long: bool) -> Decimal | None:
        """The price an exit would trade at: the bid for a long, the ask for a short (else last)."""
        side = self.bid if long else self.ask
        return side if side is not None and side > 0 else self.last


@dataclass(frozen=True)
class LevelBreach:
    symbol: str
    quantity: int
    level_kind: str  # "stop" | "target"
    level: Decimal
    price: Decimal


def level_breaches(
    positions: Sequence[GuardedPosition], prices: Mapping[str, PriceView]
) -> list[LevelBreach]:
    """Positions whose exit price is at or through their stop or target."""
    out: list[LevelBreach] = []
    for p in positions:
        view = prices.get(p.symbol)
        if p.quantity == 0 or view is None:
            continue
        price = view.exit_price(p.is_long)
        if price is None:
            continue
        sign = 1 if p.is_long else -1
        if p.stop is not None and sign * (price - p.stop) <= 0:
            out.append(LevelBreach(p.symbol, p.quantity, "stop", p.stop, price))
        elif p.target is not None and sign * (price - p.target) >= 0:
            out.append(LevelBreach(p.symbol, p.quantity, "target", p.target, price))
    return out


class BreachTracker:
    """Gives the broker's own stop/target a grace period before the monitor steps in.

    A breach seen for the first time at t is acted on once it is still there at t + grace
    (grace 0 acts at once). A breach that disappears is forgotten.
    """

    def __init__(self, grace: timedelta = timedelta(seconds=2)) -> None:
        if grace < timedelta(0):
            raise RiskInputError("breach grace period must be >= 0")
        self.grace = grace
        self._first_seen: dict[str, datetime] = {}

    def due(self, breaches: Sequence[LevelBreach], now: datetime) -> list[LevelBreach]:
        current = {b.symbol for b in breaches}
        for sym in list(self._first_seen):
            if sym not in current:
                del self._first_seen[sym]
        due = []
        for b in breaches:
            first = self._first_seen.setdefault(b.symbol, now)
            if now - first >= self.grace:
                due.append(b)
        return due

    def forget(self, symbol: str) -> None:
        self._first_seen.pop(symbol, None)


@dataclass(frozen=True)
class ProtectionGap:
    symbol: str
    quantity: int  # signed position
    missing: tuple[str, ...]  # "stop", "target"
    stop_covered: int  # shares covered by working stop orders
    target_covered: int


def _working(open_orders: pd.DataFrame) -> pd.DataFrame:
    if open_orders is None or open_orders.empty:
        return pd.DataFrame(columns=["symbol", "side", "order_type", "quantity", "status"])
    frame = open_orders
    if "status" in frame.columns:
        frame = frame[frame["status"].astype(str).isin(WORKING)]
    return frame


def protection_gaps(positions: Mapping[str, int], open_orders: pd.DataFrame) -> list[ProtectionGap]:
    """Positions without a working stop (and a take-profit) covering their whole quantity.

    ``open_orders``: the broker's open orders of all clients with columns symbol, side,
    order_type, quantity (remaining) and status.
    """
    orders = _working(open_orders)
    gaps: list[ProtectionGap] = []
    for symbol, qty in sorted(positions.items()):
        if qty == 0:
            continue
        exit_side = "SELL" if qty > 0 else "BUY"
        mine = orders[
            (orders["symbol"].astype(str) == symbol) & (orders["side"].astype(str).str.upper() == exit_side)
        ]
        types = mine["order_type"].astype(str).str.upper()
        qty_col = _remaining(mine)
        stop_cov = int(qty_col[types.isin(STOP_TYPES)].sum())
        target_cov = int(qty_col[types.isin(LIMIT_TYPES)].sum())
        missing = tuple(name for name, cov in (("stop", stop_cov), ("target", target_cov)) if cov < abs(qty))
        if missing:
            gaps.append(ProtectionGap(symbol, qty, missing, stop_cov, target_cov))
    return gaps


def _remaining(orders: pd.DataFrame) -> pd.Series:
    for name in ("remaining", "quantity", "total_quantity"):
        if name in orders.columns:
            return pd.to_numeric(orders[name], errors="coerce").fillna(0)
    raise RiskInputError(f"open orders lack a quantity column; got {list(orders.columns)}")


def guarded_positions(
    broker_positions: Mapping[str, int], ledger_positions: pd.DataFrame
) -> list[GuardedPosition]:
    """Broker quantities with the stop/target the ledger recorded for each symbol."""
    levels: dict[str, tuple[Any, Any, Any]] = {}
    if ledger_positions is not None and not ledger_positions.empty:
        for r in ledger_positions.to_dict("records"):
            levels[str(r["symbol"])] = (r.get("stop_price"), r.get("target_price"), r.get("intent_id"))
    out = []
    for symbol, qty in sorted(broker_positions.items()):
        if qty == 0:
            continue
        stop, target, intent_id = levels.get(symbol, (None, None, None))
        out.append(
            GuardedPosition(symbol, int(qty), _dec(stop), _dec(target), intent_id=str(intent_id or ""))
        )
    return out


def _dec(value: Any) -> Decimal | None:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    return Decimal(str(value))
