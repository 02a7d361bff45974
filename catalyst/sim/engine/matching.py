"""Working orders against the market: sweeps, fills at prints, stop triggers, executions, OCA.

One job of :class:`catalyst.sim.engine.exchange.Exchange`, which inherits it; the behaviour is
described in that module's docstring.
"""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

import numpy as np
import structlog

from catalyst.market import snap_to_tick
from catalyst.market.auction import AuctionOrder, match
from catalyst.market.calendar import TradingDay
from catalyst.sim.engine.auction_book import (
    auction_limit,
    carried,
    cas_crowd_price,
    cas_reference,
    crowd_orders,
    crowd_shares,
    pos_crowd_price,
    pos_reference,
    takes_part,
    waiting_for_auction,
)
from catalyst.sim.engine.charges import execution_charges
from catalyst.sim.engine.exchange_state import (
    AUCTION_LIQUIDITY,
    HELD_QUOTATION,
    MAX_SWEEP_LEVELS,
    THROUGH_MULTIPLE,
    ExchangeState,
    copy_order,
)
from catalyst.sim.engine.model import (
    FILLED,
    INACTIVE,
    PRE_SUBMITTED,
    SUBMITTED,
    AccountChanged,
    Executed,
    FaultFired,
    OrderChanged,
    OrderRejected,
    OrderRequest,
    PositionChanged,
    SimEvent,
    SimExecution,
    SimOrder,
)
from catalyst.sim.engine.order_rules import (
    STOP_TYPES,
    OrderProblem,
    quotation_problem,
)
from catalyst.sim.engine.prices import MILLI, DayPath, from_epoch, unit_hash

log = structlog.get_logger(__name__)


