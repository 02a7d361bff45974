"""`catalyst monitor`: layers 2 and 3, the order-status sync and the hourly reconciliation.

Each duty is a step a test can call on its own (``check_quotes``, ``check_protection``,
``check_breaker``, ``sync_orders``, ``reconcile``); ``poll`` is the 30-second safety net
(protection, breaker, quotes); ``run_once`` runs whatever is due at a given time; ``run`` is the
daemon loop around it, which also rides out gateway disconnects: the broker session reconnects
on its own, the monitor alerts when the gateway stays down too long and resynchronises (order
sync and reconciliation) when it is back.

Layer 2 acts on events: every position change and fill the broker session reports wakes the loop,
which checks protection (and exits without a position) and the breaker at once; quote changes of
held positions re-check the breaker too (at most once per ``breaker_event_interval``). The poll
stays as the safety net. A symbol's exits are acted on only under its exits lease
(``catalyst.risk.exit_leases``): while the bracket submitter holds it, the monitor leaves the
symbol alone and looks again a moment later.

Reconciliation lives in ``catalyst.reconcile``, a sibling package this one may not import, so it
is handed in as a callable by whoever assembles the monitor (the CLI).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import structlog

from catalyst.broker.errors import MarketDataNotSubscribedError
from catalyst.broker.global_cancel import WorkingOrder, working_orders
from catalyst.broker.market_data_entitlements import is_delayed
from catalyst.broker.report_log import ReportedExecution, ReportedPosition, ReportedStatus
from catalyst.domain.order_status import DONE_AT_BROKER
from catalyst.market import HK_TZ, may_cancel, session_for
from catalyst.risk.alerts import Alerter, Severity
from catalyst.risk.audit import NAKED_EXIT, OVER_COVERAGE, AuditInputs, Violation, audit
from catalyst.risk.circuit_breaker import BreakerDecision, DayPnl, day_pnl, evaluate_breaker
from catalyst.risk.exit_leases import ExitLeases
from catalyst.risk.limits import RiskLimits
from catalyst.risk.monitor_chatter import PollTally
from catalyst.risk.position_monitor import (
    REPAIR_OVER_COVERED,
    BreachTracker,
    GraceTracker,
    GuardedPosition,
    LevelBreach,
    PriceView,
    ProtectionGap,
    ProtectionRepair,
    being_closed,
    guarded_positions,
    level_breaches,
    plan_protection_repair,
    protection_gaps,
    protective_legs,
)
from catalyst.risk.pretrade import positions_by_symbol
from catalyst.risk.state import RiskState, load_risk_state, record_risk_event, trip_breaker
from catalyst.risk.window_waits import (
    ExitWait,
    HeldCancels,
    deferral_text,
    exit_wait,
    hk_time,
    split_survivors,
)

if TYPE_CHECKING:
    from catalyst.ledger import Ledger

log = structlog.get_logger(__name__)

#: Reads the ledger's open positions with their stop/target (``catalyst.reconcile.ledger_book``).
BookFn = Callable[["Ledger", str], pd.DataFrame]
ReconcileFn = Callable[[], Awaitable[Any]]
#: How long the quote path may reuse the ledger's book of positions and levels.
BOOK_TTL_SECONDS = 5.0
#: What protects a position while the monitor's prices are missing or delayed.
PROTECTED_BY = (
    "What still protects each position: its stop (and target) held at the broker, which IB triggers "
    "on its own live prices whatever data this account receives; the monitor still repairs missing "
    "protection from the broker's order reports"
)
#: A duty that fails this many times in a row raises an alert.
FAILURES_BEFORE_ALERT = 3
#: Longest pause between attempts to make the first connection.
CONNECT_RETRY_MAX = 10.0
#: While another process owns a symbol's exits, look at the symbol again this often.
LEASE_RECHECK_SECONDS = 1.0
#: Inside a no-cancel window the breaker waits this long for the cancels that can go now.
HELD_CANCEL_WAIT = 1.5


@dataclass(frozen=True)
class DeferredFlatten:
    """A breaker flatten that waits for HKEX to trade again (the positions are protected meanwhile)."""

    symbols: tuple[str, ...]
    reason: str
    trades_at: datetime


@dataclass(frozen=True)
class MonitorConfig:
    account: str
    run_id: str = ""
    #: where the exits leases live (the settings' state dir); None: no other process trades here
    state_dir: Path | None = None
    quote_interval: float = 0.25  # fast path: quotes of open positions (breach detection)
    poll_interval: float = 30.0  # safety net: protection, breaker
    sync_interval: float = 60.0  # broker.sync_order_status (rule 7: at least every 60 s)
    reconcile_interval: float = 3600.0
    down_alert_after: float = 120.0  # alert when the gateway stays down longer than this
    breach_grace: float = 2.0  # let the broker's own stop/target act first
    action_cooldown: float = 15.0  # don't send a second exit for a symbol within this
    breaker_wait: float = 10.0  # breaker: longest wait for the cancel, and for flat after each flatten
    flatten_attempts: int = 3  # breaker: flatten rounds before it alerts that the account is not flat
    #: breaker: longest wait for a symbol's exits lease before flattening without it (last line)
    breaker_lease_wait: float = 1.5
    breaker_event_interval: float = 1.0  # breaker re-checked on P&L changes at most this often
    exit_grace: float = 2.0  # an exit without a position must last this long before it is acted on


@dataclass
class StepReport:
    """What one step found and did (tests read it; the loop logs it)."""

    breaches: list[LevelBreach] = field(default_factory=list)
    gaps: list[ProtectionGap] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    breaker: BreakerDecision | None = None
    pnl: DayPnl | None = None
    errors: list[str] = field(default_factory=list)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Monitor:
    """The monitor's duties over one broker session, one ledger and one alerter."""

    def __init__(
        self,
        broker: Any,
        ledger: Ledger,
        alerter: Alerter,
        limits: RiskLimits,
        config: MonitorConfig,
        *,
        book: BookFn | None = None,
        reconcile: ReconcileFn | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.broker = broker
        self.ledger = ledger
        self.alerter = alerter
        self.limits = limits
        self.config = config
        self.book = book or _positions_table
        self.reconcile_fn = reconcile
        self.clock = clock
        self.tracker = BreachTracker(timedelta(seconds=config.breach_grace))
        self.exit_tracker = GraceTracker(timedelta(seconds=config.exit_grace))
        self.leases = ExitLeases(config.state_dir, lambda: self.account, config.run_id)
        self._reported_exits: set[str] = set()
        self._recheck_at: datetime | None = None
        self._events: set[str] = set()
        self._wake = asyncio.Event()
        self._pnl_changed = False
        self._last_breaker_check: datetime | None = None
        self._last_prices: dict[str, tuple[Any, Any, Any]] = {}
        self._state_cache: tuple[datetime, RiskState] | None = None
        self._quotes_seen: tuple[datetime, dict[str, Any]] | None = None
        self._fills_cache: pd.DataFrame | None = None  # today's fills; dropped on every fill/position event
        self._last_action: dict[str, datetime] = {}  # the last exit or repair sent per symbol
        self._last_exit: dict[str, datetime] = {}  # the last exit (flatten) sent per symbol
        self._deferred: DeferredFlatten | None = None  # the breaker's flatten waiting for HKEX to trade
        self._deferred_read = False  # whether a flatten left waiting by an earlier monitor was looked for
        self._due: dict[str, datetime] = {}
        self._down_since: datetime | None = None
        self._down_alerted = False
        self._epoch: int | None = None
        self._book_cache: tuple[datetime, pd.DataFrame] | None = None
        self._failures: dict[str, int] = {}
        self._market_data_alerted: set[str] = set()  # symbols whose missing/delayed data was alerted
        self.passes = 0  # completed ``run_once`` passes (tests and benchmarks wait on the first)
        self.polls = PollTally()  # routine polls log at debug, a summary line a minute at info
        self._listen()

    # -- events ------------------------------------------------------------------------------------

    def _listen(self) -> None:
        """Subscribe to the broker session's reports: positions, fills and final order statuses."""
        reports = getattr(self.broker, "reports", None)
        if reports is None:
            return
        if hasattr(reports, "add_position_sink"):
            reports.add_position_sink(self._on_position)
        if hasattr(reports, "add_sink"):
            reports.add_sink(self._on_report)

    def _on_position(self, report: ReportedPosition) -> None:
        if self.account and report.account != self.account:
            return
        if report.quantity == 0:  # the previous exit did its job: a new position is a new case
            self._last_action.pop(report.symbol, None)
            self._last_exit.pop(report.symbol, None)
        self._note_event("position")

    def _on_report(self, report: Any) -> None:
        if isinstance(report, ReportedExecution):
            self._note_event("fill")
        elif isinstance(report, ReportedStatus) and report.status in DONE_AT_BROKER:
            self._note_event("order")

    def _note_event(self, kind: str) -> None:
        if kind in ("fill", "position"):
            self._fills_cache = None
        self._events.add(kind)
        self._pnl_changed = True
        self._wake.set()

    def _take_events(self) -> set[str]:
        events, self._events = self._events, set()
        self._wake.clear()
        return events

    def _next_deadline(self) -> datetime | None:
        """The earliest moment a pending finding becomes due (a breach or an exit past its grace,
        a symbol whose exits lease another process held)."""
        times = [t for t in (self.tracker.next_due(), self.exit_tracker.next_due(), self._recheck_at) if t]
        return min(times) if times else None

    # -- state -------------------------------------------------------------------------------------

    def risk_state(self) -> RiskState:
        state = load_risk_state(self.ledger, self.account, self.clock())
        self._state_cache = (self.clock(), state)
        return state

    def _cached_risk_state(self) -> RiskState:
        """The risk state as of the last poll: event-driven breaker checks must not read the ledger
        on every quote (cycles write it); a halt set elsewhere is seen at the next poll."""
        cached = self._state_cache
        if cached is None or self.clock() - cached[0] > timedelta(seconds=self.config.poll_interval):
            return self.risk_state()
        return cached[1]

    @property
    def account(self) -> str:
        """The configured account, else the one the broker session resolved at connect."""
        return self.config.account or str(getattr(self.broker, "account", "") or "")

    async def _alert(self, severity: Severity, title: str, body: str, key: str) -> None:
        """Deliver in a worker thread: channels can be slow (apprise pauses between sends)."""
        await asyncio.to_thread(self.alerter.alert, severity, title, body, dedup_key=key)

    def _event(
        self,
        kind: str,
        severity: str,
        message: str,
        symbol: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        record_risk_event(
            self.ledger,
            kind=kind,
            severity=severity,
            message=message,
            account=self.account,
            symbol=symbol,
            run_id=self.config.run_id,
            detail=detail,
            ts=self.clock(),
        )

    def _cooling(self, symbol: str, now: datetime, *, exits_only: bool = False) -> bool:
        """Within ``action_cooldown`` of the last action on ``symbol``: no second one yet. A breach
        only waits for a previous exit (a re-protection a moment ago must not delay closing)."""
        last = (self._last_exit if exits_only else self._last_action).get(symbol)
        return last is not None and now - last < timedelta(seconds=self.config.action_cooldown)

    async def _positions(self) -> dict[str, int]:
        return positions_by_symbol(await self.broker.positions())

    async def _pushed_positions(self) -> dict[str, int]:
        """The account's positions as the broker last pushed or answered them (no round trip: the
        quote path runs four times a second; the session asked at connect and stays subscribed);
        asks the broker when the session keeps no such record."""
        known = getattr(getattr(self.broker, "reports", None), "positions", None)
        if not isinstance(known, dict) or not self.account:
            return await self._positions()
        held: dict[str, int] = {}
        for rep in known.values():
            if rep.account == self.account and rep.quantity:
                held[rep.symbol] = held.get(rep.symbol, 0) + int(rep.quantity)
        return held

    async def _account_orders(self) -> pd.DataFrame:
        """The broker's open orders of this monitor's account. reqAllOpenOrders lists every account
        of the gateway login: another account's stop in the same symbol protects nothing here."""
        orders = await self.broker.open_orders()
        if self.account and "account" in orders.columns and not orders.empty:
            orders = orders[orders["account"].astype(str) == self.account]
        return orders

    async def _guarded(self, *, fresh: bool = True) -> list[GuardedPosition]:
        """Broker positions with the ledger's levels. The fast quote path reuses the ledger's book
        for a few seconds (one ledger read a second would contend with cycles writing the file)
        unless the broker shows a symbol the cached book lacks; it also takes the positions the
        broker pushed instead of asking for them."""
        held = await (self._positions() if fresh else self._pushed_positions())
        now = self.clock()
        cached = self._book_cache
        stale = cached is None or fresh or now - cached[0] > timedelta(seconds=BOOK_TTL_SECONDS)
        if not stale and cached is not None and not set(held) <= set(cached[1]["symbol"].astype(str)):
            stale = True
        if stale or cached is None:
            cached = (now, self.book(self.ledger, self.account))
            self._book_cache = cached
        return guarded_positions(held, cached[1])

    async def _prices(self, symbols: list[str]) -> dict[str, Any]:
        quotes = {}
        for symbol in symbols:
            try:
                quotes[symbol] = await self.broker.quote(symbol)
            except MarketDataNotSubscribedError as exc:  # no price at all: never read as zero
                await self._market_data_alert(symbol, "no market data", str(exc))
            except Exception as exc:  # one bad quote must not blind the others
                log.warning("monitor.quote.failed", symbol=symbol, error=str(exc))
            else:
                served = str(getattr(quotes[symbol], "data_type", "live"))
                if served in ("delayed", "delayed-frozen") and not is_delayed(self.market_data_type()):
                    # delayed data nobody asked for; when it was asked for, the start alert said so
                    await self._market_data_alert(symbol, "delayed prices", f"{symbol} is quoted {served}")
        return quotes

    def market_data_type(self) -> str:
        """``broker.market_data_type`` of the monitor's session (live when the broker does not say)."""
        connection = getattr(self.broker, "connection", None)
        return str(getattr(connection, "market_data_type", "live") or "live")

    async def announce_market_data(self) -> str | None:
        """At start: when layer 2 acts on delayed prices, say so (log and alert), and what still
        protects the positions. Returns the message, or None on live data."""
        data_type = self.market_data_type()
        if not is_delayed(data_type):
            return None
        message = (
            f"broker.market_data_type = {data_type!r}: the monitor's level checks and breaker (layer 2) act "
            f"on {data_type} prices, at least 15 minutes old where account {self.account or '?'} has no "
            f"live HKEX subscription. {PROTECTED_BY}"
        )
        log.warning("monitor.market_data.delayed", account=self.account, data_type=data_type, message=message)
        await self._alert(
            Severity.WARNING,
            f"Monitor on {data_type.upper()} market data ({self.account or '?'})",
            message,
            key=f"market_data:{self.account}:{data_type}",
        )
        return message

    async def _market_data_alert(self, symbol: str, what: str, detail: str) -> None:
        """Once per symbol: its quotes are missing or delayed, so layer 2 is blind or late for it."""
        if symbol in self._market_data_alerted:  # said once; the quote path runs four times a second
            log.debug("monitor.market_data", symbol=symbol, what=what, detail=detail)
            return
        self._market_data_alerted.add(symbol)
        log.warning("monitor.market_data", symbol=symbol, what=what, detail=detail)
        await self._alert(
            Severity.CRITICAL if what == "no market data" else Severity.WARNING,
            f"Monitor has {what} for {symbol} ({self.account or '?'})",
            f"{detail}. The monitor cannot check {symbol}'s levels on live prices. {PROTECTED_BY}",
            key=f"market_data:{self.account}:{symbol}:{what}",
        )

    # -- layer 2: levels ---------------------------------------------------------------------------

    async def check_quotes(self) -> StepReport:
        """Close positions whose price is through their recorded stop/target and still open."""
        report = StepReport()
        positions = await self._guarded(fresh=False)
        if not positions:
            return report
        quotes = await self._prices([p.symbol for p in positions])
        self._quotes_seen = (self.clock(), quotes)
        self._note_prices(quotes)
        views = {s: PriceView(q.bid, q.ask, q.last) for s, q in quotes.items()}
        now = self.clock()
        report.breaches = level_breaches(positions, views)
        for breach in self.tracker.due(report.breaches, now):
            if self._cooling(breach.symbol, now, exits_only=True):
                continue
            with self.leases.owned(breach.symbol) as mine:
                if not mine:
                    self._left_alone(breach.symbol, now)
                    continue
                await self._close(
                    breach.symbol,
                    report,
                    f"{breach.level_kind} {breach.level} breached at {breach.price} and the position "
                    f"({breach.quantity}) is still open: the broker's own order did not handle it",
                    kind="level_breach_closed",
                )
            self.tracker.forget(breach.symbol)
        return report

    def _note_prices(self, quotes: Mapping[str, Any]) -> None:
        """A changed quote of a held symbol changes the day's P&L: the breaker looks again."""
        for symbol, q in quotes.items():
            seen = (q.bid, q.ask, q.last)
            if self._last_prices.get(symbol) != seen:
                self._last_prices[symbol] = seen
                self._pnl_changed = True

    def _left_alone(self, symbol: str, now: datetime) -> None:
        """Another process owns the symbol's exits: look again shortly (not only at the next poll)."""
        again = now + timedelta(seconds=LEASE_RECHECK_SECONDS)
        self._recheck_at = again if self._recheck_at is None else min(self._recheck_at, again)

    async def _close(
        self, symbol: str, report: StepReport, why: str, *, kind: str, alert: bool = True
    ) -> None:
        """Flatten ``symbol``; the caller owns its exits. ``alert`` False: the caller alerts once for
        all (the breaker)."""
        self._last_action[symbol] = self._last_exit[symbol] = self.clock()
        try:
            exit_order = await self.broker.flatten(symbol)
        except Exception as exc:
            text = f"could not close {symbol}: {type(exc).__name__}: {exc}"
            report.errors.append(text)
            self._event("flatten_failed", "critical", f"{why}; {text}", symbol)
            await self._alert(
                Severity.CRITICAL,
                f"FLATTEN FAILED {symbol} ({self.account})",
                f"{why}. {text}. Close the position by hand.",
                f"flatten-failed:{symbol}",
            )
            return
        ref = getattr(exit_order, "order_ref", None)
        report.actions.append(f"flatten {symbol}")
        if kind != "breaker_flatten":  # the breaker's global cancel already removed every client's orders
            await self._warn_foreign_orders(symbol, ref)
        wait = exit_wait(await self._broker_now())
        held_note = f"; {wait.describe()}" if wait is not None else ""
        self._event(
            kind,
            "critical",
            f"{why}; closing with a marketable limit ({ref}){held_note}",
            symbol,
            {
                "order_ref": ref,
                "limit": str(getattr(exit_order, "limit_price", "")),
                "trades_at": wait.trades_at.isoformat() if wait is not None else None,
            },
        )
        if alert:
            await self._alert(
                Severity.CRITICAL,
                f"Closed {symbol} ({self.account})",
                f"{why}. Exit order {ref}{held_note}.",
                f"{kind}:{symbol}",
            )

    async def _warn_foreign_orders(self, symbol: str, exit_ref: str | None) -> None:
        """A single-symbol flatten cancels only this client's orders (IB lets only the owner cancel
        one order; the breaker's global cancel takes every order of every symbol, too much for one
        unprotected position). Working orders of other clients in the symbol (the cycle's surviving
        stop or target) could reopen a position once flat: say so loudly."""
        try:
            orders = await self._account_orders()
        except Exception as exc:
            log.warning("monitor.open_orders.failed", error=str(exc))
            return
        if orders.empty:
            return
        own = getattr(self.broker, "client_id", None)
        mine = orders["symbol"].astype(str) == symbol
        foreign = orders[
            mine & (orders["client_id"] != own) & (orders["order_ref"].astype(str) != str(exit_ref))
        ]
        if foreign.empty:
            return
        refs = ", ".join(f"{r.order_ref} (client {r.client_id})" for r in foreign.itertuples(index=False))
        self._event(
            "foreign_orders_after_flatten",
            "critical",
            f"{symbol} flattened but orders of other clients still work: {refs}",
            symbol,
        )
        await self._alert(
            Severity.CRITICAL,
            f"Orders still working in {symbol} after flatten ({self.account})",
            f"{refs}. Cancel them in TWS/Gateway: filled on a flat book they open a reverse position.",
            f"foreign-orders:{symbol}",
        )

    # -- layer 2: protection -----------------------------------------------------------------------

    async def check_protection(self) -> StepReport:
        """Every open position must have working stop and target orders at the broker, and no exit
        order may work without a position to close (or cover more than is held)."""
        report = StepReport()
        now = self.clock()
        if self._recheck_at is not None and now >= self._recheck_at:
            self._recheck_at = None
        positions = await self._guarded()
        held = {p.symbol: p.quantity for p in positions}
        orders = await self._account_orders()
        if await self.clean_exits(held, orders, report):
            orders = await self._account_orders()
        if not positions:
            return report
        report.gaps = protection_gaps(held, orders)
        by_symbol = {p.symbol: p for p in positions}
        for gap in report.gaps:
            if self._cooling(gap.symbol, now) or self._being_closed(gap.symbol, gap.quantity, orders):
                continue
            if self._waits_for_breaker(gap):
                continue
            with self.leases.owned(gap.symbol) as mine:
                if not mine:
                    self._left_alone(gap.symbol, now)
                    continue
                await self._repair(by_symbol[gap.symbol], gap, orders, report)
        return report

    def _being_closed(self, symbol: str, quantity: int, orders: pd.DataFrame) -> bool:
        """A working flatten covers the whole position (a bracket's failure path, the monitor's own
        exit): re-protecting or closing it again would double the exit. Looked at again on the next
        event or poll; a flatten left working on a flat book is a naked exit."""
        if not being_closed(symbol, quantity, orders):
            return False
        log.info("monitor.protection.being_closed", symbol=symbol, position=quantity)
        return True

    async def _repair(
        self, pos: GuardedPosition, gap: ProtectionGap, orders: pd.DataFrame, report: StepReport
    ) -> None:
        """One unprotected position, its exits owned by this monitor: re-protect it or close it."""
        missing = " and ".join(gap.missing)
        self._event(
            "unprotected_position",
            "critical",
            f"{gap.symbol} position {gap.quantity} has no working {missing} at the broker",
            gap.symbol,
            {
                "missing": list(gap.missing),
                "stop_covered": gap.stop_covered,
                "target_covered": gap.target_covered,
            },
        )
        protect = getattr(self.broker, "protect", None)
        can_recreate = pos.stop is not None and pos.target is not None and protect is not None
        if self.limits.missing_protection == "recreate" and can_recreate:
            repair = plan_protection_repair(
                pos.symbol, pos.quantity, protective_legs(pos.symbol, pos.quantity, orders)
            )
            await self._reprotect(pos, gap, repair, report)
            return
        why = f"{gap.symbol} position {gap.quantity} has no working {missing}"
        if self.limits.missing_protection == "recreate":
            why += (
                " and cannot be re-protected ("
                + (
                    "no stop/target recorded for it"
                    if protect is not None
                    else "this broker session cannot place protective orders"
                )
                + ")"
            )
        await self._close(gap.symbol, report, why, kind="unprotected_flattened")

    async def _reprotect(
        self, pos: GuardedPosition, gap: ProtectionGap, repair: ProtectionRepair, report: StepReport
    ) -> None:
        """Bring protection back to exactly one stop and one target for the position's quantity.

        Only the missing leg(s) are placed (``plan_protection_repair``): a surviving stop or target
        of another client (the cycle's bracket leg) is completed by joining its OCA group, so the
        position is never covered twice on one side. Survivors that already cover more than the
        position, or that cannot be completed safely, are left alone with a critical alert: the
        monitor cannot cancel another client's single order.
        """
        self._last_action[pos.symbol] = self.clock()
        survivors = "; ".join(leg.describe() for leg in repair.surviving) or "none"
        detail = {
            "repair": repair.kind,
            "surviving": [leg.describe() for leg in repair.surviving],
            "stop_quantity": repair.stop_quantity,
            "target_quantity": repair.target_quantity,
            "oca_group": repair.oca_group,
        }
        log.warning(
            "monitor.protection.repair",
            symbol=pos.symbol,
            position=pos.quantity,
            kind=repair.kind,
            stop_quantity=repair.stop_quantity,
            target_quantity=repair.target_quantity,
            oca_group=repair.oca_group,
            surviving=survivors,
            reason=repair.reason,
        )
        if not repair.places_orders:
            await self._protection_left_alone(pos, repair, report, survivors, detail)
            return
        sign = 1 if pos.quantity > 0 else -1
        # one call per size: a pair shares one size; "complete" places a single leg
        size = repair.stop_quantity or repair.target_quantity
        stop = pos.stop if repair.stop_quantity else None
        target = pos.target if repair.target_quantity else None
        try:
            refs = await self.broker.protect(
                pos.symbol, sign * size, stop=stop, target=target, oca_group=repair.oca_group or None
            )
        except Exception as exc:
            text = f"{type(exc).__name__}: {exc}"
            report.errors.append(f"re-protect {pos.symbol}: {text}")
            self._event(
                "protection_repair_failed",
                "critical",
                f"re-protecting {pos.symbol} {pos.quantity} failed ({text}); closing the position",
                pos.symbol,
                {**detail, "error": text},
            )
            await self._alert(
                Severity.CRITICAL,
                f"RE-PROTECT FAILED {pos.symbol} ({self.account})",
                f"missing {', '.join(gap.missing)}; placing {placed_plan(repair, stop, target)} failed: "
                f"{text}. The monitor is closing the position; check it is flat.",
                f"reprotect-failed:{pos.symbol}",
            )
            why = f"re-protecting {pos.symbol} failed ({text})"
            await self._close(pos.symbol, report, why, kind="unprotected_flattened")
            return
        report.actions.append(f"protect {pos.symbol}")
        placed = placed_plan(repair, stop, target)
        where = f" in surviving OCA group {repair.oca_group}" if repair.oca_group else " as a new OCA pair"
        self._event(
            "protection_recreated",
            "warning",
            f"re-created {placed}{where} for {pos.symbol} {pos.quantity} (surviving: {survivors})",
            pos.symbol,
            {**detail, "order_refs": list(refs or [])},
        )
        await self._alert(
            Severity.WARNING,
            f"Re-protected {pos.symbol} ({self.account})",
            f"missing {', '.join(gap.missing)}; re-created {placed}{where}; surviving: {survivors}",
            f"reprotect:{pos.symbol}",
        )

    async def _protection_left_alone(
        self,
        pos: GuardedPosition,
        repair: ProtectionRepair,
        report: StepReport,
        survivors: str,
        detail: Mapping[str, Any],
    ) -> None:
        over = repair.kind == REPAIR_OVER_COVERED
        kind = "protection_over_covered" if over else "protection_unrepairable"
        text = (
            f"{repair.reason}. Nothing was placed: the monitor cannot cancel another client's single "
            f"order. Working orders: {survivors}. Cancel or resize them in TWS/Gateway so one stop and "
            f"one target cover the {abs(pos.quantity)} shares held"
            + (", or a fill may open a reverse position" if over else "")
        )
        report.errors.append(text)
        self._event(kind, "critical", text, pos.symbol, detail)
        await self._alert(
            Severity.CRITICAL,
            ("OVER-COVERED " if over else "CANNOT RE-PROTECT ") + f"{pos.symbol} ({self.account})",
            text,
            f"{kind}:{pos.symbol}",
        )

    # -- layer 2: exits without a position -----------------------------------------------------------

    async def clean_exits(self, held: Mapping[str, int], orders: pd.DataFrame, report: StepReport) -> bool:
        """Working exit orders on a flat symbol (``naked_exit``) or covering more than is held
        (``over_coverage``), as the invariant audit (``catalyst.risk.audit``) finds them, once they
        have lasted ``exit_grace``: cancel this monitor's own (IB lets only the placing client
        cancel one order; the breaker's global cancel would take every order of every symbol of
        the login, too much here), record a risk event and alert a human naming what still works.
        Returns True when something was cancelled (the caller re-reads the orders)."""
        violations = self._exit_violations(held, orders)
        now = self.clock()
        keys = {_violation_key(v): v for v in violations}
        due = self.exit_tracker.due(list(keys), now)
        self._reported_exits &= set(keys)  # a violation that went away may be reported again
        cancelled_any = False
        for key, violation in keys.items():
            if key not in due:
                continue
            with self.leases.owned(violation.symbol) as mine:
                if not mine:
                    self._left_alone(violation.symbol, now)
                    continue
                cancelled_any |= await self._act_on_exits(key, violation, orders, report)
        return cancelled_any

    def _exit_violations(self, held: Mapping[str, int], orders: pd.DataFrame) -> list[Violation]:
        positions = pd.DataFrame(
            [{"symbol": s, "quantity": q} for s, q in held.items() if q], columns=["symbol", "quantity"]
        )
        view = AuditInputs(
            account=self.account,
            now=self.clock(),
            limits=self.limits,
            positions=positions,
            open_orders=orders,
        )
        return [v for v in audit(view) if v.rule in (NAKED_EXIT, OVER_COVERAGE)]

    async def _act_on_exits(
        self, key: str, violation: Violation, orders: pd.DataFrame, report: StepReport
    ) -> bool:
        own_id = getattr(self.broker, "client_id", None)
        involved = _orders_named(orders, violation)
        mine = [
            o
            for o in involved
            if own_id is not None
            and o["client_id"] == own_id
            and o["order_ref"]
            # never cancel its own flatten because a surviving leg over-covers beside it
            and not (violation.rule == OVER_COVERAGE and ":FLAT" in o["order_ref"])
        ]
        foreign = [o for o in involved if o not in mine]
        cancelled: list[str] = []
        failed: list[str] = []
        for order in mine:
            try:
                status = await self.broker.cancel(order["order_ref"])
            except Exception as exc:
                failed.append(f"{_describe(order)} ({type(exc).__name__}: {exc})")
                continue
            cancelled.append(f"{_describe(order)} -> {status}")
            report.actions.append(f"cancel {order['order_ref']}")
        self.exit_tracker.forget(key)
        if not cancelled and not failed and key in self._reported_exits:
            return False  # other clients' orders, already reported: no repeat on every poll
        self._reported_exits.add(key)
        still = [_describe(o) for o in foreign] + failed
        text = f"{violation.symbol}: {violation.detail}. Cancelled: {'; '.join(cancelled) or 'none'}. " + (
            f"Still working: {'; '.join(still)}: cancel in TWS/Gateway (IB lets only the client that "
            "placed an order cancel it alone)"
            if still
            else "None of them works any more"
        )
        if still:
            report.errors.append(text)
        self._event(
            violation.rule,
            "critical",
            text,
            violation.symbol,
            {
                "orders": [_describe(o) for o in involved],
                "order_refs": list(violation.order_refs),
                "perm_ids": list(violation.perm_ids),
                "cancelled": cancelled,
                "still_working": still,
            },
        )
        naked = violation.rule == NAKED_EXIT
        consequence = (
            "Filled, it opens a position the account did not want (a SELL on a flat book is a short sale)"
            if naked
            else "A fill of the excess opens a reverse position"
        )
        await self._alert(
            Severity.CRITICAL,
            f"{'NAKED EXIT' if naked else 'OVER-COVERED'} {violation.symbol} ({self.account})",
            f"{text}. {consequence}.",
            f"{violation.rule}:{violation.symbol}",
        )
        return bool(cancelled)

    # -- layer 3: daily circuit breaker ------------------------------------------------------------

    async def day_pnl(self, *, reuse: bool = False) -> tuple[DayPnl, Decimal]:
        """(day P&L, start-of-day equity) from the broker's positions, quotes, executions, account.

        ``reuse`` (the event-driven checks, up to once a second): today's fills as last read unless
        a fill or position change came since, and the quotes the level check read a moment ago, so
        the breaker does not hold up the next quote pass with five round trips."""
        held = await self._positions()
        fills = await self._todays_fills(fresh=not reuse)
        signed = _net_bought(fills)
        symbols = sorted(set(held) | {s for s, q in signed.items() if q})  # those the formula values
        quotes: dict[str, Any] = {}
        seen = self._quotes_seen
        if reuse and seen is not None and self.clock() - seen[0] <= timedelta(seconds=1):
            quotes = {s: q for s, q in seen[1].items() if s in symbols}
        quotes.update(await self._prices([s for s in symbols if s not in quotes]))
        prices = {
            s: q.last or _mid(q) or q.close for s, q in quotes.items() if (q.last or _mid(q) or q.close)
        }
        previous_close = {s: q.close for s, q in quotes.items() if q.close}
        pnl = day_pnl(held, prices, fills, previous_close)
        snapshot = await self.broker.account_snapshot()
        start_equity = Decimal(snapshot.net_liquidation) - pnl.total
        return pnl, start_equity

    async def _todays_fills(self, *, fresh: bool) -> pd.DataFrame:
        """The account's executions of the broker's trading day (cached between fills)."""
        if fresh or self._fills_cache is None:
            execs = await self.broker.executions()
            if self.account and "account" in execs.columns and not execs.empty:
                execs = execs[execs["account"].astype(str) == self.account]  # a login may hold several
            self._fills_cache = _todays_fills(execs, await self._broker_now())
        return self._fills_cache

    async def _broker_now(self) -> datetime:
        """The broker's clock decides which trading day it is (the simulator's may differ from ours)."""
        try:
            now: datetime = await self.broker.server_time()
            return now
        except Exception as exc:
            log.warning("monitor.server_time.failed", error=str(exc))
            return self.clock()

    async def check_breaker(self, *, fresh_state: bool = True) -> StepReport:
        """Layer 3: trip when the day's loss reaches the limit. ``fresh_state`` False (the
        event-driven checks) reuses the risk state read at the last poll."""
        report = StepReport()
        self._last_breaker_check = self.clock()
        self._pnl_changed = False
        state = self.risk_state() if fresh_state else self._cached_risk_state()
        if state.halted:
            report.breaker = BreakerDecision(True, f"already halted: {state.halt_reason}", None)
            return report
        pnl, start_equity = await self.day_pnl(reuse=not fresh_state)
        decision = evaluate_breaker(pnl, start_equity, self.limits)
        report.pnl, report.breaker = pnl, decision
        (log.info if decision.tripped else log.debug)(  # checked every second: a trip is the news
            "monitor.breaker.check",
            pnl=str(pnl.total),
            start_equity=str(start_equity),
            tripped=decision.tripped,
        )
        if decision.tripped:
            await self.trip(
                decision.reason,
                report,
                {"pnl": str(pnl.total), "fees": str(pnl.fees), "start_equity": str(start_equity)},
            )
        return report

    async def trip(self, reason: str, report: StepReport, detail: Mapping[str, Any] | None = None) -> None:
        """Halt new entries (in the ledger), then take the account to flat at the broker:

        (a) cancel every open order of every client (the broker's global cancel), (b) wait, on
        broker events, until the broker lists no working order, (c) flatten every position with a
        marketable limit, (d) check flat from the broker's positions, re-sending the flatten for
        what is left, (e) record each step as a risk event and alert. A step that does not finish
        raises a critical alert naming what survived.

        Inside HKEX's windows (``catalyst.risk.window_waits``): cancels a no-cancel window holds
        (PendingCancel) are reported with the time they go, not as failures; when HKEX does not
        trade continuously (lunch, pre-opening, closing auction) no exit could trade before trading
        resumes, so each position is kept protected by a stop and target of the monitor's own (the
        bracket's legs are being cancelled) and the flatten is sent when trading resumes
        (:meth:`flatten_deferred`).
        """
        trip_breaker(
            self.ledger,
            account=self.account,
            message=reason,
            # the later of the two clocks: the halt then lasts past the next session open on the
            # broker's clock (which the cycle judges by) and on the wall clock (`catalyst risk
            # status`); they differ on the simulator, set ahead or behind (issue 10)
            ts=max(self.clock(), await self._broker_now()),
            run_id=self.config.run_id,
            detail=detail,
        )
        self._state_cache = None
        cancel, held_cancels = await self._cancel_everything(reason, report)
        held = await self._positions()
        wait = exit_wait(await self._broker_now()) if held else None
        if wait is not None:
            await self._defer_flatten(held, reason, report, wait, held_cancels)
            left = held
        else:
            left = await self._flatten_all(held, reason, report, cancel)
            await self._report_flat(left, reason, report)
        cancelled = len(cancel.cancelled) if cancel is not None else 0
        waits = ""
        if held_cancels and held_cancels.go_at is not None:
            go_at = hk_time(held_cancels.go_at)
            waits += f"; {len(held_cancels.orders)} cancel(s) held by HKEX until {go_at}"
        if wait is not None:
            waits += f"; positions closed from {hk_time(wait.trades_at)}, when HKEX trades again"
        await self._alert(
            Severity.CRITICAL,
            f"CIRCUIT BREAKER TRIPPED ({self.account})",
            f"{reason}. Orders cancelled at the broker (every client): {cancelled}"
            f"{_failed_note(report)}{waits}; positions closed: "
            f"{sum(a.startswith('flatten') and ' at ' not in a for a in report.actions)}"
            f"{'' if not left or wait is not None else '; NOT FLAT'}. New entries halted until the "
            "next session or `catalyst risk reset --reason TEXT`.",
            f"breaker:{self.account}",
        )

    async def _flatten_all(
        self, held: dict[str, int], reason: str, report: StepReport, cancel: Any
    ) -> dict[str, int]:
        """Steps (c) and (d): flatten every held symbol under its lease, re-sending for what is left;
        returns what the broker still holds after the last attempt."""
        owned: list[str] = []
        try:
            await self._own_for_breaker(sorted(held), owned)
            for attempt in range(1, self.config.flatten_attempts + 1):
                # first attempt: an exit sent after the global cancel (a bracket's failure path that
                # just released, or still holds, the lease) is left to fill; later attempts close the rest
                first = attempt == 1 and held and cancel is not None
                in_flight = await self._exits_in_flight(set(held), cancel) if first else set()
                for symbol in sorted(held):
                    if symbol in in_flight:
                        continue  # another owner's flatten works; wait_flat below watches it
                    await self._close(
                        symbol, report, f"circuit breaker: {reason}", kind="breaker_flatten", alert=False
                    )
                held = await self.broker.wait_flat(sorted(held), self.config.breaker_wait) if held else {}
                if not held:
                    break
                log.warning("monitor.breaker.not_flat", attempt=attempt, held=held)
                self._last_action.clear()  # the next attempt must not be suppressed by the cooldown
                self._last_exit.clear()
        finally:
            for symbol in owned:
                self.leases.release(symbol)
        return held

    async def _report_flat(self, held: Mapping[str, int], reason: str, report: StepReport) -> None:
        if not held:
            self._event("breaker_flat", "critical", "circuit breaker: the broker reports no open position")
            return
        text = ", ".join(f"{s} {q}" for s, q in sorted(held.items()))
        report.errors.append(f"could not close {text} after {self.config.flatten_attempts} attempts")
        self._event(
            "breaker_not_flat", "critical", f"circuit breaker: still holding {text}", None, dict(held)
        )
        await self._alert(
            Severity.CRITICAL,
            f"BREAKER: ACCOUNT NOT FLAT ({self.account})",
            f"{reason}. After {self.config.flatten_attempts} flatten attempts the broker still "
            f"reports {text}. Close by hand.",
            f"breaker-not-flat:{self.account}",
        )

    async def _defer_flatten(
        self,
        held: dict[str, int],
        reason: str,
        report: StepReport,
        wait: ExitWait,
        held_cancels: HeldCancels,
    ) -> None:
        """HKEX does not trade now: keep each position protected by a stop until it does, then flatten.

        The bracket legs are PendingCancel (their cancel goes when the window opens) or gone, so a
        stop of the monitor's own is placed for each position whose stop the ledger holds; it waits
        at IB like every order (HKEX has no stop orders) and is cancelled by the flatten. No target:
        the flatten closes the position when trading resumes. A position without a recorded stop
        gets its flatten now, held by IB until trading resumes."""
        positions = {p.symbol: p for p in await self._guarded()}
        protected: list[str] = []
        owned: list[str] = []
        try:
            await self._own_for_breaker(sorted(held), owned)
            for symbol in sorted(held):
                pos = positions.get(symbol)
                if pos is not None and pos.stop is not None and getattr(self.broker, "protect", None):
                    before = len(report.errors)
                    await self._reprotect(pos, _stop_gap(pos), _stop_until_trading(pos, wait), report)
                    if len(report.errors) == before:
                        protected.append(symbol)
                    continue
                why = f"circuit breaker: {reason}"
                await self._close(symbol, report, why, kind="breaker_flatten", alert=False)
        finally:
            for symbol in owned:
                self.leases.release(symbol)
        if protected:
            self._deferred = DeferredFlatten(tuple(protected), reason, wait.trades_at)
            report.actions += [f"flatten {s} at {hk_time(wait.trades_at)}" for s in protected]
        text = "circuit breaker: " + deferral_text(held_cancels, wait, sorted(held), bool(protected))
        log.warning("monitor.breaker.flatten_deferred", text=text, trades_at=wait.trades_at.isoformat())
        self._event(
            "breaker_flatten_deferred",
            "critical",
            text,
            None,
            {
                "trades_at": wait.trades_at.isoformat(),
                "protected": protected,
                "held_cancels": [str(o) for o in held_cancels.orders],
                "cancels_go_at": held_cancels.go_at.isoformat() if held_cancels.go_at else None,
            },
        )
        await self._alert(
            Severity.CRITICAL,
            f"BREAKER: FLATTEN WAITS FOR HKEX ({self.account})",
            text,
            f"breaker-deferred:{self.account}",
        )

    def _waits_for_breaker(self, gap: ProtectionGap) -> bool:
        """A position the breaker closes when HKEX trades again needs its stop, not a new target."""
        deferred = self._deferred
        if deferred is None or gap.symbol not in deferred.symbols or "stop" in gap.missing:
            return False
        log.info(
            "monitor.protection.breaker_waits", symbol=gap.symbol, flatten_at=deferred.trades_at.isoformat()
        )
        return True

    async def flatten_deferred(self) -> StepReport:
        """The breaker's flatten, when HKEX trades again after a trip it could not close at once."""
        report = StepReport()
        if self._deferred is None and not self._deferred_read:
            self._deferred_read = True  # a monitor restarted during the wait takes the flatten over
            self._deferred = waiting_flatten(self.ledger, self.account)
            if self._deferred is not None:
                log.warning("monitor.breaker.flatten_taken_over", symbols=self._deferred.symbols)
        deferred = self._deferred
        if deferred is None:
            return report
        now = await self._broker_now()
        if exit_wait(now) is not None:
            return report
        self._deferred = None
        positions = await self._positions()
        held = {s: q for s, q in positions.items() if q}
        log.warning("monitor.breaker.flatten_resumes", held=held, at=now.isoformat())
        self._event(
            "breaker_flatten_resumed",
            "critical",
            f"circuit breaker: HKEX trades again ({hk_time(now)}); flattening "
            f"{', '.join(sorted(held)) or 'nothing'}",
            None,
            {"symbols": sorted(held)},
        )
        left = await self._flatten_all(held, deferred.reason, report, None)
        await self._report_flat(left, deferred.reason, report)
        return report

    async def _own_for_breaker(self, symbols: list[str], owned: list[str]) -> None:
        """Take every held symbol's exits lease, waiting at most ``breaker_lease_wait`` (together,
        not one after the other). A symbol whose lease is still held after that is flattened
        anyway: the breaker is the last line (recorded as ``breaker_lease_overridden``)."""
        if not symbols:
            return
        holders = await asyncio.gather(
            *(self.leases.take_waiting(s, self.config.breaker_lease_wait) for s in symbols)
        )
        for symbol, holder in zip(symbols, holders, strict=True):
            if holder is None:
                owned.append(symbol)
                continue
            self._event(
                "breaker_lease_overridden",
                "critical",
                f"circuit breaker: {symbol}'s exits are held by {holder.describe()} after "
                f"{self.config.breaker_lease_wait:.1f} s; flattening without the lease",
                symbol,
                {"holder": holder.describe()},
            )

    async def _exits_in_flight(self, symbols: set[str], cancel: Any) -> set[str]:
        """Of ``symbols``, those with a working order that was not there at the global cancel: the
        flatten of a bracket's failure path, sent after it (nothing else is sent while halted).
        Sending a second one would double the exit and open a reverse position."""
        try:
            orders = await self._account_orders()
        except Exception as exc:
            log.warning("monitor.open_orders.failed", error=str(exc))
            return set()
        before = {o.perm_id for o in getattr(cancel, "before", ())} if cancel is not None else set()
        fresh = orders[~orders["perm_id"].isin(before)] if not orders.empty else orders
        return {str(s) for s in fresh["symbol"]} & symbols if not fresh.empty else set()

    async def _cancel_everything(self, reason: str, report: StepReport) -> tuple[Any, HeldCancels]:
        """Steps (a) and (b) of the breaker: the global cancel and the wait for no working order.

        Inside a no-cancel window the wait is short: the cancels HKEX holds cannot finish before the
        window opens; they are reported with the time they go (``breaker_cancels_held``), not as
        survivors."""
        now = await self._broker_now()
        in_window = not may_cancel(now).allowed
        wait = min(self.config.breaker_wait, HELD_CANCEL_WAIT) if in_window else self.config.breaker_wait
        try:
            result = await self.broker.cancel_all(wait)
        except Exception as exc:
            text = f"{type(exc).__name__}: {exc}"
            report.errors.append(f"cancel all orders: {text}")
            self._event("cancel_failed", "critical", f"circuit breaker: global cancel failed: {text}")
            await self._alert(
                Severity.CRITICAL,
                f"BREAKER: CANCEL FAILED ({self.account})",
                f"{reason}. The global cancel failed ({text}); cancel every working order in "
                "TWS/Gateway by hand.",
                f"breaker-cancel:{self.account}",
            )
            return None, HeldCancels((), None, "")
        held, failed = split_survivors(result.survivors, now)
        if in_window and failed:
            held, failed = await self._settle_in_window(result.before, now, wait)
        report.actions += [f"cancel {o.order_ref or o.perm_id}" for o in result.cancelled]
        if held.go_at is not None:
            go_at = hk_time(held.go_at)
            report.actions += [f"cancel {o.order_ref or o.perm_id} at {go_at}" for o in held.orders]
        self._event(
            "breaker_cancel_all",
            "critical",
            f"circuit breaker: global cancel of {len(result.before)} working order(s) "
            f"in {result.waited_seconds:.2f}s",
            None,
            {
                "cancelled": [str(o) for o in result.cancelled],
                "survivors": [str(o) for o in failed],
                "held": [str(o) for o in held.orders],
            },
        )
        if held:
            log.warning(
                "monitor.breaker.cancels_held", go_at=str(held.go_at), orders=[str(o) for o in held.orders]
            )
            self._event(
                "breaker_cancels_held",
                "warning",
                "circuit breaker: " + held.describe(),
                None,
                {
                    "orders": [str(o) for o in held.orders],
                    "go_at": held.go_at.isoformat() if held.go_at else None,
                    "window": held.window,
                },
            )
        if failed:
            names = "; ".join(str(o) for o in failed)
            report.errors.append(f"cancel: still working after the global cancel: {names}")
            self._event(
                "cancel_failed",
                "critical",
                f"circuit breaker: still working after the global cancel: {names}",
                None,
                {"survivors": [str(o) for o in failed]},
            )
            await self._alert(
                Severity.CRITICAL,
                f"BREAKER: ORDERS SURVIVED THE CANCEL ({self.account})",
                f"{reason}. Still working after {wait:.0f}s: {names}. Cancel them "
                "in TWS/Gateway: filled on a flat book they open a reverse position.",
                f"breaker-survivors:{self.account}",
            )
        return result, held

    async def _settle_in_window(
        self, before: Sequence[WorkingOrder], now: datetime, waited: float
    ) -> tuple[HeldCancels, tuple[WorkingOrder, ...]]:
        """Inside a no-cancel window, give the orders whose cancel was not acknowledged yet the rest
        of ``breaker_wait`` to become PendingCancel (held) or done, re-reading the broker's orders."""
        deadline = time.monotonic() + max(self.config.breaker_wait - waited, 0.0)
        asked = {o.perm_id for o in before}
        while True:
            survivors = [o for o in working_orders(await self._account_orders()) if o.perm_id in asked]
            held, failed = split_survivors(survivors, now)
            if not failed or time.monotonic() >= deadline:
                return held, failed
            await asyncio.sleep(0.25)

    # -- sync and reconciliation -------------------------------------------------------------------

    async def sync_orders(self) -> pd.DataFrame:
        changes: pd.DataFrame = await self.broker.sync_order_status()
        log.info("monitor.sync.done", changes=len(changes))
        return changes

    async def reconcile(self) -> Any:
        if self.reconcile_fn is None:
            return None
        return await self.reconcile_fn()

    # -- scheduling --------------------------------------------------------------------------------

    async def _breaker_if_changed(self) -> StepReport:
        """The breaker between polls: only when the P&L may have moved, at most once a while."""
        last = self._last_breaker_check
        spaced = last is None or self.clock() - last >= timedelta(seconds=self.config.breaker_event_interval)
        if not self._pnl_changed or not spaced:
            return StepReport()
        return await self.check_breaker(fresh_state=False)

    async def poll(self) -> StepReport:
        """The safety net: protection, breaker, then the level check, in one pass."""
        merged = StepReport()
        for step in (self.flatten_deferred, self.check_protection, self.check_breaker, self.check_quotes):
            part = await step()
            merged.breaches += part.breaches
            merged.gaps += part.gaps
            merged.actions += part.actions
            merged.errors += part.errors
            merged.breaker = merged.breaker or part.breaker
            merged.pnl = merged.pnl or part.pnl
        return merged

    def _is_due(self, name: str, interval: float, now: datetime) -> bool:
        due = self._due.get(name)
        if due is None or now >= due:
            self._due[name] = now + timedelta(seconds=interval)
            return True
        return False

    async def run_once(self) -> StepReport:
        """Run every duty that is due now (each at most once); the first call runs them all.

        Between polls: a position change or fill reported by the broker checks protection and exits
        at once; a finding whose grace ends now (a breach, an exit without a position, a symbol
        another process owned) is looked at again; the breaker is re-checked when the day's P&L may
        have changed (a fill, a moved quote), at most once per ``breaker_event_interval``.
        """
        now = self.clock()
        report = StepReport()
        self._note_reconnect()
        cfg = self.config
        events = self._take_events()
        deadline = self._next_deadline()
        steps: list[tuple[str, Callable[[], Awaitable[Any]]]] = []
        if self._is_due("reconcile", cfg.reconcile_interval, now):
            steps.append(("reconcile", self.reconcile))
        if self._is_due("sync", cfg.sync_interval, now):
            steps.append(("sync", self.sync_orders))
        if self._is_due("poll", cfg.poll_interval, now):
            steps.append(("poll", self.poll))
        else:
            if events or (deadline is not None and now >= deadline):
                steps.append(("protection", self.check_protection))
            breach_due = self.tracker.next_due()
            breach_now = breach_due is not None and now >= breach_due
            if self._is_due("quotes", cfg.quote_interval, now) or breach_now:
                steps.append(("quotes", self.check_quotes))
            steps.append(("breaker", self._breaker_if_changed))
            if self._deferred is not None:
                steps.append(("deferred flatten", self.flatten_deferred))
        for name, step in steps:
            try:
                with self.polls.quiet(name):
                    result = await step()
            except Exception as exc:
                self._due.pop(name, None)  # retry on the next pass
                text = f"{type(exc).__name__}: {exc}"
                report.errors.append(f"{name}: {text}")
                log.error("monitor.step.failed", step=name, error=str(exc), error_type=type(exc).__name__)
                self._failures[name] = self._failures.get(name, 0) + 1
                if self._failures[name] == FAILURES_BEFORE_ALERT:
                    await self._alert(
                        Severity.CRITICAL,
                        f"Monitor cannot {name} ({self.account})",
                        f"{FAILURES_BEFORE_ALERT} failures in a row, the last: {text}. "
                        "The monitor keeps trying.",
                        f"step-failed:{self.account}:{name}",
                    )
                continue
            self._failures[name] = 0
            if isinstance(result, StepReport):
                report.breaches += result.breaches
                report.gaps += result.gaps
                report.actions += result.actions
                report.errors += result.errors
                report.breaker = report.breaker or result.breaker
        self.passes += 1
        self.polls.pass_done(self.clock())
        return report

    def _note_reconnect(self) -> None:
        """After a reconnect, sync and reconcile at once (fills may have happened while away)."""
        conn = getattr(self.broker, "connection", None)
        epoch = getattr(conn, "epoch", None)
        if epoch is None:
            return
        if self._epoch is not None and epoch != self._epoch:
            log.warning("monitor.reconnected", epoch=epoch)
            self._due.pop("sync", None)
            self._due.pop("reconcile", None)
            self._due.pop("poll", None)
        self._epoch = epoch

    async def note_connection(self, up: bool) -> None:
        """Track gateway outages; alert once when one lasts longer than ``down_alert_after``."""
        now = self.clock()
        if up:
            if self._down_since is not None:
                down_for = (now - self._down_since).total_seconds()
                log.warning("monitor.gateway.back", down_seconds=down_for)
                if self._down_alerted:
                    await self._alert(
                        Severity.WARNING,
                        f"Gateway back ({self.account})",
                        f"connected again after {down_for:.0f} s; resynchronising",
                        f"gw-up:{self.account}",
                    )
            self._down_since, self._down_alerted = None, False
            return
        if self._down_since is None:
            self._down_since = now
            log.critical("monitor.gateway.down")
        elif (
            not self._down_alerted
            and (now - self._down_since).total_seconds() >= self.config.down_alert_after
        ):
            self._down_alerted = True
            self._event(
                "gateway_down",
                "critical",
                f"gateway unreachable for more than "
                f"{self.config.down_alert_after:.0f} s; positions are only protected by orders at the broker",
            )
            await self._alert(
                Severity.CRITICAL,
                f"GATEWAY DOWN ({self.account})",
                f"no connection for {(now - self._down_since).total_seconds():.0f} s; the monitor keeps "
                "retrying. Positions rely on the broker-held stops meanwhile.",
                f"gw-down:{self.account}",
            )

    async def run(
        self,
        stop: asyncio.Event,
        *,
        connect: Callable[[], Awaitable[Any]] | None = None,
        tick: float | None = None,
    ) -> None:
        """The daemon loop until ``stop`` is set. ``connect`` (re)establishes the session when the
        first connection fails; afterwards the broker session reconnects by itself. A watcher task
        tracks the connection on its own, so an outage is noticed even while a step waits on it."""
        tick = tick if tick is not None else min(self.config.quote_interval, 1.0)
        log.info(
            "monitor.start",
            account=self.account,
            config=str(self.config),
            market_data=self.market_data_type(),
        )
        await self.announce_market_data()
        connected = asyncio.Event()
        if connect is None:
            connected.set()
        watcher = asyncio.create_task(self._watch_connection(stop, connected, tick))
        retry_at, delay = 0.0, tick / 2
        try:
            while not stop.is_set():
                if not connected.is_set() and connect is not None and time.monotonic() >= retry_at:
                    try:
                        await connect()
                        connected.set()
                    except Exception as exc:
                        delay = min(CONNECT_RETRY_MAX, max(tick, 2 * delay))
                        retry_at = time.monotonic() + delay
                        log.warning("monitor.connect.failed", error=str(exc), retry_in=delay)
                if connected.is_set() and bool(getattr(self.broker, "is_ready", True)):
                    await self.run_once()
                await self._pause(stop, tick)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        log.info("monitor.stop", account=self.account)

    async def _pause(self, stop: asyncio.Event, tick: float) -> None:
        """Until the next tick, a broker event, a finding's grace ending, or ``stop``."""
        if self._events or stop.is_set():
            return
        timeout = tick
        deadline = self._next_deadline()
        if deadline is not None:
            timeout = max(0.0, min(timeout, (deadline - self.clock()).total_seconds()))
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()

    async def _watch_connection(self, stop: asyncio.Event, connected: asyncio.Event, tick: float) -> None:
        while not stop.is_set():
            up = connected.is_set() and bool(getattr(self.broker, "is_ready", True))
            await self.note_connection(up)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), tick)


