"""Layer 1: pre-trade checks. Pure: intents and a picture of the book in, a verdict out.

Intents are checked in the order given, and each approval uses up what it needs (a position
slot, buying power) before the next intent is judged, so a batch can never jointly exceed a
limit that each intent alone would pass.

HKEX's quotation rule (``catalyst.market.order_rules``): an approved intent whose target lies 24
spreads or more beyond what the market will be when the entry fills would have its take-profit
rejected by HKEX. Pre-trade plans such a target inside the limit: at most 20 spreads beyond the
entry (:func:`~catalyst.market.farthest_target`). The approved intent carries that target, so the
ledger, the bracket, the review and the backtester all see the one target that is sent; the
result lists each move in ``adjustments`` (docs/risk-operations.md, "Targets and HKEX's
quotation rule").

HKEX's other order rules refuse an intent outright (``hkex_order_rule``): more than 3,000 board
lots in one order, or an entry or stop priced at 9 times the nominal price or more, or at
one-ninth of it or less (the nominal being the last traded price at the decision, else the
entry). HKEX would reject such an order; nothing of it is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pandas as pd
import structlog

from catalyst.domain import BracketIntent, Side
from catalyst.market import (
    HK_TZ,
    UnknownSymbolError,
    accepts_new_orders,
    fill_fees,
    phase,
    security,
    session_for,
    target_inside_quotation_rule,
)
from catalyst.market.errors import OrderSizeError, PriceLimitError
from catalyst.market.order_rules import require_order_size, require_within_price_limits
from catalyst.risk.errors import RiskInputError
from catalyst.risk.limits import RiskLimits
from catalyst.risk.state import RiskState

log = structlog.get_logger(__name__)


class RejectReason(StrEnum):
    """Why an intent was refused. The codes are stable: notebooks and the ledger group by them."""

    BREAKER_HALTED = "breaker_halted"
    HOLIDAY = "holiday"
    MARKET_PHASE = "market_phase"
    NEAR_CLOSE = "near_close"
    UNKNOWN_SYMBOL = "unknown_symbol"
    SYMBOL_LOCKED = "symbol_locked"
    DUPLICATE_SYMBOL = "duplicate_symbol"
    SHORTS_DISABLED = "shorts_disabled"
    NOT_SHORTABLE = "not_shortable"
    MAX_POSITIONS = "max_positions"
    MAX_NOTIONAL = "max_notional"
    RISK_PER_TRADE = "risk_per_trade"
    BUYING_POWER = "buying_power"
    HKEX_ORDER_RULE = "hkex_order_rule"


@dataclass(frozen=True)
class AccountView:
    """The figures of the broker's account snapshot the checks need (HKD)."""

    equity: Decimal  # net liquidation value
    buying_power: Decimal

    def __post_init__(self) -> None:
        if self.equity <= 0:
            raise RiskInputError(
                f"account equity must be positive to size risk, got {self.equity}; check the account snapshot"
            )
        if self.buying_power < 0:
            raise RiskInputError(f"buying power cannot be negative, got {self.buying_power}")

    @classmethod
    def from_snapshot(cls, snapshot: Any) -> AccountView:
        """From the broker's account snapshot (a mapping or an object with these names)."""

        def pick(*names: str) -> Decimal:
            for name in names:
                value = snapshot.get(name) if isinstance(snapshot, Mapping) else getattr(snapshot, name, None)
                if value is not None:
                    return Decimal(str(value))
            raise RiskInputError(f"account snapshot has none of {names}; cannot check buying power")

        return cls(
            equity=pick("net_liquidation", "equity", "NetLiquidation"),
            buying_power=pick("buying_power", "BuyingPower"),
        )


