"""The simulated SEHK exchange behind the gateway, with IB's order handling in front of it.

Pure and synchronous: the protocol server calls it from one asyncio loop and encodes the
:mod:`~catalyst.sim.engine.model` events it returns. Every public call first brings the market up to
the simulated clock (prints, stop triggers, fills, the lunch break, DAY expiry) and returns those
events first.

How orders live (IB on SEHK, ``tws-protocol.md`` §5-§6, ``hkex-rules.md`` §1-§6):

* ``transmit=False`` orders are held silently until an order of the same group (same parent)
  arrives with ``transmit=True``; then the parent, the held children and that order are accepted
  in turn, each producing ``OrderChanged``.
* Outside continuous trading (pre-open, lunch, closing auction, closed) a new order is accepted
  ``PreSubmitted`` with a 399 warning and starts working at the next 09:30 or 13:00 (an at-auction
  order, TIF AUC, goes into its auction instead: ``Submitted``, no 399).
* LMT orders work at the exchange (``Submitted``). MKT orders are held at "IB" and sent as a limit
  ``mkt_conversion_ticks`` ticks through the touch, capped at ``mkt_conversion_max_pct``%.
  STP and STP LMT are IB-simulated: ``PreSubmitted`` with whyHeld ``trigger`` until a *trade*
  prints at or through the stop, then sent as a converted limit (STP) or their limit (STP LMT).
* Bracket children are ``PreSubmitted`` with whyHeld ``child`` / ``child,trigger`` until the
  parent fills; their ``ocaGroup`` is the parent's permId and ``ocaType`` 3, so a fill of one
  reduces the other (and cancels it at zero). Cancelling an unfilled parent cancels its children.
* A marketable order sweeps the synthetic book (up to 10 price levels, limited size per level:
  several executions); a resting limit fills at its price when the trade path reaches it, at most
  one execution per print. Nothing fills at lunch or when closed, nor in the auctions except by
  their one-price matching (below).
* HKEX's order rules come from ``catalyst.market.order_rules``: a limit at 9x / one-ninth of the
  last price is rejected (201) at placement; a LMT that reaches the exchange in continuous trading
  24 spreads or more beyond the best price on its side is rejected and ends ``Inactive`` (or is
  held, ``quotation_rule_breach="hold"``); a cancel inside a no-cancel window (09:15-09:30,
  12:00-12:30, 16:06-16:10 or 12:06-12:10 on a half day) is ``PendingCancel`` until the window
  opens, then cancelled (``cancel_window_pending``); an amendment inside a no-amendment window
  (09:15-09:30, 12:00-13:00, 16:06-16:10 or 12:06-12:10) is held and applied when it opens, the
  order working on its old terms meanwhile (or refused with a 201, ``amend_window``).
* HKEX's auctions match (``auction_fills``, rules in ``catalyst.market.auction``, crowd and times
  in ``catalyst.sim.engine.auction_book``; ``docs/simulator.md``): at the closing auction's random close
  (16:08-16:10) the DAY limits working since continuous trading within +-5 % of the reference price
  and the at-auction orders (TIF AUC, entered from 16:01) of a CAS-eligible security match at one
  price against a seeded crowd; at-auction orders entered 09:00-09:15 match at 09:20-09:22 (POS),
  unfilled at-auction limits then work as limits from 09:30. A child released by an auction fill
  waits PreSubmitted for the next session.
* DAY (and AUC) orders still working at the end of the closing auction are cancelled (with a 202 if
  ``day_expiry_sends_202``); GTC orders carry over and rest through the auction.
* Every execution is charged through ``catalyst.market.fees`` (see ``sim_charges``), and moves
  the account's cash, position, average cost and realized P&L (``sim_accounts``).

Choices where IB is not certain are settings of :class:`~catalyst.sim.engine.behaviour.SimBehaviour`.
Fixed simplifications: a parent cancelled or expired after a partial fill leaves its children
working for the filled quantity; a cash account rejects a sell larger than the long position at
placement; modifying a filled or cancelled order, or one with a cancel pending, gives 104 (IB
Gateway 10.40's rule); ``executions()`` and
``completed_orders()`` list the current HK day, as IB's requests do.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import structlog

from catalyst.market import HK_TZ, ladder, may_amend, may_cancel, snap_to_tick, to_hk
from catalyst.market.auction import AuctionOrder, match
from catalyst.market.calendar import CONTINUOUS_PHASES, TradingDay, phase, session_for
from catalyst.market.order_rules import LUNCH_CANCELS_FROM
from catalyst.sim.engine.accounts import AccountBook
from catalyst.sim.engine.auction_book import (
    EXPIRING_TIFS,
    auction_limit,
    carried,
    cas_close_at,
    cas_crowd_price,
    cas_reference,
    crowd_orders,
    crowd_shares,
    entry_problem,
    pos_crowd_price,
    pos_match_at,
    pos_reference,
    takes_part,
    waiting_for_auction,
)
from catalyst.sim.engine.behaviour import SimBehaviour
from catalyst.sim.engine.charges import execution_charges
from catalyst.sim.engine.clock import SimClock
from catalyst.sim.engine.contracts import BY_CON_ID, LISTINGS, MARKET_RULE_IDS, ListedStock, session_hours
from catalyst.sim.engine.errors import UnknownAccountError, UnknownSimContractError
from catalyst.sim.engine.faults import FaultBoard
from catalyst.sim.engine.model import (
    CANCELLED,
    FILLED,
    INACTIVE,
    PENDING_CANCEL,
    PRE_SUBMITTED,
    SUBMITTED,
    AccountChanged,
    Bar,
    Executed,
    FaultFired,
    OrderChanged,
    OrderRejected,
    OrderRequest,
    PortfolioItem,
    Position,
    PositionChanged,
    Quote,
    QuoteChanged,
    SimContract,
    SimEvent,
    SimExecution,
    SimOrder,
)
from catalyst.sim.engine.order_rules import (
    AUCTION_TIF,
    MSG_MODIFY_DONE,
    MSG_NO_SECURITY,
    STOP_TYPES,
    TIFS,
    OrderProblem,
    amend_window_problem,
    check_order,
    outside_hours_message,
    parent_not_found,
    price_limit_problem,
    quotation_problem,
    rejected,
    whole_quantity,
)
from catalyst.sim.engine.prices import MILLI, DayPath, PriceModel, from_epoch, unit_hash
from catalyst.sim.engine.state import OrderExt, Snapshot, StateStore

log = structlog.get_logger(__name__)

__all__ = ["Exchange", "SimBehaviour"]

FIRST_PERM_ID = 1_000_001
MAX_SWEEP_LEVELS = 10
THROUGH_MULTIPLE = 3  # a print through a resting limit offers this many times the printed volume
MSG_CANCELLED = "Order Canceled - reason:"
CLOCK_SAVE_SECONDS = 5.0  # wall seconds between saves when only the clock moved
ACCOUNT_PUSH_SECONDS = 180.0  # simulated seconds between account-value refreshes while holding stock
SAVE_INTERVAL = 0.25  # wall seconds: changes are saved by the first call after this much time
HELD_QUOTATION = "quotation"  # whyHeld of a LMT held beyond the quotation rule (simulator's choice)
AUCTION_LIQUIDITY = 1  # lastLiquidity of an auction execution ("added"; what IB reports is [U])


def _copy(o: SimOrder) -> SimOrder:
    """Events carry snapshots: the server may encode them after later changes.

    A field-for-field copy without re-running ``__init__`` (``dataclasses.replace`` costs ~10x more,
    and an order is copied into every event it appears in).
    """
    c = object.__new__(SimOrder)
    c.__dict__.update(o.__dict__)
    return c


class Exchange:
    """One simulated SEHK with its IB accounts; see the module docstring."""

    def __init__(
        self,
        *,
        accounts: Sequence[str] = ("DU0000001",),
        seed: int = 7,
        start: datetime | None = None,
        speed: float = 1.0,
        state_path: Path | None = None,
        fresh: bool = False,
        behaviour: SimBehaviour | None = None,
        initial_cash: Decimal = Decimal("1000000"),
    ) -> None:
        if not accounts:
            raise UnknownAccountError("the simulator needs at least one account id")
        self.behaviour = behaviour or SimBehaviour()
        self._store = StateStore(Path(state_path)) if state_path is not None else None
        snapshot = None
        if self._store is not None:
            if fresh:
                self._store.reset()
            else:
                snapshot = self._store.load()
        # every order ever held (views, persistence) and the indexes the hot paths use instead
        self._orders: dict[int, SimOrder] = {}
        self._ext: dict[int, OrderExt] = {}
        self._by_key: dict[tuple[int, int], int] = {}
        self._live_orders: dict[int, SimOrder] = {}  # permId -> order not yet done (pruned lazily)
        self._children_of: dict[int, list[SimOrder]] = {}  # parent permId -> its children
        self._max_order_id: dict[int, int] = {}  # clientId -> highest orderId it used
        self._held: dict[tuple[int, int], OrderRequest] = {}
        self._execs: list[SimExecution] = []
        self._pending: list[SimEvent] = []
        self._last_quotes: dict[str, tuple[Decimal, Decimal, Decimal, int]] = {}
        self._dirty: set[int] = set()
        self._saved_execs = 0
        self._state_dirty = False
        self._saved_at = time.monotonic()
        self._last_valuation = 0.0
        if snapshot is not None:
            self.accounts = tuple(snapshot.accounts)
            self.seed = snapshot.seed
            self._books = snapshot.books
            self._faults = FaultBoard(snapshot.faults)
            self._next_perm = snapshot.next_perm
            self._next_exec = snapshot.next_exec
            for o, ext in snapshot.orders:
                self._index(o, ext)
            self._held = {(r.client_id, r.order_id): r for r in snapshot.held}
            self._execs = list(snapshot.executions)
            self._saved_execs = len(self._execs)
            self.prices = PriceModel(self.seed)
            self.prices.shocks = dict(snapshot.shocks)
            resume = snapshot.clock
            if start is not None and to_hk(start).timestamp() > resume:
                resume = to_hk(start).timestamp()
            self._clock = SimClock(from_epoch(resume), speed)
            self._prints_done = snapshot.prints_done
            self._bounds_done = snapshot.bounds_done
            for a in accounts:
                if a not in self._books:  # a new account joins with the initial cash
                    log.info("sim.state.account_added", account=a, cash=str(initial_cash))
                    self._books[a] = AccountBook(a, Decimal(initial_cash))
                    self.accounts = (*self.accounts, a)
                    self._state_dirty = True
            log.info(
                "sim.state.restored",
                orders=len(self._orders),
                executions=len(self._execs),
                clock=from_epoch(resume).isoformat(),
            )
        else:
            self.accounts = tuple(accounts)
            self.seed = int(seed)
            self._books = {a: AccountBook(a, Decimal(initial_cash)) for a in self.accounts}
            self._faults = FaultBoard()
            self._next_perm = FIRST_PERM_ID
            self._next_exec = 1
            self.prices = PriceModel(self.seed)
            t0 = to_hk(start) if start is not None else datetime.now(HK_TZ)
            self._clock = SimClock(t0, speed)
            self._prints_done = t0.timestamp()
            self._bounds_done = t0.timestamp()
            self._state_dirty = True
        if self._store is not None:
            self.save()

    # --- clock ----------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self._clock.now()

    def set_clock(self, ts: datetime) -> list[SimEvent]:
        self._clock.set(ts)
        self._state_dirty = True  # an explicit jump is saved at once
        return self.tick()

    def set_speed(self, x: float) -> None:
        self._clock.set_speed(x)

    def advance(self, seconds: float) -> list[SimEvent]:
        self._clock.advance(seconds)
        self._state_dirty = True
        return self.tick()

    def tick(self) -> list[SimEvent]:
        """Bring the market up to the clock; returns fills, triggers, expiries and changed quotes."""
        events = self._catch_up()
        events += self._quote_events()
        events += self._valuation_events()
        self._autosave()
        return events

    def _valuation_events(self) -> list[SimEvent]:
        """AccountChanged for accounts holding positions, every ACCOUNT_PUSH_SECONDS of simulated time.

        IB refreshes account values and portfolio lines every few minutes as prices move.
        """
        t = self._clock.epoch()
        if t - self._last_valuation < ACCOUNT_PUSH_SECONDS:
            return []
        self._last_valuation = t
        return [
            AccountChanged(a) for a in self.accounts if any(p.quantity for p in self._books[a].positions())
        ]

    # --- the market's progress --------------------------------------------------------------------

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

    # --- the auctions (rules: catalyst.market.auction; crowd and times: catalyst.sim.engine.auction_book)

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

    # --- order entry ------------------------------------------------------------------------------

    def place_order(self, req: OrderRequest) -> list[SimEvent]:
        events = self._catch_up()
        t = self._clock.epoch()
        key = (req.client_id, req.order_id)
        if key in self._held:
            self._held[key] = req
            if req.transmit:
                events += self._release_group(req, t)
            self._state_dirty = True
        elif key in self._by_key:
            events += self._modify(self._orders[self._by_key[key]], req, t)
        elif not req.transmit:
            log.info(
                "sim.order.held_untransmitted",
                client_id=req.client_id,
                order_id=req.order_id,
                parent_id=req.parent_id,
            )
            self._held[key] = req
            self._state_dirty = True
        else:
            events += self._release_group(req, t)
        self._autosave()
        return events

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

    def _listing_of(self, req: OrderRequest) -> ListedStock | None:
        if req.con_id and req.con_id in BY_CON_ID:
            stock = BY_CON_ID[req.con_id]
            return stock if not req.symbol or req.symbol == stock.symbol else None
        return LISTINGS.get(req.symbol)

    def _reject(self, req: OrderRequest, code: int, message: str) -> list[SimEvent]:
        log.info(
            "sim.order.rejected", client_id=req.client_id, order_id=req.order_id, code=code, reason=message
        )
        return [OrderRejected(req.client_id, req.order_id, code, message)]

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
        qty = whole_quantity(req.total_quantity)
        assert qty is not None
        account = req.account or self.accounts[0]
        order = SimOrder(
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
        if parent is None:
            refusal = self._funds_problem(order, stock, t)
            if refusal:
                return self._reject(req, 201, rejected(refusal))
        self._next_perm += 1
        ext = OrderExt(watch_from=math.floor(t) + 1, odd_lot=qty < stock.board_lot)
        self._register(order, ext)
        if parent is not None and self._faults.is_on("reject-children"):
            order.status = INACTIVE
            order.completed_at = from_epoch(t)
            order.completed_status = "Rejected: fault reject-children"
            log.warning("sim.fault.reject_children", perm_id=order.perm_id, order_id=order.order_id)
            message = rejected("Child order rejected by the simulated gateway (fault reject-children)")
            return [
                OrderRejected(order.client_id, order.order_id, 201, message, _copy(order), INACTIVE),
                FaultFired("reject-children", {"client_id": order.client_id, "order_id": order.order_id}),
            ]
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
        if order.tif == AUCTION_TIF:  # in the auction's book at HKEX: no 399, it matches there
            order.status = SUBMITTED
            return [OrderChanged(_copy(order))]
        continuous = self._continuous(t)
        warning = None
        if not continuous and self.behaviour.outside_hours_warning_399:
            warning = (399, self._outside_hours_message(order, t))
        if parent is not None and not self._parent_covers(parent):
            order.why_held = "child,trigger" if order.order_type in STOP_TYPES else "child"
            return [OrderChanged(_copy(order), warning)]
        if continuous:
            return self._start_working(order, t, warning=warning)
        order.why_held = "trigger" if order.order_type in STOP_TYPES else ""
        return [OrderChanged(_copy(order), warning)]

    def _register(self, order: SimOrder, ext: OrderExt) -> None:
        self._index(order, ext)
        self._dirty.add(order.perm_id)

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

    def _outside_hours_message(self, order: SimOrder, t: float) -> str:
        until = self._next_open_after(t)
        return outside_hours_message(order.action, order.total_quantity, order.symbol, until)

    def _next_open_after(self, t: float) -> datetime | None:
        for td in self._sessions_from(t):
            for b in (td.open, td.break_end):
                if b is not None and b.timestamp() > t:
                    return b
        return None

    def _continuous(self, t: float) -> bool:
        return phase(from_epoch(t)) in CONTINUOUS_PHASES

    def _parent_covers(self, parent: SimOrder) -> bool:
        """Whether a parent's fills let its children work (``children_size_on_partial_parent``)."""
        if self.behaviour.children_size_on_partial_parent == "full":
            return parent.status == FILLED
        return parent.filled > 0

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

    # --- money ------------------------------------------------------------------------------------

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

    # --- working, triggering, sweeping ----------------------------------------------------------

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
            events: list[SimEvent] = [OrderChanged(_copy(o), warning)]
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
        events = [OrderChanged(_copy(o), warning)]
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
            return [OrderChanged(_copy(o), warning)]
        o.status = INACTIVE
        o.why_held = ""
        o.completed_at = from_epoch(t)
        o.completed_status = "Rejected: HKEX quotation rule"
        log.info("sim.order.rejected_quotation_rule", perm_id=o.perm_id, lmt=str(o.lmt_price))
        events: list[SimEvent] = [
            OrderRejected(o.client_id, o.order_id, breach.code, breach.message, _copy(o), INACTIVE)
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
        return [OrderChanged(_copy(o)), *self._sweep(o, t)]

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

    # --- fills ------------------------------------------------------------------------------------

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
        events: list[SimEvent] = [Executed(execution, _copy(o))]
        position = next(p for p in book.positions() if p.symbol == o.symbol)
        events += [PositionChanged(position), AccountChanged(o.account)]
        events += self._oca_after_fill(o, shares, t)
        children = [c for c in self._children(o) if not c.is_done and c.why_held.startswith("child")]
        if children and self._parent_covers(o):
            for c in children:
                c.why_held = ""
                events += self._start_working(c, t) if self._continuous(t) else self._hold_for_session(c)
        return events

    def _hold_for_session(self, o: SimOrder) -> list[SimEvent]:
        """A child released outside continuous trading (its parent filled in an auction) waits like an
        order placed then: PreSubmitted until the next session (a stop watches for its trigger)."""
        o.status = PRE_SUBMITTED
        o.why_held = "trigger" if o.order_type in STOP_TYPES else ""
        self._dirty.add(o.perm_id)
        return [OrderChanged(_copy(o))]

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
                events.append(OrderChanged(_copy(sib)))
        return events

    # --- cancels ----------------------------------------------------------------------------------

    def cancel_order(self, client_id: int, order_id: int) -> list[SimEvent]:
        events = self._catch_up()
        t = self._clock.epoch()
        key = (client_id, order_id)
        if key in self._held:
            del self._held[key]
            self._state_dirty = True
            events.append(OrderRejected(client_id, order_id, 202, MSG_CANCELLED))
        elif key not in self._by_key:
            events.append(
                OrderRejected(
                    client_id, order_id, 10147, f"OrderId {order_id} that needs to be cancelled is not found."
                )
            )
        else:
            o = self._orders[self._by_key[key]]
            if o.is_done:
                events.append(
                    OrderRejected(
                        client_id,
                        order_id,
                        10148,
                        f"OrderId {order_id} that needs to be cancelled cannot be cancelled, "
                        f"state: {o.status}.",
                    )
                )
            else:
                events += self._request_cancel(o, t)
        self._autosave()
        return events

    def global_cancel(self) -> list[SimEvent]:
        events = self._catch_up()
        t = self._clock.epoch()
        self._held.clear()
        self._state_dirty = True
        for o in sorted(self._live(), key=lambda o: (o.parent_perm_id != 0, o.perm_id)):
            if not o.is_done:
                events += self._request_cancel(o, t)
        self._autosave()
        return events

    def _request_cancel(self, o: SimOrder, t: float) -> list[SimEvent]:
        """A trader's cancel: at once, or PendingCancel until HKEX's no-cancel window opens."""
        if o.status == PENDING_CANCEL:
            return [OrderChanged(_copy(o))]
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
        return [OrderChanged(_copy(o))]

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

    def _cancel(
        self, o: SimOrder, t: float, *, pending: bool, send_202: bool, completed_status: str
    ) -> list[SimEvent]:
        events: list[SimEvent] = []
        children = [c for c in self._children(o) if not c.is_done]
        if pending:
            o.status = PENDING_CANCEL
            events.append(OrderChanged(_copy(o)))
            events += [OrderChanged(_copy(c)) for c in children]
        o.status = CANCELLED
        o.completed_at = from_epoch(t)
        o.completed_status = completed_status
        self._ext[o.perm_id].working = False
        self._dirty.add(o.perm_id)
        log.info("sim.order.cancelled", perm_id=o.perm_id, order_id=o.order_id, reason=completed_status)
        events.append(OrderChanged(_copy(o)))
        if send_202:
            events.append(OrderRejected(o.client_id, o.order_id, 202, MSG_CANCELLED, _copy(o)))
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
                    events.append(OrderChanged(_copy(c)))
        return events

    # --- modifications ----------------------------------------------------------------------------

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
        return [OrderChanged(_copy(o))]

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
            return [OrderChanged(_copy(o))]
        ext = self._ext[o.perm_id]
        if (ext.working or o.why_held == "trigger") and self._continuous(t):
            if o.order_type in STOP_TYPES and not o.triggered:
                ext.working = False
                return self._start_working(o, t)
            ext.limit = o.lmt_price if o.lmt_price is not None else ext.limit
            return [OrderChanged(_copy(o)), *self._sweep(o, t)]
        return [OrderChanged(_copy(o))]

    # --- views ------------------------------------------------------------------------------------

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

    def highest_order_id(self, client_id: int) -> int:
        """The highest orderId ``client_id`` has used on any day (0 if none): ids are never reused."""
        return self._max_order_id.get(client_id, 0)

    def _today_start(self) -> datetime:
        now = self.now()
        return datetime(now.year, now.month, now.day, tzinfo=HK_TZ)

    def open_orders(self, client_id: int | None = None) -> list[SimOrder]:
        self._catch_up_quiet()
        return [_copy(o) for o in self._live() if client_id is None or o.client_id == client_id]

    def completed_orders(self) -> list[SimOrder]:
        start = self._today_start()
        return [
            _copy(o)
            for o in self._orders.values()
            if o.is_done and (o.completed_at is None or o.completed_at >= start)
        ]

    def all_orders(self) -> list[SimOrder]:
        """Every order the state holds, live and done, oldest first (for tests and the CLI)."""
        return [_copy(o) for o in self._orders.values()]

    def executions(self) -> list[SimExecution]:
        """Today's executions (HK day of the simulated clock), as IB's reqExecutions returns them."""
        start = self._today_start()
        return [e for e in self._execs if e.time >= start]

    def all_executions(self) -> list[SimExecution]:
        return list(self._execs)

    def positions(self, account: str | None = None) -> list[Position]:
        books = [self._book(account)] if account else [self._books[a] for a in self.accounts]
        return [p for b in books for p in b.positions()]

    def _book(self, account: str) -> AccountBook:
        try:
            return self._books[account]
        except KeyError:
            raise UnknownAccountError(
                f"account {account!r} is not managed by the simulator; it manages {', '.join(self.accounts)}"
            ) from None

    def _last(self, symbol: str) -> Decimal:
        return self.prices.last_price(symbol, self._clock.epoch())

    def _account_rows(self, account: str, t: float) -> list[tuple[str, str, str]]:
        return self._book(account).values(
            lambda s: self.prices.last_price(s, t),
            cash_account=self.behaviour.cash_account,
            leverage=self.behaviour.margin_leverage,
            reserved=self._reserved(account, t),
        )

    def account_values(self, account: str) -> list[tuple[str, str, str]]:
        return self._account_rows(account, self._clock.epoch())

    def portfolio(self, account: str) -> list[PortfolioItem]:
        return self._book(account).portfolio(self._last)

    def _listing(self, symbol: str | None, con_id: int | None) -> ListedStock | None:
        if con_id:
            return BY_CON_ID.get(con_id)
        if symbol is not None:
            return LISTINGS.get(symbol.strip().lstrip("0") or symbol)
        return None

    def contract(self, symbol: str | None = None, con_id: int | None = None) -> SimContract | None:
        stock = self._listing(symbol, con_id)
        if stock is None:
            return None
        day = self.now().date()
        lad = ladder(on=day, table=stock.spread_table)
        trading, liquid = session_hours(day)
        return SimContract(
            con_id=stock.con_id,
            symbol=stock.symbol,
            long_name=stock.long_name,
            min_tick=min(inc for _lo, inc in lad),
            market_rule_id=stock.market_rule_id,
            board_lot=stock.board_lot,
            trading_hours=trading,
            liquid_hours=liquid,
            time_zone="Asia/Hong_Kong",
            industry=stock.industry,
            category=stock.category,
            subcategory=stock.subcategory,
            stock_type=stock.stock_type,
            local_symbol=stock.symbol,
            trading_class=stock.symbol,
        )

    def contracts(self) -> list[SimContract]:
        out = [self.contract(con_id=s.con_id) for s in LISTINGS.values()]
        return [c for c in out if c is not None]

    def market_rule(self, rule_id: int) -> list[tuple[Decimal, Decimal]] | None:
        for table, rid in MARKET_RULE_IDS.items():
            if rid == rule_id:
                return ladder(on=self.now().date(), table=table)
        return None

    def quote(self, symbol: str) -> Quote:
        stock = self._listing(symbol, None)
        if stock is None:
            raise UnknownSimContractError(
                f"the simulator lists no stock {symbol!r}; it lists {', '.join(LISTINGS)}"
            )
        return self.prices.quote(stock.symbol, self._clock.epoch())

    def _quote_events(self) -> list[SimEvent]:
        events: list[SimEvent] = []
        t = self._clock.epoch()
        for symbol in LISTINGS:
            q = self.prices.quote(symbol, t)
            key = (q.bid, q.ask, q.last, q.volume)
            if self._last_quotes.get(symbol) != key:
                self._last_quotes[symbol] = key
                events.append(QuoteChanged(q))
        return events

    def bars(
        self, symbol: str, *, end: datetime | None, duration: str, bar_size: str, use_rth: bool
    ) -> list[Bar]:
        """Historical bars ending at ``end`` (None = now), never past the simulated clock.

        ``use_rth`` makes no difference: only continuous trading prints. See ``sim_bars``.
        """
        from catalyst.sim.engine.bars import bar_window

        stock = self._listing(symbol, None)
        if stock is None:
            raise UnknownSimContractError(f"the simulator lists no stock {symbol!r}")
        now = self._clock.epoch()
        end_t = min(to_hk(end).timestamp(), now) if end is not None else now
        start_t, size = bar_window(end_t, duration, bar_size, self.prices.trading_days())
        return self.prices.bars_between(stock.symbol, start_t, end_t, size)

    def _catch_up_quiet(self) -> None:
        """Views stay current without losing events: what happens is queued for the next call."""
        self._pending = self._catch_up()

    # --- faults -----------------------------------------------------------------------------------

    def set_fault(self, name: str, on: bool, **params: object) -> None:
        self._faults.set(name, on, dict(params))
        self._state_dirty = True
        log.info("sim.fault.set", fault=name, on=on, params={k: str(v) for k, v in params.items()})
        if name == "drift" and on and {"account", "symbol", "quantity"} <= set(params):
            self._pending += self.drift(
                str(params["account"]), str(params["symbol"]), int(str(params["quantity"]))
            )
        self._autosave()

    def faults(self) -> dict[str, dict[str, object]]:
        return self._faults.active()

    def drift(self, account: str, symbol: str, quantity: int) -> list[SimEvent]:
        """Set a position without an execution: the broker's books change behind the client's back."""
        events = self._catch_up()
        book = self._book(account)
        stock = self._listing(symbol, None)
        if stock is None:
            raise UnknownSimContractError(f"the simulator lists no stock {symbol!r}")
        before = book.position(stock.symbol)
        book.set_position(stock.symbol, stock.con_id, int(quantity), self._last(stock.symbol))
        self._state_dirty = True
        log.warning("sim.fault.drift", account=account, symbol=stock.symbol, before=before, after=quantity)
        position = next(p for p in book.positions() if p.symbol == stock.symbol)
        events += [
            PositionChanged(position),
            AccountChanged(account),
            FaultFired(
                "drift", {"account": account, "symbol": stock.symbol, "before": before, "after": quantity}
            ),
        ]
        self._autosave()
        return events

    def move_price(
        self, symbol: str, *, pct: Decimal | None = None, price: Decimal | None = None
    ) -> list[SimEvent]:
        """A price shock: from the next second on every print is moved by the same factor.

        The clock moves to that second (even when frozen), so the shocked trade prints at once and
        stops and limits react to it. Outside continuous trading it shows at the next print.
        """
        if (pct is None) == (price is None):
            raise ValueError("move_price needs exactly one of pct= or price=")
        stock = self._listing(symbol, None)
        if stock is None:
            raise UnknownSimContractError(f"the simulator lists no stock {symbol!r}")
        events = self._catch_up()
        t = self._clock.epoch()
        last = self.prices.last_price(stock.symbol, t)
        target = price if price is not None else last * (1 + Decimal(pct or 0) / 100)
        if target <= 0:
            raise ValueError(f"a shock must leave a positive price, got {target}")
        factor = math.log(float(target) / float(last))
        at = math.floor(t) + 1
        self.prices.add_shock(stock.symbol, at, factor)
        self._state_dirty = True
        log.warning("sim.price.shock", symbol=stock.symbol, before=str(last), target=str(target), at=at)
        # the shocked trade prints on the next second: the clock moves there (a frozen clock too)
        if self._clock.epoch() < at:
            self._clock.set(from_epoch(at))
        events += self._catch_up()
        events += self._quote_events()
        self._autosave()
        return events

    # --- persistence ------------------------------------------------------------------------------

    def save(self) -> None:
        if self._store is None:
            return
        snapshot = Snapshot(
            accounts=list(self.accounts),
            seed=self.seed,
            books=self._books,
            faults=self._faults.active(),
            next_perm=self._next_perm,
            next_exec=self._next_exec,
            orders=[(self._orders[p], self._ext[p]) for p in sorted(self._dirty) if p in self._orders],
            held=list(self._held.values()),
            executions=self._execs[self._saved_execs :],
            shocks=self.prices.shocks,
            clock=self._clock.epoch(),
            prints_done=self._prints_done,
            bounds_done=self._bounds_done,
            executions_offset=self._saved_execs,
        )
        self._store.save(snapshot)
        self._saved_at = time.monotonic()
        self._dirty.clear()
        self._saved_execs = len(self._execs)
        self._state_dirty = False

    def _autosave(self) -> None:
        """Save what changed at most every SAVE_INTERVAL wall seconds (``tick`` saves the rest).

        A clock that merely ran on is saved every CLOCK_SAVE_SECONDS. ``save()`` forces a save.
        """
        if self._store is None:
            self._dirty.clear()  # nothing to save to: do not collect permIds for ever
            return
        changed = self._dirty or self._state_dirty or self._saved_execs != len(self._execs)
        since = time.monotonic() - self._saved_at
        if (changed and since >= SAVE_INTERVAL) or since >= CLOCK_SAVE_SECONDS:
            self.save()

    def close(self) -> None:
        """Save and release the state file (the server calls it on shutdown)."""
        self.save()
        if self._store is not None:
            self._store.close()