def _violation_key(v: Violation) -> str:
    return f"{v.rule}:{v.symbol}:" + ",".join(sorted(str(p) for p in v.perm_ids) or sorted(v.order_refs))


def _orders_named(orders: pd.DataFrame, v: Violation) -> list[dict[str, Any]]:
    """The open-order rows a violation names (by permId, else by orderRef)."""
    if orders.empty:
        return []
    perms, refs = set(v.perm_ids), set(v.order_refs)
    rows: list[dict[str, Any]] = []
    for r in orders.to_dict("records"):
        perm = r.get("perm_id")
        if (perm and int(perm) in perms) or (not perms and str(r.get("order_ref") or "") in refs):
            client = r.get("client_id")
            rows.append(
                {
                    "order_ref": str(r.get("order_ref") or ""),
                    "perm_id": int(perm or 0),
                    "client_id": None if client is None or pd.isna(client) else int(client),
                    "side": str(r.get("side")),
                    "order_type": str(r.get("order_type")),
                    "remaining": r.get("remaining", r.get("quantity")),
                }
            )
    return rows


def _describe(order: Mapping[str, Any]) -> str:
    return (
        f"{order['side']} {order['order_type']} x{order['remaining']} "
        f"{order['order_ref'] or '(no orderRef)'} (client {order['client_id']})"
    )


