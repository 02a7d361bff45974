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

from catalyst.risk.errors import RiskInputError

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

    def next_due(self) -> datetime | None:
        """When the earliest pending breach becomes due (the monitor wakes for it)."""
        return min(self._first_seen.values()) + self.grace if self._first_seen else None


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


def being_closed(symbol: str, position: int, open_orders: pd.DataFrame) -> bool:
    """True when working flatten orders (orderRef ``...:FLAT``, any client) on the closing side cover
    the whole ``position``: it is being closed, not left unprotected."""
    orders = _working(open_orders)
    if position == 0 or orders.empty or "order_ref" not in orders.columns:
        return False
    exit_side = "SELL" if position > 0 else "BUY"
    flattens = orders[
        (orders["symbol"].astype(str) == symbol)
        & (orders["side"].astype(str).str.upper() == exit_side)
        & orders["order_ref"].astype(str).str.contains(":FLAT", regex=False)
    ]
    return bool(int(_remaining(flattens).sum()) >= abs(int(position))) if not flattens.empty else False


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


# -- re-protection: what to place so a position ends with exactly one stop and one target ---------

REPAIR_PAIR = "pair"  # no usable survivor: a new stop + target pair in a new OCA group
REPAIR_COMPLETE = "complete"  # one survivor: add the missing leg into the survivor's OCA group
REPAIR_OVER_COVERED = "over_covered"  # survivors cover more than the position: place nothing, alert
REPAIR_MANUAL = "manual"  # survivors in a shape the monitor cannot complete safely: place nothing, alert


@dataclass(frozen=True)
class ProtectiveLeg:
    """A working exit order in a held symbol, as the broker lists it (any client)."""

    order_ref: str
    role: str  # "stop" | "target"
    quantity: int  # remaining shares, unsigned
    oca_group: str = ""
    client_id: int | None = None

    def describe(self) -> str:
        who = f", client {self.client_id}" if self.client_id is not None else ""
        group = f", OCA {self.oca_group}" if self.oca_group else ", no OCA group"
        return f"{self.role} {self.order_ref or '(no orderRef)'} x{self.quantity}{group}{who}"


@dataclass(frozen=True)
class ProtectionRepair:
    """The decision for one unprotected position: which legs to place, of what size, in which group.

    ``stop_quantity`` / ``target_quantity`` are unsigned share counts (0 = place none of that role);
    ``oca_group`` is the surviving leg's group to join, or "" for a new group of the monitor's own.
    """

    symbol: str
    position: int  # signed
    kind: str  # REPAIR_PAIR | REPAIR_COMPLETE | REPAIR_OVER_COVERED | REPAIR_MANUAL
    stop_quantity: int
    target_quantity: int
    oca_group: str
    surviving: tuple[ProtectiveLeg, ...]
    reason: str

    @property
    def places_orders(self) -> bool:
        return self.stop_quantity > 0 or self.target_quantity > 0


def protective_legs(symbol: str, position: int, open_orders: pd.DataFrame) -> list[ProtectiveLeg]:
    """The working stop and target orders (exit side, any client) in ``symbol``."""
    orders = _working(open_orders)
    if orders.empty or position == 0:
        return []
    exit_side = "SELL" if position > 0 else "BUY"
    mine = orders[
        (orders["symbol"].astype(str) == symbol) & (orders["side"].astype(str).str.upper() == exit_side)
    ]
    remaining = _remaining(mine)
    legs: list[ProtectiveLeg] = []
    for (_, row), qty in zip(mine.iterrows(), remaining, strict=True):
        order_type = str(row["order_type"]).upper()
        role = "stop" if order_type in STOP_TYPES else "target" if order_type in LIMIT_TYPES else ""
        if not role or int(qty) <= 0:
            continue
        client = row.get("client_id")
        legs.append(
            ProtectiveLeg(
                order_ref=str(row.get("order_ref") or ""),
                role=role,
                quantity=int(qty),
                oca_group=str(row.get("oca_group") or ""),
                client_id=None if client is None or pd.isna(client) else int(client),
            )
        )
    return legs


