"""The exchange's state and the lookups every job uses: orders and their indexes, books, listings.

One job of :class:`catalyst.sim.engine.exchange.Exchange`, which inherits it; the behaviour is
described in that module's docstring.
"""

from __future__ import annotations

from decimal import Decimal

import structlog

from catalyst.market.calendar import CONTINUOUS_PHASES, phase
from catalyst.sim.engine.accounts import AccountBook
from catalyst.sim.engine.behaviour import SimBehaviour
from catalyst.sim.engine.clock import SimClock
from catalyst.sim.engine.contracts import BY_CON_ID, LISTINGS, ListedStock
from catalyst.sim.engine.errors import UnknownAccountError
from catalyst.sim.engine.faults import FaultBoard
from catalyst.sim.engine.model import (
    CANCELLED,
    FILLED,
    PENDING_CANCEL,
    PRE_SUBMITTED,
    OrderChanged,
    OrderRejected,
    OrderRequest,
    SimEvent,
    SimExecution,
    SimOrder,
)
from catalyst.sim.engine.order_rules import (
    STOP_TYPES,
)
from catalyst.sim.engine.prices import PriceModel, from_epoch
from catalyst.sim.engine.state import OrderExt, StateStore

log = structlog.get_logger(__name__)

FIRST_PERM_ID = 1_000_001
MAX_SWEEP_LEVELS = 10
THROUGH_MULTIPLE = 3  # a print through a resting limit offers this many times the printed volume
MSG_CANCELLED = "Order Canceled - reason:"
CLOCK_SAVE_SECONDS = 5.0  # wall seconds between saves when only the clock moved
ACCOUNT_PUSH_SECONDS = 180.0  # simulated seconds between account-value refreshes while holding stock
SAVE_INTERVAL = 0.25  # wall seconds: changes are saved by the first call after this much time
HELD_QUOTATION = "quotation"  # whyHeld of a LMT held beyond the quotation rule (simulator's choice)
AUCTION_LIQUIDITY = 1  # lastLiquidity of an auction execution ("added"; what IB reports is [U])


def copy_order(o: SimOrder) -> SimOrder:
    """Events carry snapshots: the server may encode them after later changes.

    A field-for-field copy without re-running ``__init__`` (``dataclasses.replace`` costs ~10x more,
    and an order is copied into every event it appears in).
    """
    c = object.__new__(SimOrder)
    c.__dict__.update(o.__dict__)
    return c


