"""The clock catching up: session boundaries, the auctions' times, DAY expiry, held orders released.

One job of :class:`catalyst.sim.engine.exchange.Exchange`, which inherits it; the behaviour is
described in that module's docstring.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import structlog

from catalyst.market.calendar import TradingDay, session_for
from catalyst.market.order_rules import LUNCH_CANCELS_FROM
from catalyst.sim.engine.auction_book import (
    EXPIRING_TIFS,
    cas_close_at,
    entry_problem,
    pos_match_at,
)
from catalyst.sim.engine.contracts import ListedStock
from catalyst.sim.engine.exchange_state import (
    HELD_QUOTATION,
)
from catalyst.sim.engine.model import (
    PRE_SUBMITTED,
    OrderRequest,
    SimEvent,
    SimOrder,
)
from catalyst.sim.engine.order_changes import OrderChanges
from catalyst.sim.engine.order_rules import (
    OrderProblem,
    outside_hours_message,
    rejected,
)
from catalyst.sim.engine.prices import from_epoch

log = structlog.get_logger(__name__)


class SessionBoundaries(OrderChanges):
    """The clock catching up: session boundaries, the auctions' times, DAY expiry, held orders released."""

    def _catch_up(self) -> list[SimEvent]:
        events = self._pending
        self._pending = []
        end = self._clock.epoch()
        while True:
            nb = self._next_boundary(self._bounds_done)
            if nb is not None and nb <= end:
                events += self._scan(int(nb) - 1)
                events += self._boundary(nb)
                self._bounds_done = nb
            else:
                events += self._scan(math.floor(end))
                self._bounds_done = max(self._bounds_done, end)
                break
        self._prints_done = max(self._prints_done, end)
        events += self._release_quotation_held(end)
        return events

    def _release_quotation_held(self, t: float) -> list[SimEvent]:
        """Send each LMT held beyond the quotation rule that the market has come close enough to."""
        if self.behaviour.quotation_rule_breach != "hold" or not self._continuous(t):
            return []
        events: list[SimEvent] = []
        for o in self._live():
            held = o.why_held == HELD_QUOTATION and o.status == PRE_SUBMITTED
            if held and self._quotation_breach(o, t) is None:
                o.why_held = ""
                events += self._start_working(o, t)
        return events

    def _sessions_from(self, t: float) -> list[TradingDay]:
        day = from_epoch(t).date()
        out = []
        for i in range(12):
            td = session_for(day + timedelta(days=i))
            if td is not None:
                out.append(td)
            if len(out) >= 2:
                break
        return out

    def _next_boundary(self, after: float) -> float | None:
        for td in self._sessions_from(after):
            lunch_cancels = td.break_start + LUNCH_CANCELS_FROM if td.break_start is not None else None
            pos_match, cas_close = self._auction_times(td)
            for b in (pos_match, td.open, lunch_cancels, td.break_end, cas_close, td.auction_end):
                if b is not None and b.timestamp() > after:
                    return b.timestamp()
        return None

    def _auction_times(self, td: TradingDay) -> tuple[datetime | None, datetime | None]:
        """(POS match, CAS close) of ``td`` when the auctions match (``auction_fills``), else Nones."""
        if not self.behaviour.auction_fills:
            return None, None
        return pos_match_at(self.seed, td), cas_close_at(self.seed, td)

    def _boundary(self, t: float) -> list[SimEvent]:
        td = session_for(from_epoch(t).date())
        assert td is not None
        events: list[SimEvent] = self._carry_out_pending_cancels(t)
        events += self._carry_out_held_amends(t)
        pos_match, cas_close = self._auction_times(td)
        if pos_match is not None and t == pos_match.timestamp():
            events += self._match_auctions(td, t, closing=False)
        if cas_close is not None and t == cas_close.timestamp():
            events += self._match_auctions(td, t, closing=True)
        if t == td.auction_end.timestamp():
            events += self._expire_day_orders(t)
            return events
        if not self._continuous(t):
            return events
        for o in self._live():
            ext = self._ext[o.perm_id]
            if not ext.working and o.status == PRE_SUBMITTED and o.why_held == "":
                events += self._start_working(o, t)
        return events

    def _expire_day_orders(self, t: float) -> list[SimEvent]:
        events: list[SimEvent] = []
        when = from_epoch(t)
        expiring = [
            o
            for o in self._live()
            if o.tif in EXPIRING_TIFS and o.submitted_at is not None and o.submitted_at <= when
        ]
        expiring.sort(key=lambda o: (o.parent_perm_id != 0, o.perm_id))
        for o in expiring:
            if o.is_done:
                continue
            log.info("sim.order.expired", perm_id=o.perm_id, order_id=o.order_id, symbol=o.symbol)
            events += self._cancel(
                o,
                t,
                pending=False,
                send_202=self.behaviour.day_expiry_sends_202,
                completed_status="Cancelled: DAY order expired at the close",
            )
        return events

    def _next_open_after(self, t: float) -> datetime | None:
        for td in self._sessions_from(t):
            for b in (td.open, td.break_end):
                if b is not None and b.timestamp() > t:
                    return b
        return None

    def _outside_hours_message(self, order: SimOrder, t: float) -> str:
        until = self._next_open_after(t)
        return outside_hours_message(order.action, order.total_quantity, order.symbol, until)

    def _auction_entry(self, req: OrderRequest, stock: ListedStock, t: float) -> OrderProblem | None:
        """Why an at-auction order cannot join an auction now (201, as HKEX refuses it), or None."""
        if not self.behaviour.auction_fills:
            why: str | None = (
                "At-auction orders (TIF AUC) need the simulator's auction matching (auction_fills)"
            )
        else:
            when = from_epoch(t)
            why = entry_problem(self.prices, req, stock, when, session_for(when.date()), seed=self.seed)
        return OrderProblem(201, rejected(why)) if why else None