def placed_plan(repair: ProtectionRepair, stop: Decimal | None, target: Decimal | None) -> str:
    """What a repair places, e.g. "stop 9.5 x100 and target 11 x100"."""
    return " and ".join(
        f"{name} {level} x{qty}"
        for name, level, qty in (
            ("stop", stop, repair.stop_quantity),
            ("target", target, repair.target_quantity),
        )
        if level is not None
    )


def _failed_note(report: StepReport) -> str:
    failed = [e for e in report.errors if e.startswith(("cancel", "could not close"))]
    return f" (FAILED: {'; '.join(failed)}: act by hand)" if failed else ""


def _mid(q: Any) -> Decimal | None:
    if q.bid and q.ask:
        return Decimal((q.bid + q.ask) / 2)
    return None


def _net_bought(fills: pd.DataFrame) -> dict[str, int]:
    """Signed shares bought today per symbol (a symbol bought and sold back nets to 0)."""
    out: dict[str, int] = {}
    for symbol, side, qty in zip(fills["symbol"], fills["side"], fills["quantity"], strict=True):
        sign = 1 if str(side).upper() in ("BUY", "BOT") else -1
        out[str(symbol)] = out.get(str(symbol), 0) + sign * int(qty)
    return out


def _todays_fills(executions: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Executions since the start of today's HKEX session (pre-open), as fills for the breaker."""
    columns = ["symbol", "side", "quantity", "price", "fees"]
    if executions is None or executions.empty:
        return pd.DataFrame(columns=columns)
    local = now.astimezone(HK_TZ)
    day = session_for(local.date())
    start = day.pre_open if day is not None else local.replace(hour=0, minute=0, second=0, microsecond=0)
    times = pd.to_datetime(executions["time"] if "time" in executions else executions["ts"], utc=True)
    today = executions[(times >= pd.Timestamp(start)).to_numpy()]
    fees = today["commission"] if "commission" in today else pd.Series([None] * len(today), index=today.index)
    return pd.DataFrame(
        {
            "symbol": today["symbol"].astype(str),
            "side": today["side"].astype(str),
            "quantity": today["quantity"].astype("int64"),
            "price": today["price"],
            "fees": fees,
        }
    )


def _positions_table(ledger: Ledger, account: str) -> pd.DataFrame:
    return ledger.query("SELECT * FROM positions WHERE account = ? AND quantity <> 0", [account])


#: The risk events that start, end or cancel a breaker's wait for HKEX to trade.
_WAIT_KINDS = ("breaker_tripped", "breaker_flatten_deferred", "breaker_flatten_resumed", "breaker_reset")


def waiting_flatten(ledger: Ledger, account: str) -> DeferredFlatten | None:
    """The breaker flatten an earlier monitor left waiting for HKEX to trade (the account's last
    breaker event is ``breaker_flatten_deferred``), else None."""
    if not account:
        return None
    kinds = ", ".join(f"'{k}'" for k in _WAIT_KINDS)
    events = ledger.query(
        f"SELECT ts, kind, message, detail FROM risk_events WHERE account = ? AND kind IN ({kinds}) "
        "ORDER BY ts",
        [account],
    )
    if events.empty or str(events["kind"].iloc[-1]) != "breaker_flatten_deferred":
        return None
    raw = events["detail"].iloc[-1]
    detail = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
    trips = events[events["kind"] == "breaker_tripped"]
    reason = str(trips["message"].iloc[-1]) if not trips.empty else "circuit breaker"
    symbols = tuple(str(s) for s in detail.get("protected") or ())
    if not symbols or not detail.get("trades_at"):
        return None
    return DeferredFlatten(symbols, reason, datetime.fromisoformat(str(detail["trades_at"])))


def _stop_gap(pos: GuardedPosition) -> ProtectionGap:
    return ProtectionGap(pos.symbol, pos.quantity, ("stop",), 0, 0)


def _stop_until_trading(pos: GuardedPosition, wait: ExitWait) -> ProtectionRepair:
    """The breaker's stop for a position it flattens when HKEX trades again (a group of its own)."""
    return ProtectionRepair(
        symbol=pos.symbol,
        position=pos.quantity,
        kind="breaker_stop",
        stop_quantity=abs(pos.quantity),
        target_quantity=0,
        oca_group="",
        surviving=(),
        reason=f"the breaker flattens {pos.symbol} at {hk_time(wait.trades_at)}, when HKEX trades again",
    )