class Matching(ExchangeState):
    """Working orders against the market: sweeps, resting fills at prints, stop triggers, executions,
    OCA, the auctions' matches."""

    def _start_working(
        self, o: SimOrder, t: float, *, warning: tuple[int, str] | None = None
    ) -> list[SimEvent]:
        """Send ``o`` to the (simulated) exchange at ``t``, during continuous trading."""
        ext = self._ext[o.perm_id]
        self._dirty.add(o.perm_id)
        ext.watch_from = math.floor(t) + 1
        if o.order_type in STOP_TYPES and not o.triggered:
            o.status = PRE_SUBMITTED
            o.why_held = "trigger"
            events: list[SimEvent] = [OrderChanged(copy_order(o), warning)]
            last = self.prices.last_price(o.symbol, t)
            assert o.aux_price is not None
            if (last >= o.aux_price) if o.action == "BUY" else (last <= o.aux_price):
                events += self._trigger(o, t)
            return events
        breach = self._quotation_breach(o, t)
        if breach is not None:
            return self._refuse_beyond_quotation(o, t, breach, warning)
        o.status = SUBMITTED
        o.why_held = ""
        ext.working = True
        ext.limit = o.lmt_price if o.order_type in ("LMT", "STP LMT") else self._converted_limit(o, t)
        events = [OrderChanged(copy_order(o), warning)]
        return events + self._sweep(o, t)

    def _quotation_breach(
        self, o: SimOrder | OrderRequest, t: float, *, symbol: str | None = None
    ) -> OrderProblem | None:
        """HKEX's quotation rule for a plain LMT reaching the exchange at ``t`` (continuous trading).

        ``symbol`` names the listing when ``o`` is a request (which may carry only a conId).
        """
        if o.order_type != "LMT" or o.lmt_price is None or not self._continuous(t):
            return None
        name = symbol or o.symbol
        stock = self.prices.listing(name)
        bid, ask, _path, _k = self.prices.touch(name, t)
        return quotation_problem(
            o.action, o.lmt_price, bid, ask, day=from_epoch(t).date(), table=stock.spread_table
        )

    def _refuse_beyond_quotation(
        self, o: SimOrder, t: float, breach: OrderProblem, warning: tuple[int, str] | None
    ) -> list[SimEvent]:
        """Hold ``o`` (``quotation_rule_breach="hold"``) or reject it as HKEX does: it ends Inactive."""
        self._ext[o.perm_id].working = False
        if self.behaviour.quotation_rule_breach == "hold":
            o.status = PRE_SUBMITTED
            o.why_held = HELD_QUOTATION
            log.info("sim.order.held_quotation_rule", perm_id=o.perm_id, lmt=str(o.lmt_price))
            return [OrderChanged(copy_order(o), warning)]
        o.status = INACTIVE
        o.why_held = ""
        o.completed_at = from_epoch(t)
        o.completed_status = "Rejected: HKEX quotation rule"
        log.info("sim.order.rejected_quotation_rule", perm_id=o.perm_id, lmt=str(o.lmt_price))
        events: list[SimEvent] = [
            OrderRejected(o.client_id, o.order_id, breach.code, breach.message, copy_order(o), INACTIVE)
        ]
        for c in self._children(o):
            if not c.is_done:
                events += self._cancel(
                    c, t, pending=False, send_202=True, completed_status="Cancelled: parent rejected"
                )
        return events

    def _trigger(self, o: SimOrder, t: float) -> list[SimEvent]:
        ext = self._ext[o.perm_id]
        o.triggered = True
        o.why_held = ""
        o.status = SUBMITTED
        ext.working = True
        ext.limit = o.lmt_price if o.order_type == "STP LMT" else self._converted_limit(o, t)
        self._dirty.add(o.perm_id)
        log.info(
            "sim.order.triggered",
            perm_id=o.perm_id,
            symbol=o.symbol,
            stop=str(o.aux_price),
            limit=str(ext.limit),
            at=from_epoch(t).isoformat(),
        )
        return [OrderChanged(copy_order(o)), *self._sweep(o, t)]

    def _converted_limit(self, o: SimOrder, t: float) -> Decimal:
        """IB's MKT on SEHK: a limit ``mkt_conversion_ticks`` through the touch, at most ``max_pct``% away."""
        bid, ask, _p, _k = self.prices.touch(o.symbol, t)
        day = from_epoch(t).date()
        table = self.prices.listing(o.symbol).spread_table
        pct = Decimal(self.behaviour.mkt_conversion_max_pct) / 100
        if o.action == "BUY":
            price = ask
            for _ in range(self.behaviour.mkt_conversion_ticks):
                price = self.prices.next_up(o.symbol, price, day)
            cap = snap_to_tick(ask * (1 + pct), "down", on=day, table=table)
            return max(min(price, cap), ask)
        price = bid
        for _ in range(self.behaviour.mkt_conversion_ticks):
            price = self.prices.next_down(o.symbol, price, day)
        floor = snap_to_tick(bid * (1 - pct), "up", on=day, table=table)
        return min(max(price, floor), bid)

    def _sweep(self, o: SimOrder, t: float) -> list[SimEvent]:
        """Take liquidity from the synthetic book at ``t`` up to the order's limit."""
        ext = self._ext[o.perm_id]
        if not ext.working or ext.limit is None or not self._continuous(t):
            return []
        bid, ask, path, k = self.prices.touch(o.symbol, t)
        if path is None or path.day != from_epoch(t).date():
            return []
        if (
            ext.odd_lot
            and unit_hash(self.seed, o.perm_id, math.floor(t) // 60)
            >= self.behaviour.odd_lot_fill_probability
        ):
            return []
        day = path.day
        events: list[SimEvent] = []
        price = ask if o.action == "BUY" else bid
        for level in range(MAX_SWEEP_LEVELS):
            room = self._fillable(o)
            if room <= 0 or o.is_done:
                break
            marketable = price <= ext.limit if o.action == "BUY" else price >= ext.limit
            if not marketable:
                break
            size = self.prices.level_size(o.symbol, path, k, level, ask=o.action == "BUY")
            events += self._fill(o, min(room, size), price, t, liquidity=2)
            price = (self.prices.next_up if o.action == "BUY" else self.prices.next_down)(
                o.symbol, price, day
            )
        return events

    def _fill(self, o: SimOrder, shares: int, price: Decimal, t: float, *, liquidity: int) -> list[SimEvent]:
        pieces = [shares]
        events: list[SimEvent] = []
        if self._faults.is_on("partial-fills"):
            n = max(self._faults.int_param("partial-fills", "pieces", 3), 1)
            lot = self.prices.listing(o.symbol).board_lot
            lots = shares // lot if shares >= lot else 0
            if lots >= 2:
                n = min(n, lots)
                base, extra = divmod(lots, n)
                pieces = [(base + (1 if i < extra else 0)) * lot for i in range(n)]
                pieces[-1] += shares - lots * lot
                log.info("sim.fault.partial_fills", perm_id=o.perm_id, shares=shares, pieces=pieces)
                events.append(FaultFired("partial-fills", {"perm_id": o.perm_id, "pieces": pieces}))
        for piece in pieces:
            events += self._execute(o, piece, price, t, liquidity)
        return events

    def _execute(self, o: SimOrder, shares: int, price: Decimal, t: float, liquidity: int) -> list[SimEvent]:
        ext = self._ext[o.perm_id]
        when = from_epoch(t)
        fees = execution_charges(o.symbol, shares, price, when.date(), ext.costs, self.behaviour)
        sign = 1 if o.action == "BUY" else -1
        book = self._books[o.account]
        realized = book.apply_fill(o.symbol, o.con_id, sign, shares, price, fees.total)
        prev = o.filled
        o.filled += shares
        o.avg_fill_price = ((o.avg_fill_price * prev + price * shares) / o.filled).quantize(Decimal("0.0001"))
        o.last_fill_price = price
        if o.remaining == 0:
            o.status = FILLED
            o.completed_at = when
            o.completed_status = f"Filled Size: {o.filled}"
        self._dirty.add(o.perm_id)
        execution = SimExecution(
            exec_id=f"{o.perm_id:08x}.{self._next_exec:08x}.01.01",
            perm_id=o.perm_id,
            order_id=o.order_id,
            client_id=o.client_id,
            account=o.account,
            con_id=o.con_id,
            symbol=o.symbol,
            side="BOT" if sign > 0 else "SLD",
            shares=shares,
            price=price,
            time=when,
            cum_qty=o.filled,
            avg_price=o.avg_fill_price,
            order_ref=o.order_ref,
            liquidity=liquidity,
            commission=fees.total,
            realized_pnl=realized,
        )
        self._next_exec += 1
        self._execs.append(execution)
        log.info(
            "sim.order.filled",
            perm_id=o.perm_id,
            symbol=o.symbol,
            side=execution.side,
            shares=shares,
            price=str(price),
            cum_qty=o.filled,
            fees=str(fees.total),
            exec_id=execution.exec_id,
        )
        events: list[SimEvent] = [Executed(execution, copy_order(o))]
        position = next(p for p in book.positions() if p.symbol == o.symbol)
        events += [PositionChanged(position), AccountChanged(o.account)]
        events += self._oca_after_fill(o, shares, t)
        children = [c for c in self._children(o) if not c.is_done and c.why_held.startswith("child")]
        if children and self._parent_covers(o):
            for c in children:
                c.why_held = ""
                events += self._start_working(c, t) if self._continuous(t) else self._hold_for_session(c)
        return events

    def _oca_after_fill(self, o: SimOrder, shares: int, t: float) -> list[SimEvent]:
        if not o.oca_group:
            return []
        events: list[SimEvent] = []
        for sib in self._live():
            if sib.perm_id == o.perm_id or sib.oca_group != o.oca_group or sib.account != o.account:
                continue
            if o.oca_type == 1:
                events += self._cancel(
                    sib,
                    t,
                    pending=False,
                    send_202=True,
                    completed_status="Cancelled: OCA group member filled",
                )
                continue
            sib.total_quantity = max(sib.filled, sib.total_quantity - shares)
            self._dirty.add(sib.perm_id)
            if sib.remaining == 0:
                events += self._cancel(
                    sib,
                    t,
                    pending=False,
                    send_202=True,
                    completed_status="Cancelled: OCA group member filled",
                )
            else:
                events.append(OrderChanged(copy_order(sib)))
        return events

    def _match_auctions(self, td: TradingDay, t: float, *, closing: bool) -> list[SimEvent]:
        """Match the closing auction (``closing``) or the pre-opening session of every security with
        client orders in it; after the POS, carry its leftovers into continuous trading."""
        books: dict[str, list[SimOrder]] = {}
        for o in self._live():
            if takes_part(o, self._ext[o.perm_id], self.prices.listing(o.symbol), closing=closing):
                books.setdefault(o.symbol, []).append(o)
        events: list[SimEvent] = []
        for symbol, members in books.items():
            events += self._match_book(symbol, members, td, t, closing=closing)
        if not closing:
            events += self._after_pos(td, t)
        return events

    def _match_book(
        self, symbol: str, members: list[SimOrder], td: TradingDay, t: float, *, closing: bool
    ) -> list[SimEvent]:
        """One security's auction: the client's orders and the crowd, matched at one price."""
        if closing:
            reference = cas_reference(self.prices, symbol, td)
            crowd_price = cas_crowd_price(self.prices, symbol, td, reference)
            members = [o for o in members if carried(o, self._ext[o.perm_id], reference)]
            log.info("sim.auction.carried", symbol=symbol, perm_ids=[o.perm_id for o in members])
        else:
            reference = pos_reference(self.prices, symbol, td)
            crowd_price = pos_crowd_price(self.prices, symbol, td, reference)
        book = [
            AuctionOrder(
                o.perm_id,
                "BUY" if o.action == "BUY" else "SELL",
                self._fillable(o),
                auction_limit(o, self._ext[o.perm_id]),
                float(o.perm_id),  # perm ids rise with entry: HKEX's time priority
            )
            for o in members
            if self._fillable(o) > 0
        ]
        if not book:
            return []
        result = match([*book, *crowd_orders(crowd_price, crowd_shares(self.prices, symbol, td))], reference)
        log.info(
            "sim.auction.matched",
            auction="CAS" if closing else "POS",
            symbol=symbol,
            reference=str(reference),
            price=str(result.price),
            volume=result.volume,
            orders=[o.perm_id for o in members],
        )
        events: list[SimEvent] = []
        for o in members:
            qty = min(result.fills.get(o.perm_id, 0), self._fillable(o))
            if qty > 0 and not o.is_done:
                events += self._fill(o, qty, result.price, t, liquidity=AUCTION_LIQUIDITY)
        return events

    def _after_pos(self, td: TradingDay, t: float) -> list[SimEvent]:
        """Unfilled at-auction limits carry into continuous trading at their price (from 09:30);
        unfilled at-auction orders are cancelled (``hkex-rules.md`` §3)."""
        events: list[SimEvent] = []
        for o in self._live():
            ext = self._ext[o.perm_id]
            if o.is_done or not waiting_for_auction(o, ext):
                continue
            if o.order_type == "LMT" and o.lmt_price is not None:
                ext.working = True
                ext.limit = o.lmt_price
                ext.watch_from = int(td.open.timestamp())
                self._dirty.add(o.perm_id)
                log.info("sim.auction.carried_into_continuous", perm_id=o.perm_id, limit=str(o.lmt_price))
            else:
                events += self._cancel(
                    o,
                    t,
                    pending=False,
                    send_202=True,
                    completed_status="Cancelled: at-auction order unfilled in the pre-opening session",
                )
        return events

    def _scan(self, until: int) -> list[SimEvent]:
        """Process every print with ``prints_done < ts <= until``, in time order."""
        events: list[SimEvent] = []
        start = math.floor(self._prints_done) + 1
        if until < start:
            return events
        while True:
            best: tuple[int, int, SimOrder, DayPath, int] | None = None
            for o in self._live():
                hit = self._first_event(o, start, until)
                if hit is not None and (best is None or (hit[0], o.perm_id) < (best[0], best[1])):
                    best = (hit[0], o.perm_id, o, hit[1], hit[2])
            if best is None:
                break
            _ts, _perm, o, path, k = best
            events += self._on_print(o, path, k)
        self._prints_done = max(self._prints_done, float(until))
        return events

    def _first_event(self, o: SimOrder, start: int, until: int) -> tuple[int, DayPath, int] | None:
        ext = self._ext[o.perm_id]
        waiting_trigger = o.order_type in STOP_TYPES and not o.triggered and o.why_held == "trigger"
        if not (ext.working or waiting_trigger):
            return None
        if ext.working and self._fillable(o) <= 0:
            return None
        a = max(start, ext.watch_from)
        if a > until:
            return None
        day = from_epoch(a).date()
        last_day = from_epoch(until).date()
        while day <= last_day:
            path = self.prices.path(o.symbol, day)
            if path is not None:
                lo = int(np.searchsorted(path.ts, a, side="left"))
                hi = int(np.searchsorted(path.ts, until, side="right"))
                if lo < hi:
                    prices = path.price[lo:hi]
                    if waiting_trigger:
                        stop = int(o.aux_price * MILLI) if o.aux_price is not None else 0
                        mask = prices >= stop if o.action == "BUY" else prices <= stop
                    else:
                        assert ext.limit is not None
                        lim = int(ext.limit * MILLI)
                        mask = prices <= lim if o.action == "BUY" else prices >= lim
                    idx = np.flatnonzero(mask)
                    if len(idx):
                        k = lo + int(idx[0])
                        return int(path.ts[k]), path, k
            day += timedelta(days=1)
        return None

    def _on_print(self, o: SimOrder, path: DayPath, k: int) -> list[SimEvent]:
        ext = self._ext[o.perm_id]
        ts = int(path.ts[k])
        ext.watch_from = ts + 1
        self._dirty.add(o.perm_id)
        if not ext.working:  # a stop's trigger
            return self._trigger(o, float(ts))
        price_milli = int(path.price[k])
        assert ext.limit is not None
        lim_milli = int(ext.limit * MILLI)
        if (
            ext.odd_lot
            and unit_hash(self.seed, o.perm_id, ts // 60) >= self.behaviour.odd_lot_fill_probability
        ):
            return []
        avail = int(path.volume[k]) * (1 if price_milli == lim_milli else THROUGH_MULTIPLE)
        qty = min(self._fillable(o), avail)
        if qty <= 0:
            return []
        return self._fill(o, qty, ext.limit, float(ts), liquidity=1)