@dataclass(frozen=True)
class PreTradeContext:
    """Everything outside the intents that the checks look at."""

    account: AccountView
    now: datetime
    positions: Mapping[str, int] = field(default_factory=dict)  # symbol -> signed quantity held
    open_entry_symbols: frozenset[str] = frozenset()  # symbols with a working entry order
    risk_state: RiskState = field(default_factory=RiskState)
    #: symbol -> its last traded price at the decision (the close of its last complete bar): a target
    #: is planned from the nearer of it and the entry (an entry priced through the touch fills at
    #: about the touch, and its take-profit is then judged against it)
    last: Mapping[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise RiskInputError("pre-trade time must be timezone-aware (use catalyst.market.HK_TZ)")


@dataclass(frozen=True)
class Rejection:
    intent: BracketIntent
    code: RejectReason
    text: str


@dataclass(frozen=True)
class TargetAdjustment:
    """A target moved inside HKEX's quotation rule before the intent was approved."""

    intent_id: str
    symbol: str
    planned: Decimal  # the strategy's target
    target: Decimal  # the target approved and sent
    text: str


@dataclass(frozen=True)
class PreTradeResult:
    approved: tuple[BracketIntent, ...]
    rejections: tuple[Rejection, ...]
    adjustments: tuple[TargetAdjustment, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per intent with its verdict, for the cycle notebook."""
        moved = {a.intent_id: a.text for a in self.adjustments}
        rows = [_row(i, "approved", "", moved.get(i.intent_id, "")) for i in self.approved]
        rows += [_row(r.intent, "rejected", r.code.value, r.text) for r in self.rejections]
        return pd.DataFrame(
            rows,
            columns=[
                "intent_id",
                "symbol",
                "side",
                "quantity",
                "entry",
                "stop",
                "target",
                "verdict",
                "code",
                "reason",
            ],
        )


def _row(i: BracketIntent, verdict: str, code: str, text: str) -> dict[str, Any]:
    return {
        "intent_id": i.intent_id,
        "symbol": i.symbol,
        "side": i.side.value,
        "quantity": i.quantity,
        "entry": i.entry,
        "stop": i.stop,
        "target": i.target,
        "verdict": verdict,
        "code": code,
        "reason": text,
    }


def round_trip_fees(intent: BracketIntent) -> Decimal:
    """Fees of entering at the entry price and leaving at the stop (the losing exit)."""
    day = intent.trade_date
    entry_fees = fill_fees(intent.symbol, intent.quantity, intent.entry, on=day).total
    exit_fees = fill_fees(intent.symbol, intent.quantity, intent.stop, on=day).total
    return Decimal(entry_fees) + Decimal(exit_fees)


def risk_of(intent: BracketIntent) -> Decimal:
    """Money lost if the stop fills at its price: stop distance times quantity plus round-trip fees."""
    return abs(intent.entry - intent.stop) * intent.quantity + round_trip_fees(intent)


def target_reference(intent: BracketIntent, last: Decimal | None = None) -> Decimal:
    """The price a take-profit is counted from: the entry, or the last traded price when that is
    nearer the target's side (a long priced through the touch fills about there)."""
    if last is None or last <= 0:
        return intent.entry
    return min(intent.entry, last) if intent.side is Side.BUY else max(intent.entry, last)


def target_within_quotation_rule(
    intent: BracketIntent, last: Decimal | None = None
) -> tuple[BracketIntent, TargetAdjustment | None]:
    """The intent with its target planned inside HKEX's quotation rule, and the move if one was made.

    The take-profit is sent when the entry fills; HKEX rejects a limit 24 spreads or more beyond
    the best price on its side, which is then about the entry, or about the last traded price for an
    entry priced through the touch (``last``). A target beyond 20 spreads from that reference is
    moved to 20 spreads (three kept for the market moving); the stop is untouched.
    """
    table = security(intent.symbol).spread_table
    reference = target_reference(intent, last)
    target = target_inside_quotation_rule(
        intent.side.value, reference, intent.target, on=intent.trade_date, table=table
    )
    if target == intent.target:
        return intent, None
    source = "the entry" if reference == intent.entry else "the last price"
    text = (
        f"target {intent.target} is 24 spreads or more beyond {source} {reference}: HKEX would reject "
        f"the take-profit (quotation rule); planned at {target}, 20 spreads from {source}"
    )
    moved = TargetAdjustment(intent.intent_id, intent.symbol, intent.target, target, text)
    return replace(intent, target=target), moved


def market_refusal(now: datetime, limits: RiskLimits) -> tuple[RejectReason, str] | None:
    """Why no entry may be sent at ``now``, or None when entries are allowed."""
    local = now.astimezone(HK_TZ)
    day = session_for(local.date())
    if day is None:
        return RejectReason.HOLIDAY, f"{local:%Y-%m-%d} is not an HKEX trading day"
    if not accepts_new_orders(now):
        return (
            RejectReason.MARKET_PHASE,
            f"no new entries during {phase(now).value} at {local:%H:%M} HKT; "
            "entries are allowed in the morning and afternoon continuous sessions only",
        )
    # the next end of continuous trading: the lunch break or the close
    ends = [t for t in (day.break_start, day.close) if t is not None and t > local]
    left = (min(ends) - local).total_seconds() / 60.0
    if left < limits.no_entry_minutes_before_close:
        return (
            RejectReason.NEAR_CLOSE,
            f"{left:.0f} min before the {min(ends):%H:%M} HKT close of continuous trading; no new "
            f"entries in the last {limits.no_entry_minutes_before_close} min",
        )
    return None


def pre_trade(
    intents: Iterable[BracketIntent], context: PreTradeContext, limits: RiskLimits
) -> PreTradeResult:
    """Judge each intent; approvals use up position slots and buying power in order."""
    approved: list[BracketIntent] = []
    rejections: list[Rejection] = []
    adjustments: list[TargetAdjustment] = []
    held = {s for s, q in context.positions.items() if q != 0}
    busy = held | set(context.open_entry_symbols)
    buying_power = context.account.buying_power
    market = market_refusal(context.now, limits)

    for intent in intents:
        verdict = _judge(intent, context, limits, market, busy, buying_power)
        if verdict is not None:
            code, text = verdict
            rejections.append(Rejection(intent, code, text))
            log.info(
                "risk.pretrade.rejected",
                intent_id=intent.intent_id,
                symbol=intent.symbol,
                side=intent.side.value,
                code=code.value,
                reason=text,
            )
            continue
        intent, moved = target_within_quotation_rule(intent, context.last.get(intent.symbol))
        if moved is not None:
            adjustments.append(moved)
            log.info(
                "risk.pretrade.target_moved",
                intent_id=intent.intent_id,
                symbol=intent.symbol,
                planned=str(moved.planned),
                target=str(moved.target),
            )
        approved.append(intent)
        busy.add(intent.symbol)
        buying_power -= _cost(intent)
        log.info(
            "risk.pretrade.approved",
            intent_id=intent.intent_id,
            symbol=intent.symbol,
            side=intent.side.value,
            quantity=intent.quantity,
            risk=str(risk_of(intent)),
        )
    return PreTradeResult(tuple(approved), tuple(rejections), tuple(adjustments))


def _cost(intent: BracketIntent) -> Decimal:
    fees = fill_fees(intent.symbol, intent.quantity, intent.entry, on=intent.trade_date).total
    return intent.entry * intent.quantity + Decimal(fees)


def hkex_order_rule_breach(intent: BracketIntent, board_lot: int, last: Decimal | None) -> str | None:
    """Why HKEX would reject one of the intent's orders (lot maximum, 9x / one-ninth price limits).

    The entry and the stop are judged; the target needs no check here, since pre-trade plans it at
    most 20 spreads beyond the entry (the quotation rule), far inside the price limits."""
    nominal = last if last is not None and last > 0 else intent.entry
    try:
        require_order_size(intent.quantity, board_lot)
    except OrderSizeError as exc:
        return f"{intent.symbol}: {exc}"
    for leg, price in (("entry", intent.entry), ("stop", intent.stop)):
        try:
            require_within_price_limits(price, nominal)
        except PriceLimitError as exc:
            return f"{intent.symbol} {leg}: {exc}"
    return None


def _judge(
    intent: BracketIntent,
    ctx: PreTradeContext,
    limits: RiskLimits,
    market: tuple[RejectReason, str] | None,
    busy: set[str],
    buying_power: Decimal,
) -> tuple[RejectReason, str] | None:
    if ctx.risk_state.halted:
        until = f" until {ctx.risk_state.halt_until:%Y-%m-%d %H:%M %Z}" if ctx.risk_state.halt_until else ""
        return (
            RejectReason.BREAKER_HALTED,
            f"daily circuit breaker tripped ({ctx.risk_state.halt_reason}); new entries halted{until} "
            "or until `catalyst risk reset --reason TEXT`",
        )
    if market is not None:
        return market
    try:
        sec = security(intent.symbol)
    except UnknownSymbolError:
        return RejectReason.UNKNOWN_SYMBOL, f"{intent.symbol} is not in the Catalyst universe"
    broken = hkex_order_rule_breach(intent, sec.board_lot, ctx.last.get(intent.symbol))
    if broken is not None:
        return RejectReason.HKEX_ORDER_RULE, broken
    if ctx.risk_state.is_locked(intent.symbol):
        return (
            RejectReason.SYMBOL_LOCKED,
            f"{intent.symbol} is locked: {ctx.risk_state.locks[intent.symbol]}; "
            f"`catalyst risk unlock {intent.symbol} --reason TEXT` after checking it",
        )
    if intent.symbol in busy:
        what = "a position" if ctx.positions.get(intent.symbol) else "an open entry or an approved intent"
        return RejectReason.DUPLICATE_SYMBOL, f"already {what} in {intent.symbol}; one per symbol"
    if intent.side is Side.SELL:
        if not limits.allow_shorts:
            return (
                RejectReason.SHORTS_DISABLED,
                f"short entry in {intent.symbol} refused: shorts are disabled (risk.allow_shorts)",
            )
        if not sec.shortsell_eligible:
            return (
                RejectReason.NOT_SHORTABLE,
                f"{intent.symbol} is not a designated security for short selling",
            )
    if len(busy) >= limits.max_positions:
        return (
            RejectReason.MAX_POSITIONS,
            f"{len(busy)} positions and open entries already; the limit is {limits.max_positions}",
        )
    notional = intent.entry * intent.quantity
    if limits.max_notional_per_position is not None and notional > limits.max_notional_per_position:
        return (
            RejectReason.MAX_NOTIONAL,
            f"notional {notional:,.2f} HKD exceeds the per-position limit "
            f"{limits.max_notional_per_position:,.2f} HKD",
        )
    risk = risk_of(intent)
    allowed = (limits.max_risk_fraction * ctx.account.equity).quantize(Decimal("0.01"))
    if risk > allowed:
        return (
            RejectReason.RISK_PER_TRADE,
            f"risk {risk:,.2f} HKD (stop distance {abs(intent.entry - intent.stop)} x {intent.quantity} "
            f"+ round-trip fees) exceeds {limits.max_risk_fraction:.2%} of equity = {allowed:,.2f} HKD",
        )
    cost = _cost(intent)
    if cost > buying_power:
        return (
            RejectReason.BUYING_POWER,
            f"needs {cost:,.2f} HKD with fees; {buying_power:,.2f} HKD of buying power left",
        )
    return None


def open_entry_symbols(open_orders: pd.DataFrame) -> frozenset[str]:
    """Symbols with a working entry order, from the broker's open orders (column ``order_ref``).

    An entry is a parent leg (order reference ending in ``:P``); protective children don't count.
    """
    if open_orders is None or open_orders.empty or "order_ref" not in open_orders:
        return frozenset()
    refs = open_orders["order_ref"].fillna("").astype(str)
    return frozenset(open_orders.loc[refs.str.endswith(":P"), "symbol"].astype(str))


def positions_by_symbol(positions: pd.DataFrame) -> dict[str, int]:
    """Signed quantity per symbol from the broker's positions (columns ``symbol``, ``quantity``,
    optionally ``account``); a row repeated for the same account and symbol counts once."""
    if positions is None or positions.empty:
        return {}
    keys = [c for c in ("account", "symbol") if c in positions.columns]
    # one state per contract: a position reported twice is counted once (see reconcile)
    unique = positions.drop_duplicates(keys, keep="last")
    qty = unique.groupby(unique["symbol"].astype(str))["quantity"].sum()
    return {str(s): int(q) for s, q in qty.items() if int(q) != 0}


def rejections_for_ledger(
    rejections: Sequence[Rejection], *, run_id: str, account: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``intents`` rows (status rejected) and ``risk_events`` rows to record (pure)."""
    from catalyst.ledger import new_id

    intent_rows, event_rows = [], []
    for r in rejections:
        i = r.intent
        ts = i.created_at or datetime.now(HK_TZ)
        intent_rows.append(
            i.ledger_row(
                "rejected",
                run_id=run_id,
                account=account,
                detail={"code": r.code.value, "text": r.text},
                at=ts,
            )
        )
        event_rows.append(
            {
                "event_id": new_id(),
                "ts": ts,
                "run_id": run_id or None,
                "account": account or None,
                "kind": "pretrade_rejected",
                "severity": "info",
                "symbol": i.symbol,
                "message": r.text,
                "detail": _json({"code": r.code.value, "intent_id": i.intent_id}),
            }
        )
    return intent_rows, event_rows


def _json(obj: Mapping[str, Any]) -> str:
    import json

    return json.dumps(dict(obj), default=str)


def record_rejections(ledger: Any, result: PreTradeResult, *, run_id: str, account: str) -> int:
    """I/O edge: write every rejection to the ledger (intent rejected + a risk event)."""
    intent_rows, event_rows = rejections_for_ledger(result.rejections, run_id=run_id, account=account)
    for row in intent_rows:
        ledger.upsert("intents", row)
    if event_rows:
        ledger.append("risk_events", event_rows)
    return len(event_rows)
