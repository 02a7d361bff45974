"""The broker, as the rest of Catalyst sees it: one async session over one gateway connection.

Sim, paper and live differ only in settings (host, port, client id, account). Every answer is a
plain value or a DataFrame; the ib_async objects stay inside this package (rule 4).

    session = BrokerSession(settings, ledger=ledger, run_id=run_id, on_risk_event=alerts.raise_)
    await session.connect()
    bracket = await session.submit_bracket(intent)   # proven at the broker, or it raised
    changes = await session.sync_order_status()      # every 60 s at least (rule 7)
    await session.close()

In a notebook (papermill runs a kernel with a running loop) use ``await`` at top level; in a
plain script or the CLI use :class:`SyncBrokerSession`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Coroutine, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import pandas as pd
import structlog

from catalyst.broker.bracket_plan import DEFAULT_STOP_LIMIT_TICKS
from catalyst.broker.bracket_submit import BracketSubmitter, VerifiedBracket
from catalyst.broker.connection import DEFAULT_RECONNECT_DELAYS, BrokerConnection
from catalyst.broker.contracts_cache import ContractsCache, SehkContract
from catalyst.broker.errors import OrderNotFoundError, ReadOnlySessionError, SymbolLockedError
from catalyst.broker.exit_orders import DEFAULT_FLATTEN_TICKS, ExitOrder
from catalyst.broker.exit_sender import ExitSender
from catalyst.broker.global_cancel import GlobalCancelResult, working_orders
from catalyst.broker.order_latency import LatencyReport, latency_report
from catalyst.broker.order_recorder import LedgerRecorder, RiskHook
from catalyst.broker.placement import OrderPlacer
from catalyst.broker.protection import ProtectionRequest, Protector
from catalyst.broker.queries import AccountSnapshot, BrokerQueries, Quote
from catalyst.broker.report_log import BrokerReports
from catalyst.broker.status_sync import StatusSync
from catalyst.config import Settings
from catalyst.domain import BracketIntent
from catalyst.domain.order_status import DONE_AT_BROKER
from catalyst.ledger import Ledger

log = structlog.get_logger(__name__)

T = TypeVar("T")


class BrokerSession:
    """Async facade over connection, contracts, queries, the one order path (``placer``: brackets
    through ``submitter``, protection through ``protection``, flattens through ``exits``) and
    status sync."""

    def __init__(
        self,
        settings: Settings,
        *,
        ledger: Ledger | None = None,
        run_id: str = "",
        on_risk_event: RiskHook | None = None,
        client_id: int | None = None,
        readonly: bool | None = None,
        proof_timeout: float | None = None,
        hold_timeout: float | None = None,
        stop_limit_ticks: int = DEFAULT_STOP_LIMIT_TICKS,
        flatten_ticks: int = DEFAULT_FLATTEN_TICKS,
        reconnect_delays: tuple[float, ...] = DEFAULT_RECONNECT_DELAYS,
    ) -> None:
        b = settings.broker
        self.settings = settings
        self.ledger = ledger
        self.run_id = run_id
        self.request_timeout = float(b.request_timeout)
        self.proof_timeout = float(
            proof_timeout if proof_timeout is not None else min(b.request_timeout, 15.0)
        )
        self.hold_timeout = float(hold_timeout if hold_timeout is not None else b.request_timeout)
        self.reports = BrokerReports()
        self.connection = BrokerConnection(
            host=b.host,
            port=settings.broker_port,
            client_id=b.client_id if client_id is None else client_id,
            account=b.account,
            connect_timeout=b.connect_timeout,
            readonly=b.readonly if readonly is None else readonly,
            reports=self.reports,
            resync=self._resync,
            reconnect_delays=reconnect_delays,
            market_data_type=b.market_data_type,
        )
        self.recorder = LedgerRecorder(
            ledger,
            run_id=run_id,
            account=b.account,
            client_id=self.connection.client_id,
            on_risk_event=on_risk_event,
        )
        self.reports.add_sink(self.recorder.on_report)
        self.contracts = ContractsCache(
            self.connection.ib,
            request_timeout=self.request_timeout,
            on_lock=self._on_symbol_locked,
            is_locked_elsewhere=self._ledger_lock,
        )
        self.queries = BrokerQueries(
            self.connection, self.reports, self.contracts, request_timeout=self.request_timeout
        )
        #: the one path every order takes (brackets, protection, exits): map, record, place, prove
        self.placer = OrderPlacer(
            self.connection, self.reports, self.recorder, proof_timeout=self.proof_timeout
        )
        self.exits = ExitSender(self.placer, self.queries, ticks=flatten_ticks)
        self.protection = Protector(self.placer, stop_limit_ticks=stop_limit_ticks)
        self.submitter = BracketSubmitter(
            self.placer,
            self.contracts,
            self.exits,
            hold_timeout=self.hold_timeout,
            stop_limit_ticks=stop_limit_ticks,
            state_dir=settings.state_dir,
            # the monitor's repair of a symbol (protect, perhaps flatten) proves within two proofs
            exits_wait=2 * self.proof_timeout + 5.0,
        )
        self.status_sync = StatusSync(
            ledger,
            self.reports,
            self.queries,
            self.recorder,
            account_getter=lambda: self.connection.account,
            client_id=self.connection.client_id,
        )

    # -- life cycle --------------------------------------------------------------------------------

    @property
    def account(self) -> str:
        return self.connection.account

    @property
    def client_id(self) -> int:
        return self.connection.client_id

    @property
    def readonly(self) -> bool:
        return self.connection.readonly

    @property
    def is_ready(self) -> bool:
        return self.connection.ready.is_set() and self.connection.connected

    async def connect(self) -> BrokerSession:
        self.recorder.start()
        await self.connection.connect()
        self.recorder.account = self.connection.account
        return self

    async def close(self) -> None:
        await self.connection.close()
        await self.recorder.stop()

    async def __aenter__(self) -> BrokerSession:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _resync(self, reason: str) -> None:
        """After every (re)connect: all open orders, completed orders, executions, positions."""
        self.recorder.account = self.connection.account
        log.info("broker.resync.start", reason=reason)
        open_perms = await self.queries.refresh_open_orders()
        completed: set[int] = set()
        if not self.readonly:
            completed = await self.queries.refresh_completed_orders()
        executions = await self.queries.refresh_executions()
        positions = await self.queries.positions()
        for e in executions:
            if e.account == self.connection.account:
                self.recorder.on_report(e)
        if reason != "connect" and self.ledger is not None:
            await self.status_sync.run()
        await self.recorder.flush()
        log.info(
            "broker.resync.done",
            reason=reason,
            open_orders=len(open_perms),
            completed_orders=len(completed),
            executions=len(executions),
            positions=len(positions),
        )

    # -- queries -----------------------------------------------------------------------------------

    async def _ready(self) -> None:
        await self.connection.wait_ready(self.hold_timeout)

    async def account_snapshot(self) -> AccountSnapshot:
        await self._ready()
        return await self.queries.account_snapshot()

    async def positions(self) -> pd.DataFrame:
        await self._ready()
        return await self.queries.positions()

    async def open_orders(self) -> pd.DataFrame:
        """Open orders of every client of the account (reqAllOpenOrders), as the broker reports them."""
        await self._ready()
        return await self.queries.open_orders()

    async def executions(self) -> pd.DataFrame:
        await self._ready()
        return await self.queries.executions()

    async def orders(self) -> pd.DataFrame:
        """Every order the broker lists for the account, open or completed, of every client id."""
        await self._ready()
        return await self.queries.orders()

    async def quote(self, symbol: str) -> Quote:
        await self._ready()
        return await self.queries.quote(symbol)

    async def bars(
        self,
        symbol: str,
        *,
        duration: str = "30 D",
        bar_size: str = "1 day",
        what_to_show: str = "TRADES",
        use_rth: bool = True,
        end: datetime | date | None = None,
    ) -> pd.DataFrame:
        await self._ready()
        return await self.queries.bars(
            symbol, duration=duration, bar_size=bar_size, what_to_show=what_to_show, use_rth=use_rth, end=end
        )

    async def server_time(self) -> datetime:
        await self._ready()
        return await self.queries.server_time()

    async def contract(self, symbol: str) -> SehkContract:
        """The broker's description of a symbol (qualified once, cross-checked with catalyst.market)."""
        await self._ready()
        return (await self.contracts.resolve(symbol, for_orders=False))[1]

    async def prepare(self, symbols: Iterable[str]) -> dict[str, str]:
        """Qualify and cross-check ``symbols`` ahead of trading; returns the locked ones with reasons.

        A cycle calls this before its first submission so that no bracket waits for a contract
        lookup or a ledger lock check.
        """
        await self._ready()
        refused: dict[str, str] = {}
        for symbol in symbols:
            try:
                await self.contracts.resolve(symbol)
            except SymbolLockedError as exc:
                refused[symbol] = str(exc)
        return refused

    def locked_symbols(self) -> dict[str, str]:
        return self.contracts.locked()

    # -- orders ------------------------------------------------------------------------------------

    def order_status(self, order_ref: str) -> str | None:
        """The newest status the broker reported for this orderRef (None if it never reported it)."""
        best: tuple[datetime, str] | None = None
        for rep in self.reports.orders_with_ref(order_ref):
            candidates = [(rep.received_at, rep.status)]
            st = self.reports.latest_status(perm_id=rep.perm_id)
            if st is not None:
                candidates.append((st.received_at, st.status))
            newest = max(candidates)
            if best is None or newest > best:
                best = newest
        return best[1] if best else None

    async def wait_for_order(
        self, order_ref: str, statuses: Iterable[str], timeout: float | None = None
    ) -> str | None:
        """Wait, woken by broker messages, until the order reports one of ``statuses``; None on timeout."""
        wanted = set(statuses)

        def probe() -> str | None:
            status = self.order_status(order_ref)
            return status if status in wanted else None

        return await self.reports.wait_for(probe, self.proof_timeout if timeout is None else timeout)

    async def submit_bracket(self, intent: BracketIntent, *, adopt_only: bool = False) -> VerifiedBracket:
        """Send a bracket and prove it at the broker; raises BracketVerificationError otherwise.

        ``adopt_only``: a rerun resuming a crashed run's intent; its legs are adopted and proven,
        and nothing is placed when the broker lists none of them (NothingToAdoptError).
        """
        return await self.submitter.submit(intent, adopt_only=adopt_only)

    async def sync_order_status(self) -> pd.DataFrame:
        """Bring every non-terminal ledger order up to date; returns the changes (one row each)."""
        await self._ready()
        try:
            server_now = await self.queries.server_time()
        except Exception:  # the sync must not depend on reqCurrentTime
            server_now = None
        return await self.status_sync.run(server_now=server_now)

    async def cancel(self, order_ref: str) -> str:
        """Cancel the working order with this orderRef (placed by this client id); returns its status."""
        self._require_trading("cancel " + order_ref)
        await self._ready()
        await self.queries.refresh_open_orders()
        candidates = [
            r
            for r in self.reports.orders_with_ref(order_ref)
            if r.status not in DONE_AT_BROKER and r.client_id == self.client_id
        ]
        if not candidates:
            raise OrderNotFoundError(
                f"no working order with orderRef {order_ref!r} placed by client id {self.client_id} "
                "is open at the broker"
            )
        rep = max(candidates, key=lambda r: r.received_at)
        await self.placer.cancel_reported([rep])
        outcome = self.placer.done_status(rep.perm_id)
        await self.recorder.flush()
        return outcome or "PendingCancel"

    async def cancel_all(self, timeout: float | None = None) -> GlobalCancelResult:
        """Cancel every open order of the gateway login, whichever client placed it (reqGlobalCancel).

        Then wait, woken by broker messages and re-reading reqAllOpenOrders after each, until the
        broker lists no working order, or ``timeout`` (default: the proof timeout) passes. Returns
        the orders working before and those that survived; every step is in the ledger and the log.
        IB's global cancel covers every account of the login, not only this session's account.
        """
        self._require_trading("global cancel")
        await self._ready()
        limit = self.proof_timeout if timeout is None else float(timeout)
        before = working_orders(await self.queries.open_orders())
        log.critical(
            "broker.global_cancel.request",
            working=[str(o) for o in before],
            client_id=self.client_id,
            timeout=limit,
        )
        self.connection.ib.reqGlobalCancel()
        for o in before:
            self.recorder.order_event(
                o.order_ref or None,
                source="global_cancel",
                status="cancel_requested",
                perm_id=o.perm_id,
            )
        started = time.monotonic()
        survivors = before
        while True:
            survivors = working_orders(await self.queries.open_orders())
            remaining = limit - (time.monotonic() - started)
            if not survivors or remaining <= 0:
                break
            # the owners of other clients' orders get their status; this client learns by re-reading
            await self._next_message(min(remaining, 0.25))
        result = GlobalCancelResult(before, survivors, round(time.monotonic() - started, 3))
        for o in result.cancelled:
            self.recorder.order_event(
                o.order_ref or None, source="global_cancel", status="cancel_confirmed", perm_id=o.perm_id
            )
        if survivors:
            self.recorder.risk_event(
                "global_cancel_incomplete",
                severity="critical",
                message=f"global cancel left {len(survivors)} order(s) working after {limit:.0f}s: "
                + "; ".join(str(o) for o in survivors),
                detail={"survivors": [str(o) for o in survivors]},
            )
        log.critical(
            "broker.global_cancel.done",
            cancelled=[str(o) for o in result.cancelled],
            survivors=[str(o) for o in survivors],
            waited_seconds=result.waited_seconds,
        )
        await self.recorder.flush()
        return result

    async def _next_message(self, timeout: float) -> None:
        """Return at the next message from the broker (any kind), or after ``timeout``."""
        seen = self.reports.version

        def changed() -> bool | None:
            return True if self.reports.version != seen else None

        await self.reports.wait_for(changed, timeout)

    async def wait_flat(
        self, symbols: Iterable[str] | None = None, timeout: float | None = None
    ) -> dict[str, int]:
        """Wait, woken by broker messages, until the broker reports no position (in ``symbols``, or
        at all). Returns what is still held when the wait ends (empty: flat)."""
        await self._ready()
        limit = self.proof_timeout if timeout is None else float(timeout)
        wanted = None if symbols is None else set(symbols)
        started = time.monotonic()
        while True:
            frame = await self.queries.positions()
            held: dict[str, int] = {}
            row: Any
            for row in frame.itertuples(index=False):
                sym = str(row.symbol)
                if (wanted is None or sym in wanted) and int(row.quantity):
                    held[sym] = held.get(sym, 0) + int(row.quantity)
            remaining = limit - (time.monotonic() - started)
            if not held or remaining <= 0:
                return held
            await self._next_message(min(remaining, 0.25))

    async def flatten(self, symbol: str) -> ExitOrder | None:
        """Close the account's whole position in ``symbol`` with a marketable limit; None if flat.

        Working orders of this client in the symbol are cancelled first, so a stop cannot fire
        into the flatten. Orders of other clients cannot be cancelled one by one (IB allows that
        only to their owner); :meth:`cancel_all` is the way to remove those.
        """
        self._require_trading("flatten " + symbol)
        await self._ready()
        contract, described = await self.contracts.resolve(symbol, for_orders=False)
        positions = await self.queries.positions()
        held = positions[positions["symbol"] == described.symbol]
        quantity = int(held["quantity"].sum()) if not held.empty else 0
        if quantity == 0:
            log.info("broker.flatten.nothing", symbol=described.symbol)
            return None
        await self.queries.refresh_open_orders()
        return await self.exits.flatten(contract, described, quantity)

    async def protect(
        self,
        symbol: str,
        quantity: int,
        *,
        stop: Decimal | None,
        target: Decimal | None,
        oca_group: str | None = None,
    ) -> list[str]:
        """Place protection for a held position: take-profit LMT and/or stop STP LMT, OCA type 3.

        ``quantity`` is signed like the position (long > 0: SELL orders) and is the size of each
        leg placed. ``stop`` / ``target`` None places no leg of that role (at least one is needed).
        ``oca_group`` None puts the legs in a new group of their own (``<run>:<symbol>:PROT<n>``);
        a group name joins an existing group, e.g. the surviving leg of a bracket
        (``<intent_id>:OCA``), so a fill of either reduces the other (IB ocaType 3; assumed: IB
        links orders of one account by ocaGroup name across API clients, as the simulator does).
        Every leg is proven like a bracket leg (broker-reported side, type, quantity, prices,
        account, OCA group); on failure the placed legs are cancelled, a ``protection_unproven``
        risk event is recorded and BracketVerificationError is raised. Returns the orderRefs
        placed (take profit first).
        """
        self._require_trading(f"protect {symbol}")
        await self._ready()
        contract, described = await self.contracts.resolve(symbol)
        request = ProtectionRequest(described.symbol, quantity, stop=stop, target=target, oca_group=oca_group)
        return await self.protection.place(request, contract, described)

    def _require_trading(self, what: str) -> None:
        if self.readonly:
            raise ReadOnlySessionError(f"this broker session is read-only; {what} was not sent")

    # -- symbol locks ------------------------------------------------------------------------------

    def _on_symbol_locked(self, symbol: str, reason: str, detail: dict[str, Any]) -> None:
        self.recorder.risk_event(
            "symbol_locked",
            severity="critical",
            symbol=symbol,
            message=f"trading {symbol} refused: broker contract details disagree with catalyst.market: "
            f"{reason}",
            detail=detail,
        )

    def _ledger_lock(self, symbol: str) -> str | None:
        """A ``symbol_locked`` risk event without a later ``symbol_unlocked`` keeps the symbol locked."""
        if self.ledger is None:
            return None
        try:
            df = self.ledger.query(
                "SELECT kind, message FROM risk_events WHERE symbol = ? AND kind IN ('symbol_locked', "
                "'symbol_unlocked') ORDER BY ts DESC LIMIT 1",
                [symbol],
            )
        except Exception as exc:
            log.warning("broker.lock_check.failed", symbol=symbol, error=str(exc))
            return None
        if not df.empty and df.iloc[0]["kind"] == "symbol_locked":
            return f"locked in the ledger: {df.iloc[0]['message']}"
        return None

    # -- reports -----------------------------------------------------------------------------------

    def latencies(self, *, run_id: str | None = None) -> LatencyReport:
        """Placement-to-ack and placement-to-fill latencies (p50, p95) from the ledger."""
        if self.ledger is None:
            return LatencyReport(0, 0, 0, None, None, None, None)
        return latency_report(self.ledger, run_id=run_id, account=self.account or None)