def plan_protection_repair(symbol: str, position: int, legs: Sequence[ProtectiveLeg]) -> ProtectionRepair:
    """What to place so ``position`` ends with exactly one working stop and one working target.

    * surviving legs cover more than the position on either side: nothing (``over_covered``);
    * stop and target short by the same amount (typically: nothing survives): a new pair of that
      size in a new OCA group (``pair``);
    * one role fully covered by exactly one leg with an OCA group, the other role absent: the missing
      leg for the whole position, joining that leg's OCA group (``complete``);
    * anything else (partial, several or unlinked survivors): nothing (``manual``), a person decides.

    Assumption (IB): an order placed with the ocaGroup name of a working order of the same account
    joins that group even when another API client placed it, and with ocaType 3 (reduce, no block)
    a fill of any member reduces the others by the filled quantity, cancelling them at zero. Two
    legs of the same role in one such group would reduce each other, which is why a survivor is
    only completed when it is the one order of its role and the other role is absent.
    """
    if position == 0:
        raise RiskInputError(f"no position in {symbol} to protect")
    need = abs(int(position))
    stops = tuple(leg for leg in legs if leg.role == "stop")
    targets = tuple(leg for leg in legs if leg.role == "target")
    stop_cov = sum(leg.quantity for leg in stops)
    target_cov = sum(leg.quantity for leg in targets)
    surviving = tuple(legs)

    def decide(kind: str, stop_qty: int, target_qty: int, group: str, reason: str) -> ProtectionRepair:
        return ProtectionRepair(symbol, int(position), kind, stop_qty, target_qty, group, surviving, reason)

    if stop_cov > need or target_cov > need:
        over = [
            f"{name} orders cover {cov}"
            for name, cov in (("stop", stop_cov), ("target", target_cov))
            if cov > need
        ]
        return decide(
            REPAIR_OVER_COVERED,
            0,
            0,
            "",
            f"{symbol} position {position}: {' and '.join(over)} shares, more than the {need} held",
        )
    stop_short, target_short = need - stop_cov, need - target_cov
    if stop_short == target_short:
        return decide(
            REPAIR_PAIR,
            stop_short,
            target_short,
            "",
            f"{symbol} position {position}: stop and target both short by {stop_short}; a new OCA pair",
        )
    for have, missing_role, present, absent in (
        (stops, "target", stop_cov, target_cov),
        (targets, "stop", target_cov, stop_cov),
    ):
        if present == need and absent == 0 and len(have) == 1 and have[0].oca_group:
            survivor = have[0]
            stop_qty = need if missing_role == "stop" else 0
            target_qty = need if missing_role == "target" else 0
            return decide(
                REPAIR_COMPLETE,
                stop_qty,
                target_qty,
                survivor.oca_group,
                f"{symbol} position {position}: {survivor.describe()} survives; adding the {missing_role} "
                f"for {need} in its OCA group",
            )
    return decide(
        REPAIR_MANUAL,
        0,
        0,
        "",
        f"{symbol} position {position}: stop covers {stop_cov}, target {target_cov}; the surviving orders "
        "cannot be completed to exactly one stop and one target by adding orders",
    )


# -- findings acted on only once they last -------------------------------------------------------


class GraceTracker:
    """Acts on a finding only once it has lasted ``grace`` (IB's OCA cancel of the other leg, a
    cancel in flight, trail a fill by a moment). A finding that disappears is forgotten."""

    def __init__(self, grace: timedelta) -> None:
        if grace < timedelta(0):
            raise RiskInputError("grace period must be >= 0")
        self.grace = grace
        self._first_seen: dict[str, datetime] = {}

    def due(self, keys: Sequence[str], now: datetime) -> set[str]:
        current = set(keys)
        for key in list(self._first_seen):
            if key not in current:
                del self._first_seen[key]
        for key in current:
            self._first_seen.setdefault(key, now)
        return {k for k in current if now - self._first_seen[k] >= self.grace}

    def next_due(self) -> datetime | None:
        return min(self._first_seen.values()) + self.grace if self._first_seen else None

    def forget(self, key: str) -> None:
        self._first_seen.pop(key, None)
