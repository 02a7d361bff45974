"""Checks a new or modified order must pass, each failing with the code and text IB uses on SEHK.

The codes are those of ``tws-protocol.md`` §5.4/§6; where IB's exact code is unknown the choice
is listed here (and in ``sim_behaviour``):

==========================================  =====  =============================================
problem                                     code   note
==========================================  =====  =============================================
price off the dated spread table            110    no order is created
action other than BUY/SELL                  201
order type other than LMT/MKT/STP/STP LMT   387    ``SimBehaviour.reject_unknown_order_type_code``
TIF other than DAY/GTC/AUC ("" = DAY)       201
quantity not a whole number, or <= 0        201
special lot (over one lot, not a multiple)  201    IB: rejected; HKEX odd-lot book takes only < 1 lot
more than 3,000 board lots                  201    ``catalyst.market.MAX_LOTS_PER_ORDER``
limit at 9x the nominal price or more, or   201    checked by ``price_limit_problem`` with the
at one-ninth of it or less                         last price as the nominal
LMT 24 spreads or more beyond the best      201    ``quotation_problem``, when the order reaches
price on its side (quotation rule)                 the exchange in continuous trading; or held
                                                   (``SimBehaviour.quotation_rule_breach``)
account not managed by this gateway         201
missing or non-positive limit/stop price    201
unknown symbol/conId                        200    "No security definition has been found ..."
child whose parent id is unknown (or no     135    "Can't find order with id = N" (N: the
longer active)                                     parentId), no order is created
modify of a filled or cancelled order, or   104    "Cannot modify a filled order."
of one with a cancel pending
amendment inside an HKEX no-amendment       201    only with ``SimBehaviour.amend_window=
window                                             "reject"``; by default it is held
==========================================  =====  =============================================

IB's own texts, and where they come from:

* **135** (a child whose parent is unknown): a real IB log quoted in erdewit/ib_insync#647,
  "Error 135, reqId 22: Can't find order with id = 20" (the child's order id as reqId, the parent's
  id in the text); IB Gateway 10.40's order checks raise 135 "Can't find order with id =" for a
  "parent order id not found" (the message catalog read from the gateway in deepentropy/ibx,
  ``tests/fixtures/gw1040/catalog/order_local_rules.csv``). IB creates no order: no openOrder.
* **104**: the same catalog: "Cannot modify a filled order." (the text the gateway was captured
  sending; its message table says "Can't modify a filled order"), raised for a modification of an
  order that is filled, cancelled or has a cancel pending.
* **399**: the Gateway 10.40 trace ``scenarios/20260926/modify_cancelled`` of the same repository:
  "Order Message:\nBUY 1 AAPL NASDAQ.NMS\nWarning: your order will not be placed at the exchange
  until 2026-09-28 09:30:00 US/Eastern" (lines joined by newlines, the time as
  ``YYYY-MM-DD HH:MM:SS`` and the exchange's time zone, no final period). The contract line is
  ``<primary exchange>.<trading class>``; for SEHK that gives ``SEHK.700`` (IB's trading class of an
  HKEX stock is its code) [U].

Odd lots (fewer shares than one board lot) are accepted: they go to the odd-lot book, which in
the simulator never fills unless ``odd_lot_fill_probability`` says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from catalyst.market import (
    MAX_LOTS_PER_ORDER,
    QUOTATION_SPREADS,
    is_on_tick,
    quotation_limit,
    within_price_limits,
    within_quotation_rule,
)
from catalyst.sim.engine.contracts import ListedStock
from catalyst.sim.engine.model import OrderRequest

ACTIONS = ("BUY", "SELL")
ORDER_TYPES = ("LMT", "MKT", "STP", "STP LMT")
STOP_TYPES = ("STP", "STP LMT")
LIMIT_TYPES = ("LMT", "STP LMT")
TIFS = {"": "DAY", "DAY": "DAY", "GTC": "GTC", "AUC": "AUC"}
#: IB's time in force of an auction order: LMT + AUC is an at-auction limit, MKT + AUC an at-auction
AUCTION_TIF = "AUC"
AUCTION_TYPES = ("LMT", "MKT")

MSG_OFF_TICK = "The price does not conform to the minimum price variation for this contract."
MSG_NO_SECURITY = "No security definition has been found for the request"
MSG_UNSUPPORTED_TYPE = "Unsupported order type for this exchange and security type."
MSG_MODIFY_DONE = "Cannot modify a filled order."
#: a 399's time, as IB writes it ("2026-09-28 09:30:00 US/Eastern")
WARNING_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
HK_ZONE_NAME = "Asia/Hong_Kong"


def rejected(reason: str) -> str:
    """IB's 201 text."""
    return f"Order rejected - reason:{reason}"