class SyncBrokerSession:
    """Blocking wrapper for scripts and the CLI (not for notebooks: there, ``await`` the async one)."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._kwargs = kwargs
        self._settings = settings
        self.session: BrokerSession = self._run(self._make())

    async def _make(self) -> BrokerSession:
        return BrokerSession(self._settings, **self._kwargs)

    def _run(self, coro: Coroutine[Any, Any, T] | Awaitable[T]) -> T:
        return self._loop.run_until_complete(coro)

    def connect(self) -> SyncBrokerSession:
        self._run(self.session.connect())
        return self

    def close(self) -> None:
        try:
            self._run(self.session.close())
        finally:
            self._loop.close()

    def __enter__(self) -> SyncBrokerSession:
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def account_snapshot(self) -> AccountSnapshot:
        return self._run(self.session.account_snapshot())

    def positions(self) -> pd.DataFrame:
        return self._run(self.session.positions())

    def open_orders(self) -> pd.DataFrame:
        return self._run(self.session.open_orders())

    def executions(self) -> pd.DataFrame:
        return self._run(self.session.executions())

    def quote(self, symbol: str) -> Quote:
        return self._run(self.session.quote(symbol))

    def bars(self, symbol: str, **kwargs: Any) -> pd.DataFrame:
        return self._run(self.session.bars(symbol, **kwargs))

    def server_time(self) -> datetime:
        return self._run(self.session.server_time())

    def submit_bracket(self, intent: BracketIntent, *, adopt_only: bool = False) -> VerifiedBracket:
        return self._run(self.session.submit_bracket(intent, adopt_only=adopt_only))

    def orders(self) -> pd.DataFrame:
        return self._run(self.session.orders())

    def sync_order_status(self) -> pd.DataFrame:
        return self._run(self.session.sync_order_status())

    def cancel(self, order_ref: str) -> str:
        return self._run(self.session.cancel(order_ref))

    def flatten(self, symbol: str) -> ExitOrder | None:
        return self._run(self.session.flatten(symbol))

    def cancel_all(self, timeout: float | None = None) -> GlobalCancelResult:
        return self._run(self.session.cancel_all(timeout))
