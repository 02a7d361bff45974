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
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import structlog

from catalyst.market import HK_TZ, ladder, to_hk
from catalyst.sim.engine.accounts import AccountBook
from catalyst.sim.engine.behaviour import SimBehaviour
from catalyst.sim.engine.clock import SimClock
from catalyst.sim.engine.contracts import LISTINGS, MARKET_RULE_IDS, session_hours
from catalyst.sim.engine.errors import UnknownAccountError, UnknownSimContractError
from catalyst.sim.engine.exchange_state import (
    ACCOUNT_PUSH_SECONDS,
    CLOCK_SAVE_SECONDS,
    FIRST_PERM_ID,
    MSG_CANCELLED,
    SAVE_INTERVAL,
    copy_order,
)
from catalyst.sim.engine.faults import FaultBoard
from catalyst.sim.engine.model import (
    AccountChanged,
    Bar,
    FaultFired,
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
from catalyst.sim.engine.order_acceptance import OrderAcceptance
from catalyst.sim.engine.prices import PriceModel, from_epoch
from catalyst.sim.engine.state import OrderExt, Snapshot, StateStore

log = structlog.get_logger(__name__)

__all__ = ["Exchange", "SimBehaviour"]



class Exchange(OrderAcceptance):
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
            self._restore(snapshot, accounts, start, speed, Decimal(initial_cash))
        else:
            self._start_fresh(accounts, seed, start, speed, Decimal(initial_cash))
        if self._store is not None:
            self.save()

    def _restore(
        self,
        snapshot: Snapshot,
        accounts: Sequence[str],
        start: datetime | None,
        speed: float,
        initial_cash: Decimal,
    ) -> None:
        """Take up a saved state; the clock never goes back, new accounts join with the initial cash."""
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

    def _start_fresh(
        self, accounts: Sequence[str], seed: int, start: datetime | None, speed: float, initial_cash: Decimal
    ) -> None:
        """A new exchange: empty books with the initial cash, the clock at ``start`` (or now)."""
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








    # --- the auctions (rules: catalyst.market.auction; crowd and times: catalyst.sim.engine.auction_book)








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













    # --- money ------------------------------------------------------------------------------------




    # --- working, triggering, sweeping ----------------------------------------------------------







    # --- fills ------------------------------------------------------------------------------------





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




    # --- modifications ----------------------------------------------------------------------------






    # --- views ------------------------------------------------------------------------------------


    def highest_order_id(self, client_id: int) -> int:
        """The highest orderId ``client_id`` has used on any day (0 if none): ids are never reused."""
        return self._max_order_id.get(client_id, 0)

    def _today_start(self) -> datetime:
        now = self.now()
        return datetime(now.year, now.month, now.day, tzinfo=HK_TZ)

    def open_orders(self, client_id: int | None = None) -> list[SimOrder]:
        self._catch_up_quiet()
        return [copy_order(o) for o in self._live() if client_id is None or o.client_id == client_id]

    def completed_orders(self) -> list[SimOrder]:
        start = self._today_start()
        return [
            copy_order(o)
            for o in self._orders.values()
            if o.is_done and (o.completed_at is None or o.completed_at >= start)
        ]

    def all_orders(self) -> list[SimOrder]:
        """Every order the state holds, live and done, oldest first (for tests and the CLI)."""
        return [copy_order(o) for o in self._orders.values()]

    def executions(self) -> list[SimExecution]:
        """Today's executions (HK day of the simulated clock), as IB's reqExecutions returns them."""
        start = self._today_start()
        return [e for e in self._execs if e.time >= start]

    def all_executions(self) -> list[SimExecution]:
        return list(self._execs)

    def positions(self, account: str | None = None) -> list[Position]:
        books = [self._book(account)] if account else [self._books[a] for a in self.accounts]
        return [p for b in books for p in b.positions()]




    def account_values(self, account: str) -> list[tuple[str, str, str]]:
        return self._account_rows(account, self._clock.epoch())

    def portfolio(self, account: str) -> list[PortfolioItem]:
        return self._book(account).portfolio(self._last)


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
