"""The three legs of a bracket as plain values, before any ib_async object exists.

Choices (documented in docs/contracts.md):

* entry: LMT on the intent's side at the entry price, TIF DAY (an unfilled entry expires at the
  close, and IB cancels its children with it);
* take profit: LMT on the opposite side at the target, TIF GTC (a position stays protected
  overnight). HKEX rejects a limit 24 spreads or more beyond the best price when it is sent (at
  the entry's fill): pre-trade has already planned an approved intent's target at most 20
  spreads beyond its entry (``catalyst.risk.pretrade.target_within_quotation_rule``,
  docs/risk-operations.md), so the plan sends the intent's target as it is;
* stop loss: **STP LMT** on the opposite side, trigger at the stop, limit a few ticks beyond it
  (``stop_limit_ticks``, default 5). HKEX has no exchange stop order, so IB simulates every stop
  on SEHK; a plain STP would become a market-to-limit conversion whose price IB picks, while a STP
  LMT caps the slippage we accept. hkex-rules.md §6 recommends it. The cost: a gap through the
  limit leaves the stop unfilled, which the risk layer's protection check sees as an unprotected
  position. Set ``stop_limit_ticks=0`` to send a plain STP instead;
* children linked by ``parentId`` and by one OCA group (``<intent_id>:OCA``, type 3: a fill of
  one child reduces the other), transmit False/False/True so nothing works until all three
  arrived.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from catalyst.domain import BracketIntent, OrderType, Side, UnknownSideError
from catalyst.market import security, ticks_from

ENTRY = "entry"
TAKE_PROFIT = "take_profit"
STOP_LOSS = "stop_loss"
#: the role of a closing order that is not a bracket leg (a marketable limit, broker/exit_orders.py)
FLATTEN = "flatten"
ROLES = (ENTRY, TAKE_PROFIT, STOP_LOSS)
ROLE_CODES = {ENTRY: "P", TAKE_PROFIT: "TP", STOP_LOSS: "SL"}

#: IB ocaType 3: remaining orders are proportionately reduced in size, without block.
OCA_REDUCE_NO_BLOCK = 3


def bracket_oca_group(intent_id: str) -> str:
    """The OCA group of a bracket's stop and target (and of any exit later joined to them)."""
    return f"{intent_id}:OCA"


DEFAULT_STOP_LIMIT_TICKS = 5


@dataclass(frozen=True)
class LegPlan:
    """One leg as we intend it; the proof compares the broker's report with this."""

    role: str
    order_ref: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: int
    limit_price: Decimal | None
    stop_price: Decimal | None
    tif: str
    transmit: bool
    is_child: bool
    oca_group: str
    oca_type: int


def stop_limit_price(stop: Decimal, exit_side: Side, ticks: int, *, table: str, on: date | None) -> Decimal:
    """A stop's limit: ``ticks`` whole ticks through the stop, the way the exit trades (a SELL
    stop's limit below it, a BUY stop's above it)."""
    return ticks_from(stop, ticks, "down" if exit_side is Side.SELL else "up", table=table, on=on)


def closing_leg(
    role: str,
    order_ref: str,
    symbol: str,
    side: Side,
    quantity: int,
    *,
    limit_price: Decimal | None,
    tif: str,
    oca_group: str = "",
) -> LegPlan:
    """A limit order of its own (no parent, transmitted at once) that closes a position, in
    ``oca_group`` (ocaType 3: a fill reduces the group's other orders) when one is named."""
    return LegPlan(
        role=role,
        order_ref=order_ref,
        symbol=symbol,
        side=side,
        order_type=OrderType.LIMIT,
        quantity=quantity,
        limit_price=limit_price,
        stop_price=None,
        tif=tif,
        transmit=True,
        is_child=False,
        oca_group=oca_group,
        oca_type=OCA_REDUCE_NO_BLOCK if oca_group else 0,
    )


def plan_bracket(
    intent: BracketIntent,
    *,
    stop_limit_ticks: int = DEFAULT_STOP_LIMIT_TICKS,
    entry_tif: str = "DAY",
    exit_tif: str = "GTC",
) -> tuple[LegPlan, LegPlan, LegPlan]:
    """Entry, take profit and stop loss, in the order they must be placed."""
    if not isinstance(intent.side, Side):
        raise UnknownSideError(
            f"intent {intent.intent_id} has side {intent.side!r}, not a Side; nothing was sent"
        )
    exit_side = intent.side.opposite
    table = security(intent.symbol).spread_table
    oca = bracket_oca_group(intent.intent_id)
    if stop_limit_ticks > 0:
        stop_type = OrderType.STOP_LIMIT
        stop_limit: Decimal | None = stop_limit_price(
            intent.stop, exit_side, stop_limit_ticks, table=table, on=intent.trade_date
        )
    else:
        stop_type, stop_limit = OrderType.STOP, None
    entry = LegPlan(
        role=ENTRY,
        order_ref=intent.order_ref("P"),
        symbol=intent.symbol,
        side=intent.side,
        order_type=OrderType.LIMIT,
        quantity=intent.quantity,
        limit_price=intent.entry,
        stop_price=None,
        tif=entry_tif,
        transmit=False,
        is_child=False,
        oca_group="",
        oca_type=0,
    )
    take_profit = LegPlan(
        role=TAKE_PROFIT,
        order_ref=intent.order_ref("TP"),
        symbol=intent.symbol,
        side=exit_side,
        order_type=OrderType.LIMIT,
        quantity=intent.quantity,
        limit_price=intent.target,
        stop_price=None,
        tif=exit_tif,
        transmit=False,
        is_child=True,
        oca_group=oca,
        oca_type=OCA_REDUCE_NO_BLOCK,
    )
    stop_loss = LegPlan(
        role=STOP_LOSS,
        order_ref=intent.order_ref("SL"),
        symbol=intent.symbol,
        side=exit_side,
        order_type=stop_type,
        quantity=intent.quantity,
        limit_price=stop_limit,
        stop_price=intent.stop,
        tif=exit_tif,
        transmit=True,
        is_child=True,
        oca_group=oca,
        oca_type=OCA_REDUCE_NO_BLOCK,
    )
    return entry, take_profit, stop_loss
