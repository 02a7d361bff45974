"""Cancels and amendments, with HKEX's no-cancel and no-amendment windows.

One job of :class:`catalyst.sim.engine.exchange.Exchange`, which inherits it; the behaviour is
described in that module's docstring.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from catalyst.market import may_amend, may_cancel
from catalyst.sim.engine.contracts import ListedStock
from catalyst.sim.engine.exchange_state import (
    copy_order,
)
from catalyst.sim.engine.matching import Matching
from catalyst.sim.engine.model import (
    FILLED,
    PENDING_CANCEL,
    OrderChanged,
    OrderRequest,
    SimEvent,
    SimOrder,
)
from catalyst.sim.engine.order_rules import (
    MSG_MODIFY_DONE,
    STOP_TYPES,
    TIFS,
    OrderProblem,
    amend_window_problem,
    check_order,
    price_limit_problem,
    rejected,
    whole_quantity,
)
from catalyst.sim.engine.prices import from_epoch

log = structlog.get_logger(__name__)


class OrderChanges(Matching):
    """Cancels and amendments, with HKEX's no-cancel and no-amendment windows."""

    def _request_cancel(self, o: SimOrder, t: float) -> list[SimEvent]:
        """A trader's cancel: at once, or PendingCancel until HKEX's no-cancel window opens."""
        if o.status == PENDING_CANCEL:
            return [OrderChanged(copy_order(o))]
        verdict = may_cancel(from_epoch(t))
        if verdict.allowed or not self.behaviour.cancel_window_pending:
            return self._cancel(o, t, pending=True, send_202=True, completed_status="Cancelled by Trader")
        o.status = PENDING_CANCEL
        self._dirty.add(o.perm_id)
        log.info(
            "sim.order.cancel_waits_for_window",
            perm_id=o.perm_id,
            order_id=o.order_id,
            until=verdict.opens_at.isoformat() if verdict.opens_at else "",
        )
        return [OrderChanged(copy_order(o))]

    def _carry_out_pending_cancels(self, t: float) -> list[SimEvent]:
        """Cancel every order that waited PendingCancel for a no-cancel window that is now open."""
        if not may_cancel(from_epoch(t)).allowed:
            return []
        events: list[SimEvent] = []
        waiting = [o for o in self._live() if o.status == PENDING_CANCEL]
        for o in sorted(waiting, key=lambda o: (o.parent_perm_id != 0, o.perm_id)):
            if not o.is_done:
                events += self._cancel(
                    o, t, pending=False, send_202=True, completed_status="Cancelled by Trader"
                )
        return events

    def _modify(self, o: SimOrder, req: OrderRequest, t: float) -> list[SimEvent]:
        """A placeOrder for a known order id: checked at once, applied at once or when HKEX's
        no-amendment window opens (``amend_window``)."""
        stock = self._listing_of(req)
        if stock is None or stock.con_id != o.con_id or req.action != o.action:
            return self._reject(req, 103, "Duplicate order id")
        if o.is_done or o.status == PENDING_CANCEL:
            # IB Gateway 10.40: 104 for a filled order, a cancelled one or one with a cancel pending
            return self._reject(req, 104, MSG_MODIFY_DONE)
        problem = self._modify_problem(o, req, stock, t)
        if problem is not None:
            return self._reject(req, problem.code, problem.message)
        verdict = may_amend(from_epoch(t))
        if not verdict.allowed:
            return self._amend_in_window(o, req, t, verdict.reason, verdict.opens_at)
        self._ext[o.perm_id].held_amend = None  # a newer amendment replaces one still held
        return self._apply_modify(o, req, stock, t)

    def _modify_problem(
        self, o: SimOrder, req: OrderRequest, stock: ListedStock, t: float
    ) -> OrderProblem | None:
        problem = check_order(
            req,
            stock,
            from_epoch(t).date(),
            self.accounts,
            unknown_type_code=self.behaviour.reject_unknown_order_type_code,
        )
        if problem is None:
            problem = price_limit_problem(req, self.prices.last_price(stock.symbol, t))
        if problem is None and self._ext[o.perm_id].working:
            problem = self._quotation_breach(req, t, symbol=stock.symbol)
        qty = whole_quantity(req.total_quantity)
        if problem is None and qty is not None and qty < o.filled:
            below = f"Quantity {qty} is below the {o.filled} shares already filled"
            problem = OrderProblem(201, rejected(below))
        return problem

    def _amend_in_window(
        self, o: SimOrder, req: OrderRequest, t: float, reason: str, opens_at: datetime | None
    ) -> list[SimEvent]:
        """An amendment inside a no-amendment window: refused (201) or held until the window opens,
        the order working meanwhile on its old terms (``SimBehaviour.amend_window``)."""
        if self.behaviour.amend_window == "reject":
            problem = amend_window_problem(reason)
            return self._reject(req, problem.code, problem.message)
        self._ext[o.perm_id].held_amend = req
        self._dirty.add(o.perm_id)
        log.info(
            "sim.order.amend_waits_for_window",
            perm_id=o.perm_id,
            order_id=o.order_id,
            until=opens_at.isoformat() if opens_at else "",
            lmt=str(req.lmt_price),
            aux=str(req.aux_price),
        )
        return [OrderChanged(copy_order(o))]

    def _carry_out_held_amends(self, t: float) -> list[SimEvent]:
        """Apply every amendment that waited for a no-amendment window now open (checked again:
        the market may have moved; a refusal is answered as at once, the order keeps its terms)."""
        if not may_amend(from_epoch(t)).allowed:
            return []
        events: list[SimEvent] = []
        for o in self._live():
            ext = self._ext[o.perm_id]
            req = ext.held_amend
            if req is None:
                continue
            ext.held_amend = None
            self._dirty.add(o.perm_id)
            stock = self._listing_of(req)
            if o.is_done or o.status == PENDING_CANCEL or stock is None:
                continue
            problem = self._modify_problem(o, req, stock, t)
            if problem is not None:
                events += self._reject(req, problem.code, problem.message)
                continue
            log.info("sim.order.held_amend_applied", perm_id=o.perm_id, order_id=o.order_id)
            events += self._apply_modify(o, req, stock, t)
        return events

    def _apply_modify(self, o: SimOrder, req: OrderRequest, stock: ListedStock, t: float) -> list[SimEvent]:
        qty = whole_quantity(req.total_quantity)
        assert qty is not None
        o.total_quantity = qty
        o.order_type = req.order_type
        o.lmt_price = req.lmt_price if req.order_type in ("LMT", "STP LMT") else None
        o.aux_price = req.aux_price if req.order_type in STOP_TYPES else None
        o.tif = TIFS[req.tif]
        o.order_ref = req.order_ref
        o.outside_rth = req.outside_rth
        if req.oca_group:
            o.oca_group = req.oca_group
        self._ext[o.perm_id].odd_lot = qty < stock.board_lot
        self._dirty.add(o.perm_id)
        log.info("sim.order.modified", perm_id=o.perm_id, qty=qty, lmt=str(o.lmt_price), aux=str(o.aux_price))
        if o.remaining == 0:
            o.status = FILLED
            o.completed_at = from_epoch(t)
            o.completed_status = f"Filled Size: {o.filled}"
            return [OrderChanged(copy_order(o))]
        ext = self._ext[o.perm_id]
        if (ext.working or o.why_held == "trigger") and self._continuous(t):
            if o.order_type in STOP_TYPES and not o.triggered:
                ext.working = False
                return self._start_working(o, t)
            ext.limit = o.lmt_price if o.lmt_price is not None else ext.limit
            return [OrderChanged(copy_order(o)), *self._sweep(o, t)]
        return [OrderChanged(copy_order(o))]