class ExchangeState:
    """The exchange's state and the lookups every job uses: orders and their indexes, books, listings."""

    # the state, set up by Exchange.__init__ (restored from a snapshot or fresh)
    behaviour: SimBehaviour
    accounts: tuple[str, ...]
    seed: int
    prices: PriceModel
    _store: StateStore | None
    _clock: SimClock
    _faults: FaultBoard
    _books: dict[str, AccountBook]
    _orders: dict[int, SimOrder]  # every order ever held (views, persistence)
    _ext: dict[int, OrderExt]
    _by_key: dict[tuple[int, int], int]
    _live_orders: dict[int, SimOrder]  # permId -> order not yet done (pruned lazily)
    _children_of: dict[int, list[SimOrder]]  # parent permId -> its children
    _max_order_id: dict[int, int]  # clientId -> highest orderId it used
    _held: dict[tuple[int, int], OrderRequest]
    _execs: list[SimExecution]
    _pending: list[SimEvent]
    _last_quotes: dict[str, tuple[Decimal, Decimal, Decimal, int]]
    _dirty: set[int]
    _saved_execs: int
    _state_dirty: bool
    _saved_at: float
    _last_valuation: float
    _next_perm: int
    _next_exec: int
    _prints_done: float
    _bounds_done: float

    def _index(self, order: SimOrder, ext: OrderExt) -> None:
        """File an order under every index (a finished order leaves the live one in ``_live``)."""
        perm = order.perm_id
        self._orders[perm] = order
        self._ext[perm] = ext
        self._by_key[(order.client_id, order.order_id)] = perm
        if not order.is_done:
            self._live_orders[perm] = order
        if order.parent_perm_id:
            self._children_of.setdefault(order.parent_perm_id, []).append(order)
        if order.order_id > self._max_order_id.get(order.client_id, 0):
            self._max_order_id[order.client_id] = order.order_id

    def _register(self, order: SimOrder, ext: OrderExt) -> None:
        self._index(order, ext)
        self._dirty.add(order.perm_id)

    def _live(self) -> list[SimOrder]:
        """Orders not yet done, oldest first: O(live orders), never O(every order ever held).

        An order is done for good (filled, cancelled, inactive), so the index drops it here the
        first time it is seen done rather than at each of the places that finish orders.
        """
        live = self._live_orders
        finished = [perm for perm, o in live.items() if o.is_done]
        for perm in finished:
            del live[perm]
        return list(live.values())

    def _children(self, parent: SimOrder) -> list[SimOrder]:
        return list(self._children_of.get(parent.perm_id, ()))

    def _fillable(self, o: SimOrder) -> int:
        """Shares ``o`` may fill now: its remaining, capped for a child by what its parent filled."""
        room = o.remaining
        if o.parent_perm_id:
            parent = self._orders.get(o.parent_perm_id)
            if parent is not None:
                group_filled = sum(c.filled for c in self._children(parent))
                room = min(room, parent.filled - group_filled)
        return max(room, 0)

    def _continuous(self, t: float) -> bool:
        return phase(from_epoch(t)) in CONTINUOUS_PHASES

    def _listing_of(self, req: OrderRequest) -> ListedStock | None:
        if req.con_id and req.con_id in BY_CON_ID:
            stock = BY_CON_ID[req.con_id]
            return stock if not req.symbol or req.symbol == stock.symbol else None
        return LISTINGS.get(req.symbol)

    def _listing(self, symbol: str | None, con_id: int | None) -> ListedStock | None:
        if con_id:
            return BY_CON_ID.get(con_id)
        if symbol is not None:
            return LISTINGS.get(symbol.strip().lstrip("0") or symbol)
        return None

    def _reject(self, req: OrderRequest, code: int, message: str) -> list[SimEvent]:
        log.info(
            "sim.order.rejected", client_id=req.client_id, order_id=req.order_id, code=code, reason=message
        )
        return [OrderRejected(req.client_id, req.order_id, code, message)]

    def _parent_covers(self, parent: SimOrder) -> bool:
        """Whether a parent's fills let its children work (``children_size_on_partial_parent``)."""
        if self.behaviour.children_size_on_partial_parent == "full":
            return parent.status == FILLED
        return parent.filled > 0

    def _book(self, account: str) -> AccountBook:
        try:
            return self._books[account]
        except KeyError:
            raise UnknownAccountError(
                f"account {account!r} is not managed by the simulator; it manages {', '.join(self.accounts)}"
            ) from None

    def _last(self, symbol: str) -> Decimal:
        return self.prices.last_price(symbol, self._clock.epoch())

    def _price_basis(self, o: SimOrder | OrderRequest, symbol: str, t: float) -> Decimal:
        if o.lmt_price is not None and o.order_type in ("LMT", "STP LMT"):
            return o.lmt_price
        pct = Decimal(100 + self.behaviour.mkt_conversion_max_pct) / 100
        if o.order_type == "STP" and o.aux_price is not None:
            return o.aux_price * pct
        return self.prices.last_price(symbol, t) * pct

    def _reserved(self, account: str, t: float) -> Decimal:
        total = Decimal(0)
        for o in self._live():
            if o.account == account and o.action == "BUY" and not o.parent_perm_id:
                total += self._price_basis(o, o.symbol, t) * o.remaining
        return total

    def _account_rows(self, account: str, t: float) -> list[tuple[str, str, str]]:
        return self._book(account).values(
            lambda s: self.prices.last_price(s, t),
            cash_account=self.behaviour.cash_account,
            leverage=self.behaviour.margin_leverage,
            reserved=self._reserved(account, t),
        )

    def _hold_for_session(self, o: SimOrder) -> list[SimEvent]:
        """A child released outside continuous trading (its parent filled in an auction) waits like an
        order placed then: PreSubmitted until the next session (a stop watches for its trigger)."""
        o.status = PRE_SUBMITTED
        o.why_held = "trigger" if o.order_type in STOP_TYPES else ""
        self._dirty.add(o.perm_id)
        return [OrderChanged(copy_order(o))]

    def _cancel(
        self, o: SimOrder, t: float, *, pending: bool, send_202: bool, completed_status: str
    ) -> list[SimEvent]:
        events: list[SimEvent] = []
        children = [c for c in self._children(o) if not c.is_done]
        if pending:
            o.status = PENDING_CANCEL
            events.append(OrderChanged(copy_order(o)))
            events += [OrderChanged(copy_order(c)) for c in children]
        o.status = CANCELLED
        o.completed_at = from_epoch(t)
        o.completed_status = completed_status
        self._ext[o.perm_id].working = False
        self._dirty.add(o.perm_id)
        log.info("sim.order.cancelled", perm_id=o.perm_id, order_id=o.order_id, reason=completed_status)
        events.append(OrderChanged(copy_order(o)))
        if send_202:
            events.append(OrderRejected(o.client_id, o.order_id, 202, MSG_CANCELLED, copy_order(o)))
        if o.filled == 0:
            for c in children:
                events += self._cancel(
                    c, t, pending=False, send_202=True, completed_status="Cancelled: parent cancelled"
                )
        else:
            group_filled = sum(c.filled for c in self._children(o))
            for c in children:
                c.total_quantity = c.filled + max(0, o.filled - group_filled)
                self._dirty.add(c.perm_id)
                if c.remaining == 0:
                    events += self._cancel(
                        c, t, pending=False, send_202=True, completed_status="Cancelled: parent cancelled"
                    )
                else:
                    events.append(OrderChanged(copy_order(c)))
        return events
