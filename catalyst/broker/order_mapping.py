"""Explicit tables between Catalyst's values and the words IB uses (rule 2), and the conversion of
prices and quantities to what the socket carries (rule 3).

Nothing here guesses: a value that is not in a table raises before anything is sent, and every
mapping logs its input and its output. Prices become ``float`` here and nowhere else, from a
Decimal that is already on the HKEX ladder; quantities must be whole board lots.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import structlog

from catalyst.broker.errors import NotWholeLotsError, PriceNotOnLadderError, UnknownBrokerValueError
from catalyst.domain.order_type import OrderType, UnknownOrderTypeError
from catalyst.domain.side import Side, UnknownSideError
from catalyst.market import is_on_tick, security

log = structlog.get_logger(__name__)

#: Side -> IB order action. A long entry is BUY, a short entry is SELL; nothing else exists.
SIDE_TO_IB_ACTION: Mapping[Side, str] = MappingProxyType({Side.BUY: "BUY", Side.SELL: "SELL"})

#: IB order action (openOrder, completedOrder) -> Side.
IB_ACTION_TO_SIDE: Mapping[str, Side] = MappingProxyType({"BUY": Side.BUY, "SELL": Side.SELL})

#: IB execution side (execDetails) -> Side.
IB_EXEC_SIDE_TO_SIDE: Mapping[str, Side] = MappingProxyType({"BOT": Side.BUY, "SLD": Side.SELL})

#: OrderType -> IB orderType text.
ORDER_TYPE_TO_IB: Mapping[OrderType, str] = MappingProxyType(
    {
        OrderType.LIMIT: "LMT",
        OrderType.MARKET: "MKT",
        OrderType.STOP: "STP",
        OrderType.STOP_LIMIT: "STP LMT",
    }
)

#: IB orderType text -> OrderType.
IB_TO_ORDER_TYPE: Mapping[str, OrderType] = MappingProxyType({v: k for k, v in ORDER_TYPE_TO_IB.items()})


def ib_action(side: Any) -> str:
    """The IB action for a :class:`Side`. Strings are refused: parse them with ``Side.parse`` first."""
    if not isinstance(side, Side) or side not in SIDE_TO_IB_ACTION:
        log.error("broker.map.side.rejected", input=repr(side), table=sorted(SIDE_TO_IB_ACTION))
        raise UnknownSideError(
            f"side must be a catalyst Side ({', '.join(s.name for s in Side)}), got {side!r}; "
            "nothing was sent"
        )
    action = SIDE_TO_IB_ACTION[side]
    log.info("broker.map.side", input=side.name, output=action)
    return action


def ib_order_type(order_type: Any) -> str:
    """The IB orderType text for an :class:`OrderType`."""
    if not isinstance(order_type, OrderType) or order_type not in ORDER_TYPE_TO_IB:
        log.error("broker.map.order_type.rejected", input=repr(order_type))
        raise UnknownOrderTypeError(
            f"order type must be a catalyst OrderType, got {order_type!r}; nothing was sent"
        )
    text = ORDER_TYPE_TO_IB[order_type]
    log.info("broker.map.order_type", input=order_type.name, output=text)
    return text


def side_from_ib_action(action: str) -> Side:
    """The Side of an order the broker reports (``BUY``/``SELL``)."""
    side = IB_ACTION_TO_SIDE.get(action)
    if side is None:
        log.error("broker.map.ib_action.rejected", input=action)
        raise UnknownBrokerValueError(f"the broker reported order action {action!r}, not BUY or SELL")
    log.debug("broker.map.ib_action", input=action, output=side.value)
    return side


def side_from_exec_side(exec_side: str) -> Side:
    """The Side of an execution the broker reports (``BOT``/``SLD``)."""
    side = IB_EXEC_SIDE_TO_SIDE.get(exec_side)
    if side is None:
        log.error("broker.map.exec_side.rejected", input=exec_side)
        raise UnknownBrokerValueError(f"the broker reported execution side {exec_side!r}, not BOT or SLD")
    log.debug("broker.map.exec_side", input=exec_side, output=side.value)
    return side


def order_type_from_ib(text: str) -> OrderType:
    """The OrderType of an order the broker reports."""
    out = IB_TO_ORDER_TYPE.get(text)
    if out is None:
        log.error("broker.map.ib_order_type.rejected", input=text)
        raise UnknownBrokerValueError(f"the broker reported order type {text!r}, not one Catalyst uses")
    return out


def price_to_wire(price: Any, *, symbol: str, role: str, on: date | None = None) -> float:
    """A snapped Decimal price as the float ib_async sends; off-ladder prices raise first.

    ``float(Decimal("9.05"))`` is the double nearest 9.05, which ib_async writes with ``str()`` as
    ``9.05``: the wire text equals the Decimal text. Building floats any other way (arithmetic on
    floats) is how the predecessor sent 9.050000190734863.
    """
    if not isinstance(price, Decimal) or not price.is_finite() or price <= 0:
        log.error("broker.map.price.rejected", symbol=symbol, role=role, input=repr(price))
        raise PriceNotOnLadderError(
            f"{role} price for {symbol} must be a positive Decimal on the HKEX ladder, got {price!r}; "
            "nothing was sent"
        )
    table = security(symbol).spread_table
    if not is_on_tick(price, on=on, table=table):
        log.error("broker.map.price.off_ladder", symbol=symbol, role=role, input=str(price), table=table)
        raise PriceNotOnLadderError(
            f"{role} price {price} for {symbol} is not on the HKEX spread table {table}; snap it with "
            "catalyst.market.snap_to_tick before submitting. Nothing was sent"
        )
    wire = float(price)
    if Decimal(str(wire)) != price:
        raise PriceNotOnLadderError(f"{role} price {price} for {symbol} does not survive float conversion")
    log.info("broker.map.price", symbol=symbol, role=role, input=str(price), output=wire)
    return wire


def quantity_to_wire(quantity: Any, *, symbol: str, board_lot: int) -> Decimal:
    """A share count as the totalQuantity ib_async sends; anything but whole board lots raises."""
    if (
        isinstance(quantity, bool)
        or not isinstance(quantity, int)
        or quantity <= 0
        or board_lot <= 0
        or quantity % board_lot != 0
    ):
        log.error("broker.map.quantity.rejected", symbol=symbol, input=repr(quantity), board_lot=board_lot)
        raise NotWholeLotsError(
            f"quantity {quantity!r} of {symbol} is not a positive whole number of board lots "
            f"({board_lot} shares each); nothing was sent"
        )
    log.info(
        "broker.map.quantity", symbol=symbol, input=quantity, output=quantity, lots=quantity // board_lot
    )
    return Decimal(quantity)


def decimal_from_wire(value: float | Decimal | None) -> Decimal | None:
    """A price the broker reported, as Decimal; IB's unset sentinel and empty values become None."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if value != value or abs(value) >= 1e300:  # NaN or IB's UNSET_DOUBLE (1.7976931348623157e308)
        return None
    return Decimal(repr(float(value)))
