"""New orders: transmit groups, the checks at placement, funds, the first status.

One job of :class:`catalyst.sim.engine.exchange.Exchange`, which inherits it; the behaviour is
described in that module's docstring.
"""

from __future__ import annotations

import math
from decimal import Decimal

import structlog

from catalyst.sim.engine.contracts import ListedStock
from catalyst.sim.engine.exchange_state import (
    copy_order,
)
from catalyst.sim.engine.model import (
    CANCELLED,
    INACTIVE,
    PENDING_CANCEL,
    PRE_SUBMITTED,
    SUBMITTED,
    FaultFired,
    OrderChanged,
    OrderRejected,
    OrderRequest,
    SimEvent,
    SimOrder,
)
from catalyst.sim.engine.order_rules import (
    AUCTION_TIF,
    MSG_NO_SECURITY,
    STOP_TYPES,
    TIFS,
    check_order,
    parent_not_found,
    price_limit_problem,
    rejected,
    whole_quantity,
)
from catalyst.sim.engine.prices import from_epoch
from catalyst.sim.engine.session_boundaries import SessionBoundaries
from catalyst.sim.engine.state import OrderExt

log = structlog.get_logger(__name__)


class OrderAcceptance(SessionBoundaries):
    """New orders: transmit groups, the checks at placement, funds, the first status."""

    def _release_group(self, req: OrderRequest, t: float) -> list[SimEvent]:
        root = req.parent_id or req.order_id
        group: list[OrderRequest] = []
        root_key = (req.client_id, root)
        if root != req.order_id and root_key in self._held:
            group.append(self._held.pop(root_key))
        for key, held in list(self._held.items()):
            if key[0] == req.client_id and held.parent_id == root and held.order_id != req.order_id:
                group.append(self._held.pop(key))
        self._held.pop((req.client_id, req.order_id), None)
        group.append(req)
        self._state_dirty = True
        events: list[SimEvent] = []
        for r in group:
            events += self._accept(r, t)
        return events

    def _accept(self, req: OrderRequest, t: float) -> list[SimEvent]:
        stock = self._listing_of(req)
        if stock is None:
            return self._reject(req, 200, MSG_NO_SECURITY)
        day = from_epoch(t).date()
        problem = check_order(
            req, stock, day, self.accounts, unknown_type_code=self.behaviour.reject_unknown_order_type_code
        )
        if problem is None:
            problem = price_limit_problem(req, self.prices.last_price(stock.symbol, t))
        if problem is None and req.tif == AUCTION_TIF:
            problem = self._auction_entry(req, stock, t)
        if problem is not None:
            return self._reject(req, problem.code, problem.message)
        parent: SimOrder | None = None
        if req.parent_id:
            found = self._parent_of(req)
            if not isinstance(found, SimOrder):
                return found
            parent = found
        qty = whole_quantity(req.total_quantity)
        assert qty is not None
        order = self._new_order(req, stock, qty, parent, t)
        if parent is None:
            refusal = self._funds_problem(order, stock, t)
            if refusal:
                return self._reject(req, 201, rejected(refusal))
        self._next_perm += 1
        ext = OrderExt(watch_from=math.floor(t) + 1, odd_lot=qty < stock.board_lot)
        self._register(order, ext)
        if parent is not None and self._faults.is_on("reject-children"):
            return self._reject_child(order, t)
        log.info(
            "sim.order.accepted",
            perm_id=order.perm_id,
            client_id=order.client_id,
            order_id=order.order_id,
            symbol=order.symbol,
            action=order.action,
            qty=qty,
            order_type=order.order_type,
            lmt=str(order.lmt_price),
            aux=str(order.aux_price),
            parent_perm_id=order.parent_perm_id,
            order_ref=order.order_ref,
        )
        return self._first_status(order, parent, t)

    def _parent_of(self, req: OrderRequest) -> SimOrder | list[SimEvent]:
        """The working parent of a child order, or the events refusing the child."""
        perm = self._by_key.get((req.client_id, req.parent_id))
        parent = self._orders.get(perm) if perm is not None else None
        if parent is None or parent.status in (CANCELLED, INACTIVE, PENDING_CANCEL):
            problem = parent_not_found(req.parent_id)
            return self._reject(req, problem.code, problem.message)
        if self._faults.is_on("drop-children"):
            log.warning(
                "sim.fault.drop_children",
                client_id=req.client_id,
                order_id=req.order_id,
                parent_id=req.parent_id,
            )
            return [
                FaultFired(
                    "drop-children",
                    {"client_id": req.client_id, "order_id": req.order_id, "parent_id": req.parent_id},
                )
            ]
        return parent

    def _new_order(
        self, req: OrderRequest, stock: ListedStock, qty: int, parent: SimOrder | None, t: float
    ) -> SimOrder:
        """The order as the engine holds it, with the next permId (not yet taken)."""
        account = req.account or self.accounts[0]
        return SimOrder(
            perm_id=self._next_perm,
            client_id=req.client_id,
            order_id=req.order_id,
            account=account,
            con_id=stock.con_id,
            symbol=stock.symbol,
            action=req.action,
            total_quantity=qty,
            order_type=req.order_type,
            lmt_price=req.lmt_price if req.order_type in ("LMT", "STP LMT") else None,
            aux_price=req.aux_price if req.order_type in STOP_TYPES else None,
            tif=TIFS[req.tif],
            oca_group=req.oca_group or (str(parent.perm_id) if parent else ""),
            oca_type=req.oca_type or (3 if parent else 0),
            order_ref=req.order_ref,
            parent_id=req.parent_id,
            parent_perm_id=parent.perm_id if parent else 0,
            transmit=req.transmit,
            outside_rth=req.outside_rth,
            status=PRE_SUBMITTED,
            submitted_at=from_epoch(t),
        )

    def _reject_child(self, order: SimOrder, t: float) -> list[SimEvent]:
        """The ``reject-children`` fault: the registered child ends Inactive at once."""
        order.status = INACTIVE
        order.completed_at = from_epoch(t)
        order.completed_status = "Rejected: fault reject-children"
        log.warning("sim.fault.reject_children", perm_id=order.perm_id, order_id=order.order_id)
        message = rejected("Child order rejected by the simulated gateway (fault reject-children)")
        return [
            OrderRejected(order.client_id, order.order_id, 201, message, copy_order(order), INACTIVE),
            FaultFired("reject-children", {"client_id": order.client_id, "order_id": order.order_id}),
        ]

    def _first_status(self, order: SimOrder, parent: SimOrder | None, t: float) -> list[SimEvent]:
        """An accepted order's first status: in its auction, held as a child, working, or waiting."""
        if order.tif == AUCTION_TIF:  # in the auction's book at HKEX: no 399, it matches there
            order.status = SUBMITTED
            return [OrderChanged(copy_order(order))]
        continuous = self._continuous(t)
        warning = None
        if not continuous and self.behaviour.outside_hours_warning_399:
            warning = (399, self._outside_hours_message(order, t))
        if parent is not None and not self._parent_covers(parent):
            order.why_held = "child,trigger" if order.order_type in STOP_TYPES else "child"
            return [OrderChanged(copy_order(order), warning)]
        if continuous:
            return self._start_working(order, t, warning=warning)
        order.why_held = "trigger" if order.order_type in STOP_TYPES else ""
        return [OrderChanged(copy_order(order), warning)]

    def _funds_problem(self, order: SimOrder, stock: ListedStock, t: float) -> str | None:
        book = self._books[order.account]
        if order.action == "SELL":
            held = book.position(order.symbol)
            if self.behaviour.cash_account and order.total_quantity > held:
                return (
                    f"Short sales are not allowed in a cash account: selling {order.total_quantity} "
                    f"{order.symbol} with a position of {held}"
                )
            return None
        basis = self._price_basis(order, order.symbol, t)
        need = basis * order.total_quantity * Decimal("1.002") + Decimal(18)
        if self.behaviour.cash_account:
            available = book.cash - self._reserved(order.account, t)
        else:
            values = dict((k, v) for k, v, _c in self._account_rows(order.account, t))
            available = Decimal(values["BuyingPower"])
        if need > available:
            return (
                f"YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED POSITION YOUR AVAILABLE FUNDS "
                f"[{available.quantize(Decimal('0.01'))} HKD] MUST EXCEED THE ORDER VALUE "
                f"[{need.quantize(Decimal('0.01'))} HKD]"
            )
        return None
