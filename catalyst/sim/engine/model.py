"""The boundary between the simulator's exchange engine and its TWS protocol server.

The engine (``catalyst.sim.engine.exchange`` and friends) is pure Python with no sockets: it takes
:class:`OrderRequest` values and clock ticks and returns :class:`SimEvent` values. The protocol
server (``catalyst.sim.gateway.server`` and friends) decodes client frames into calls on the engine and
encodes the events it returns into TWS messages for the clients that should see them.

Everything here is plain data. Prices are ``Decimal`` (converted to text only by the encoder).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

# --- order life cycle -------------------------------------------------------------------------

#: IB order statuses the engine reports (what a real gateway sends in orderStatus / openOrder).
PRE_SUBMITTED = "PreSubmitted"
SUBMITTED = "Submitted"
PENDING_CANCEL = "PendingCancel"
CANCELLED = "Cancelled"
FILLED = "Filled"
INACTIVE = "Inactive"
TERMINAL_STATUSES = frozenset({CANCELLED, FILLED, INACTIVE})


@dataclass(frozen=True)
class OrderRequest:
    """A placeOrder as the client sent it (decoded by the server, validated by the engine)."""

    client_id: int
    order_id: int
    con_id: int
    symbol: str
    exchange: str
    currency: str
    action: str  # as sent: "BUY" / "SELL" (anything else is rejected by the engine)
    total_quantity: Decimal  # as sent; the engine checks it is a whole number
    order_type: str  # "LMT" | "MKT" | "STP" | "STP LMT" (others rejected)
    lmt_price: Decimal | None
    aux_price: Decimal | None
    tif: str  # "" (account default = DAY) | "DAY" | "GTC"
    oca_group: str
    oca_type: int
    account: str  # "" = the only/first managed account of the client
    order_ref: str
    transmit: bool
    parent_id: int  # the parent's orderId in this client's id space, 0 = none
    outside_rth: bool = False


@dataclass
class SimOrder:
    """An order the engine holds. ``perm_id`` is unique for the life of the gateway state."""

    perm_id: int
    client_id: int
    order_id: int
    account: str
    con_id: int
    symbol: str
    action: str  # "BUY" / "SELL"
    total_quantity: int
    order_type: str
    lmt_price: Decimal | None
    aux_price: Decimal | None
    tif: str  # "DAY" / "GTC" (never empty once accepted)
    oca_group: str
    oca_type: int
    order_ref: str
    parent_id: int  # parent's orderId (client id space), 0 = none
    parent_perm_id: int  # parent's permId, 0 = none
    transmit: bool
    outside_rth: bool
    status: str
    filled: int = 0
    avg_fill_price: Decimal = Decimal(0)
    last_fill_price: Decimal = Decimal(0)
    why_held: str = ""  # "child", "child,trigger", "trigger" or ""
    triggered: bool = False  # stop orders: has the trigger fired
    submitted_at: datetime | None = None
    completed_at: datetime | None = None
    completed_status: str = ""  # text for completedOrder, e.g. "Filled Size: 100" / "Cancelled by Trader"

    @property
    def remaining(self) -> int:
        return self.total_quantity - self.filled

    @property
    def is_done(self) -> bool:
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True)
class SimExecution:
    """One fill. ``commission`` is everything charged for it (IB commission + HK fees), HKD."""

    exec_id: str
    perm_id: int
    order_id: int
    client_id: int
    account: str
    con_id: int
    symbol: str
    side: str  # "BOT" / "SLD"
    shares: int
    price: Decimal
    time: datetime
    cum_qty: int
    avg_price: Decimal
    order_ref: str
    liquidity: int  # 1 added, 2 removed
    commission: Decimal
    realized_pnl: Decimal | None  # None until a position is reduced (sent as IB's unset double)


@dataclass(frozen=True)
class Position:
    account: str
    con_id: int
    symbol: str
    quantity: int  # signed
    avg_cost: Decimal  # per share, fees included as IB does


@dataclass(frozen=True)
class Quote:
    symbol: str
    con_id: int
    bid: Decimal
    ask: Decimal
    last: Decimal
    bid_size: int
    ask_size: int
    last_size: int
    volume: int  # day volume in shares
    open: Decimal
    high: Decimal
    low: Decimal
    prev_close: Decimal
    time: datetime


@dataclass(frozen=True)
class Bar:
    time: datetime  # bar start, tz-aware (Asia/Hong_Kong)
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
    wap: Decimal
    count: int


@dataclass(frozen=True)
class PortfolioItem:
    """One line of updatePortfolio: a position valued at the current last price (HKD)."""

    account: str
    con_id: int
    symbol: str
    position: int  # signed
    market_price: Decimal
    market_value: Decimal
    average_cost: Decimal
    unrealized_pnl: Decimal
    realized_pnl: Decimal


@dataclass(frozen=True)
class SimContract:
    """What contractDetails says about one SEHK security (added by the engine engineer)."""

    con_id: int
    symbol: str
    long_name: str  # ends with " (SIM)": the data is synthetic
    min_tick: Decimal  # smallest increment of the ladder
    market_rule_id: int
    board_lot: int  # also minSize / sizeIncrement / suggestedSizeIncrement
    trading_hours: str  # IB format, ~7 days ahead: "YYYYMMDD:HHMM-YYYYMMDD:HHMM;...;YYYYMMDD:CLOSED"
    liquid_hours: str
    time_zone: str  # "Asia/Hong_Kong"
    industry: str
    category: str
    subcategory: str
    stock_type: str  # "COMMON" | "ETF"
    sec_type: str = "STK"
    exchange: str = "SEHK"
    primary_exchange: str = "SEHK"
    currency: str = "HKD"
    local_symbol: str = ""  # same as symbol
    trading_class: str = ""  # same as symbol
    valid_exchanges: str = "SEHK"
    order_types: str = (
        "ACTIVETIM,AD,ADJUST,ALERT,ALLOC,AVGCOST,BASKET,DAY,DEACT,DEACTDIS,GAT,GTC,GTD,LMT,MKT,NONALGO,OCA,"
        "STP,STP LMT,WHATIF"
    )
    market_name: str = "SEHK"


# --- events the engine returns; the server decides who sees each -------------------------------


@dataclass(frozen=True)
class OrderChanged:
    """An order was accepted, released, modified, triggered, cancelled or expired.

    Server: openOrder + orderStatus to the owning client (and to clients bound to all orders).
    """

    order: SimOrder
    warning: tuple[int, str] | None = None  # e.g. (399, "Order Message: ...") sent before it


@dataclass(frozen=True)
class Executed:
    """A fill. Server: execDetails(-1), openOrder, orderStatus, then commissionReport."""

    execution: SimExecution
    order: SimOrder


@dataclass(frozen=True)
class OrderRejected:
    """An error on an order id (110 off-tick, 201 rejected, 202 cancelled, 103 duplicate, 10147...).

    ``status_after`` set (e.g. ``Inactive`` / ``Cancelled``) means the server also sends an
    orderStatus with that status; ``order`` is the engine's record if it holds one.
    """

    client_id: int
    order_id: int
    code: int
    message: str
    order: SimOrder | None = None
    status_after: str | None = None


@dataclass(frozen=True)
class PositionChanged:
    """Server: position (61) to reqPositions subscribers, updatePortfolio + account values."""

    position: Position


@dataclass(frozen=True)
class AccountChanged:
    """Cash, buying power, P&L of an account changed. Server: account values to subscribers."""

    account: str


@dataclass(frozen=True)
class QuoteChanged:
    """Server: tick messages to clients streaming this symbol."""

    quote: Quote


@dataclass(frozen=True)
class FaultFired:
    """A fault did something; the server logs it (and acts on it for connection faults)."""

    name: str
    detail: dict[str, object] = field(default_factory=dict)


SimEvent = (
    OrderChanged | Executed | OrderRejected | PositionChanged | AccountChanged | QuoteChanged | FaultFired
)