@dataclass(frozen=True)
class OrderProblem:
    code: int
    message: str


def whole_quantity(q: Decimal) -> int | None:
    """The quantity as an int if it is a positive whole number, else None."""
    if not q.is_finite() or q <= 0 or q != q.to_integral_value():
        return None
    return int(q)


def check_order(
    req: OrderRequest,
    stock: ListedStock,
    day: date,
    managed: tuple[str, ...],
    *,
    unknown_type_code: int,
) -> OrderProblem | None:
    """The first problem with ``req`` (as a new order or a modification), or None."""
    if req.action not in ACTIONS:
        return OrderProblem(201, rejected(f"Invalid action '{req.action}'; use BUY or SELL"))
    if req.order_type not in ORDER_TYPES:
        return OrderProblem(unknown_type_code, MSG_UNSUPPORTED_TYPE)
    if req.tif not in TIFS:
        return OrderProblem(
            201, rejected(f"Time in force '{req.tif}' is not supported on SEHK; use DAY, GTC or AUC")
        )
    account = req.account or managed[0]
    if account not in managed:
        return OrderProblem(201, rejected(f"The account {account} is not managed by this login"))
    qty = whole_quantity(req.total_quantity)
    if qty is None:
        return OrderProblem(
            201, rejected(f"Order quantity {req.total_quantity} must be a positive whole number of shares")
        )
    lot = stock.board_lot
    if qty > lot and qty % lot:
        return OrderProblem(
            201,
            rejected(
                f"An odd-lot order larger than one board lot is not accepted for {stock.symbol} "
                f"(board lot {lot}); use a multiple of {lot}"
            ),
        )
    if qty > MAX_LOTS_PER_ORDER * lot:
        return OrderProblem(
            201,
            rejected(
                f"Order size {qty} exceeds the maximum of {MAX_LOTS_PER_ORDER} board lots "
                f"({MAX_LOTS_PER_ORDER * lot} shares)"
            ),
        )
    prices: list[Decimal | None] = []
    if req.order_type in LIMIT_TYPES:
        prices.append(req.lmt_price)
    if req.order_type in STOP_TYPES:
        prices.append(req.aux_price)
    for p in prices:
        if p is None or not p.is_finite() or p <= 0:
            return OrderProblem(201, rejected(f"A {req.order_type} order needs a positive price, got {p}"))
        if not is_on_tick(p, on=day, table=stock.spread_table):
            return OrderProblem(110, MSG_OFF_TICK)
    return None


def price_limit_problem(req: OrderRequest, nominal: Decimal) -> OrderProblem | None:
    """A limit price at 9x the nominal price or more, or at one-ninth of it or less (HKEX rejects it)."""
    if req.order_type not in LIMIT_TYPES or req.lmt_price is None:
        return None
    if within_price_limits(req.lmt_price, nominal):
        return None
    return OrderProblem(
        201,
        rejected(
            f"The limit price {req.lmt_price} is at or beyond 9 times or one-ninth of the nominal price "
            f"{nominal} (HKEX price limits)"
        ),
    )


def quotation_problem(
    action: str, price: Decimal, bid: Decimal, ask: Decimal, *, day: date, table: str
) -> OrderProblem | None:
    """A limit 24 spreads or more beyond the best price on its side (HKEX's quotation rule), or None."""
    if within_quotation_rule(action, price, best_bid=bid, best_ask=ask, on=day, table=table):
        return None
    farthest = quotation_limit(action, best_bid=bid, best_ask=ask, on=day, table=table)
    best = f"best ask {ask}" if action == "SELL" else f"best bid {bid}"
    return OrderProblem(
        201,
        rejected(
            f"The price {price} is {QUOTATION_SPREADS} spreads or more away from the {best} "
            f"(HKEX quotation rule); the farthest accepted price is {farthest}"
        ),
    )


def parent_not_found(parent_id: int) -> OrderProblem:
    """IB's answer to a child whose parentId names no active order (135; no order is created)."""
    return OrderProblem(135, f"Can't find order with id = {parent_id}")


def amend_window_problem(reason: str) -> OrderProblem:
    """An amendment refused inside an HKEX no-amendment window (``amend_window="reject"``)."""
    return OrderProblem(201, rejected(reason))


def outside_hours_message(action: str, quantity: int, symbol: str, until: datetime | None) -> str:
    """IB's 399 for an order accepted while the exchange does not trade: held until ``until``."""
    when = f"{until:{WARNING_TIME_FORMAT}} {HK_ZONE_NAME}" if until is not None else "the next session"
    return (
        f"Order Message:\n{action} {quantity} {symbol} SEHK.{symbol}\n"
        f"Warning: your order will not be placed at the exchange until {when}"
    )
