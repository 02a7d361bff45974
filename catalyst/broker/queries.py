"""Read-only questions to the broker, answered with plain values and DataFrames.

Nothing returned here is an ib_async object: prices are Decimal (from the broker's text via
``decimal_from_wire``), quantities int, times tz-aware.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import pandas as pd
import structlog

from catalyst.broker.connection import BrokerConnection
from catalyst.broker.contracts_cache import ContractsCache
from catalyst.broker.errors import (
    BrokerError,
    BrokerPacingError,
    BrokerTimeoutError,
    MarketDataNotSubscribedError,
)
from catalyst.broker.historical_pacing import HistoricalPacer
from catalyst.broker.market_data_entitlements import (
    EntitlementNotice,
    delayed_message,
    entitlement_answer,
    is_delayed,
    market_data_type_name,
    refusal_message,
)
from catalyst.broker.order_mapping import decimal_from_wire, side_from_exec_side, side_from_ib_action
from catalyst.broker.report_log import BrokerReports, ReportedExecution, ReportedOrder, ReportedStatus
from catalyst.market import HK_TZ

log = structlog.get_logger(__name__)

T = TypeVar("T")

ACCOUNT_TAGS = {"cash": "TotalCashValue", "buying_power": "BuyingPower", "net_liquidation": "NetLiquidation"}

OPEN_ORDER_COLUMNS = [
    "order_ref",
    "perm_id",
    "order_id",
    "client_id",
    "parent_id",
    "parent_perm_id",
    "account",
    "symbol",
    "side",
    "order_type",
    "quantity",
    "limit_price",
    "stop_price",
    "tif",
    "oca_group",
    "status",
    "filled",
    "remaining",
]
EXECUTION_COLUMNS = [
    "exec_id",
    "time",
    "account",
    "symbol",
    "side",
    "quantity",
    "price",
    "perm_id",
    "order_id",
    "client_id",
    "order_ref",
    "cum_qty",
    "avg_price",
    "commission",
    "currency",
    "realized_pnl",
]
POSITION_COLUMNS = ["account", "symbol", "con_id", "quantity", "avg_cost"]
BAR_COLUMNS = ["time", "open", "high", "low", "close", "volume", "wap", "count"]


@dataclass(frozen=True)
class AccountSnapshot:
    account: str
    currency: str
    cash: Decimal
    buying_power: Decimal
    net_liquidation: Decimal
    as_of: datetime


@dataclass(frozen=True)
class Quote:
    symbol: str
    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None
    close: Decimal | None
    bid_size: int | None
    ask_size: int | None
    volume: int | None
    time: datetime | None
    #: the market data type IB served it as: live, frozen, delayed, delayed-frozen
    data_type: str = "live"


def _dec(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(f) or f <= 0:
        return None
    return decimal_from_wire(f)


def _int(value: Any) -> int | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else int(f)


class BrokerQueries:
    """Queries over one connection; every request has a timeout and is logged with its answer."""

    def __init__(
        self,
        connection: BrokerConnection,
        reports: BrokerReports,
        contracts: ContractsCache,
        *,
        request_timeout: float,
        pacer: HistoricalPacer | None = None,
    ) -> None:
        self.conn = connection
        self.reports = reports
        self.contracts = contracts
        self.timeout = request_timeout
        self.pacer = pacer or HistoricalPacer()
        #: (symbol, what) already logged as refused or delayed: the monitor asks four times a second,
        #: so each is logged loudly once and at debug afterwards
        self._market_data_noted: set[tuple[str, str]] = set()

    async def _timed(self, what: str, awaitable: Awaitable[T], timeout: float | None = None) -> T:
        limit = timeout or self.timeout
        log.info("broker.query.request", what=what)
        asked = time.monotonic()
        try:
            return await asyncio.wait_for(awaitable, limit)
        except TimeoutError as exc:
            paced = self.conn.last_pacing_violation
            if paced is not None and paced[0] >= asked:
                log.error("broker.query.paced_out", what=what, timeout=limit, message=paced[1])
                raise BrokerPacingError(
                    f"IB refused the {what} request for pacing (error 100: {paced[1]}): more than 50 "
                    f"messages a second reached the gateway from client id {self.conn.client_id}, so it "
                    f"was dropped and not answered within {limit:.0f}s. Check that no other process "
                    "floods the same client id, wait a few seconds and retry"
                ) from exc
            log.error("broker.query.timeout", what=what, timeout=limit)
            raise BrokerTimeoutError(f"the gateway did not answer {what} within {limit:.0f}s") from exc

    # -- account -----------------------------------------------------------------------------------

    async def account_snapshot(self) -> AccountSnapshot:
        account = self.conn.account
        values = [v for v in self.conn.ib.accountValues(account) if v.currency == "HKD"]
        found = {v.tag: v.value for v in values if v.tag in ACCOUNT_TAGS.values()}
        if len(found) < len(ACCOUNT_TAGS):
            summary = await self._timed("account summary", self.conn.ib.accountSummaryAsync(account))
            found.update(
                {v.tag: v.value for v in summary if v.currency == "HKD" and v.tag in ACCOUNT_TAGS.values()}
            )
        missing = [tag for tag in ACCOUNT_TAGS.values() if tag not in found]
        if missing:
            raise BrokerError(
                f"account {account} reports no HKD value for {', '.join(missing)}; is the account's base "
                "currency HKD?"
            )
        snap = AccountSnapshot(
            account=account,
            currency="HKD",
            cash=Decimal(found[ACCOUNT_TAGS["cash"]]),
            buying_power=Decimal(found[ACCOUNT_TAGS["buying_power"]]),
            net_liquidation=Decimal(found[ACCOUNT_TAGS["net_liquidation"]]),
            as_of=datetime.now(UTC),
        )
        log.info(
            "broker.query.account",
            account=account,
            cash=str(snap.cash),
            buying_power=str(snap.buying_power),
            net_liquidation=str(snap.net_liquidation),
        )
        return snap

    async def positions(self) -> pd.DataFrame:
        raw = await self._timed("positions", self.conn.ib.reqPositionsAsync())
        rows = [
            {
                "account": p.account,
                "symbol": str(p.contract.symbol),
                "con_id": int(p.contract.conId),
                "quantity": int(p.position),
                "avg_cost": decimal_from_wire(p.avgCost),
            }
            for p in raw
            if p.account == self.conn.account and p.position != 0
        ]
        log.info(
            "broker.query.positions",
            account=self.conn.account,
            positions=[{k: str(v) for k, v in r.items()} for r in rows],
        )
        return pd.DataFrame(rows, columns=POSITION_COLUMNS)

    # -- orders and executions ---------------------------------------------------------------------

    async def refresh_open_orders(self) -> set[int]:
        """reqAllOpenOrders: returns the permIds the broker lists as open right now."""
        trades = await self._timed("all open orders", self.conn.ib.reqAllOpenOrdersAsync())
        return {int(t.order.permId) for t in trades if t.order.permId}

    async def refresh_completed_orders(self) -> set[int]:
        trades = await self._timed("completed orders", self.conn.ib.reqCompletedOrdersAsync(False))
        return {int(t.order.permId) for t in trades if t.order.permId}

    async def refresh_executions(self) -> list[ReportedExecution]:
        fills = await self._timed("executions", self.conn.ib.reqExecutionsAsync())
        ids = [f.execution.execId for f in fills]
        missing = [i for i in ids if i not in self.reports.commissions]
        if missing:  # commission reports trail their executions; wait for them, briefly, on events
            await self.reports.wait_for(
                lambda: True if all(i in self.reports.commissions for i in missing) else None,
                min(1.0, self.timeout),
            )
        return [self.reports.executions[i] for i in ids if i in self.reports.executions]

    async def open_orders(self) -> pd.DataFrame:
        perm_ids = await self.refresh_open_orders()
        rows = []
        for perm_id in sorted(perm_ids):
            rep = self.reports.latest_order(perm_id=perm_id)
            if rep is None:
                continue
            status = self.reports.latest_status(perm_id=perm_id)
            filled = int(status.filled) if status else 0
            remaining = int(status.remaining) if status else int(rep.quantity)
            rows.append(self._order_row(rep, status, filled=filled, remaining=remaining))
        return pd.DataFrame(rows, columns=OPEN_ORDER_COLUMNS)

    async def orders(self) -> pd.DataFrame:
        """Every order of the account the broker lists, open (reqAllOpenOrders: every client id) and
        completed (reqCompletedOrders), one row per permId with its newest status; columns
        :data:`OPEN_ORDER_COLUMNS` plus ``open`` (still working at the broker)."""
        open_perms = await self.refresh_open_orders()
        completed = await self.refresh_completed_orders()
        rows = []
        for perm_id in sorted(open_perms | completed):
            rep = self.reports.latest_order(perm_id=perm_id)
            if rep is None or (rep.account and rep.account != self.conn.account):
                continue
            status = self.reports.latest_status(perm_id=perm_id)
            filled = int(status.filled) if status else int(rep.filled_quantity or 0)
            remaining = int(status.remaining) if status else int(rep.quantity) - filled
            row = self._order_row(rep, status, filled=filled, remaining=remaining)
            row["open"] = perm_id in open_perms and perm_id not in completed
            rows.append(row)
        return pd.DataFrame(rows, columns=[*OPEN_ORDER_COLUMNS, "open"])

    @staticmethod
    def _order_row(
        rep: ReportedOrder, status: ReportedStatus | None, *, filled: int, remaining: int
    ) -> dict[str, Any]:
        """One order as the broker last reported it, with the newer of its openOrder and
        orderStatus statuses."""
        newest = rep.status
        if status is not None and status.received_at >= rep.received_at:
            newest = status.status
        return {
            "order_ref": rep.order_ref,
            "perm_id": rep.perm_id,
            "order_id": rep.order_id,
            "client_id": rep.client_id,
            "parent_id": rep.parent_id,
            "parent_perm_id": rep.parent_perm_id,
            "account": rep.account,
            "symbol": rep.symbol,
            "side": side_from_ib_action(rep.action).value,
            "order_type": rep.order_type,
            "quantity": int(rep.quantity),
            "limit_price": rep.limit_price,
            "stop_price": rep.stop_price,
            "tif": rep.tif,
            "oca_group": rep.oca_group,
            "status": newest,
            "filled": filled,
            "remaining": remaining,
        }

    async def executions(self) -> pd.DataFrame:
        execs = await self.refresh_executions()
        rows = []
        for e in execs:
            c = self.reports.commissions.get(e.exec_id)
            rows.append(
                {
                    "exec_id": e.exec_id,
                    "time": e.time,
                    "account": e.account,
                    "symbol": e.symbol,
                    "side": side_from_exec_side(e.side).value,
                    "quantity": int(e.shares),
                    "price": e.price,
                    "perm_id": e.perm_id,
                    "order_id": e.order_id,
                    "client_id": e.client_id,
                    "order_ref": e.order_ref,
                    "cum_qty": int(e.cum_qty),
                    "avg_price": e.avg_price,
                    "commission": c.commission if c else None,
                    "currency": c.currency if c else None,
                    "realized_pnl": c.realized_pnl if c else None,
                }
            )
        return pd.DataFrame(rows, columns=EXECUTION_COLUMNS)

    # -- market data -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _entitlements(self, con_id: int) -> Iterator[list[EntitlementNotice]]:
        """IB's entitlement answers (354, 10089, 10167, 10168, 162 ...) to requests for ``con_id``
        while the block runs: ib_async ends such a request with an empty result, so without this a
        refusal would look like a quote or a bar list with nothing in it."""
        seen: list[EntitlementNotice] = []

        def on_error(req_id: int, code: int, message: str, contract: Any) -> None:
            if contract is not None and int(getattr(contract, "conId", 0) or 0) == con_id:
                notice = entitlement_answer(code, message)
                if notice is not None:
                    seen.append(notice)

        self.conn.ib.errorEvent += on_error
        try:
            yield seen
        finally:
            self.conn.ib.errorEvent -= on_error

    def _refuse(self, symbol: str, what: str, notices: list[EntitlementNotice]) -> None:
        refused = [n for n in notices if n.answer == "not_subscribed"]
        if refused:
            message = refusal_message(symbol, what, refused[0], self.conn.market_data_type)
            code = refused[0].code
            self._note_once((symbol, what), "broker.market_data.not_subscribed", code=code, what=what)
            raise MarketDataNotSubscribedError(message, symbol=symbol, code=code, what=what)

    def _note_once(self, key: tuple[str, str], event: str, **fields: Any) -> None:
        if key in self._market_data_noted:
            log.debug(event, symbol=key[0], **fields)
            return
        self._market_data_noted.add(key)
        log.warning(event, symbol=key[0], **fields)

    async def quote(self, symbol: str) -> Quote:
        """A snapshot quote, with the market data type IB served it as. Refused for want of a
        subscription: :class:`MarketDataNotSubscribedError` (never a quote of empty prices)."""
        contract, described = await self.contracts.resolve(symbol, for_orders=False)
        with self._entitlements(int(described.con_id)) as notices:
            tickers = await self._timed(f"quote {described.symbol}", self.conn.ib.reqTickersAsync(contract))
        self._refuse(described.symbol, "quotes", notices)
        t = tickers[0]
        when = t.time if isinstance(t.time, datetime) else None
        served = market_data_type_name(getattr(t, "marketDataType", 1))
        if is_delayed(served) or any(n.answer == "delayed_instead" for n in notices):
            served = served if is_delayed(served) else "delayed"
            self._note_once(
                (described.symbol, "delayed"),
                "broker.market_data.delayed",
                message=delayed_message(described.symbol, served, self.conn.market_data_type),
            )
        quote = Quote(
            symbol=described.symbol,
            bid=_dec(t.bid),
            ask=_dec(t.ask),
            last=_dec(t.last),
            close=_dec(t.close),
            bid_size=_int(t.bidSize),
            ask_size=_int(t.askSize),
            volume=_int(t.volume),
            time=when,
            data_type=served,
        )
        log.info("broker.query.quote", **{k: str(v) for k, v in quote.__dict__.items()})
        return quote

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
        """Historical bars, paced by IB's historical-data rules (identical requests come from cache)."""
        contract, described = await self.contracts.resolve(symbol, for_orders=False)
        key = (described.con_id, duration, bar_size, what_to_show, use_rth, str(end or ""))
        cached = self.pacer.cached(key)
        if cached is not None:
            log.info(
                "broker.query.bars.cached", symbol=described.symbol, duration=duration, bar_size=bar_size
            )
            return cached.copy()
        wait = self.pacer.delay(key, (described.con_id, what_to_show))
        if wait > 0:
            log.warning("broker.query.bars.paced", symbol=described.symbol, wait_seconds=round(wait, 2))
            await asyncio.sleep(wait)  # IB's pacing window, not an event we could wait for
        self.pacer.record(key, (described.con_id, what_to_show))
        with self._entitlements(int(described.con_id)) as notices:
            raw = await self._timed(
                f"bars {described.symbol} {duration} {bar_size}",
                self.conn.ib.reqHistoricalDataAsync(
                    contract,
                    endDateTime=end or "",
                    durationStr=duration,
                    barSizeSetting=bar_size,
                    whatToShow=what_to_show,
                    useRTH=use_rth,
                    formatDate=2,
                    timeout=0,
                ),
                timeout=max(self.timeout, 60.0),
            )
        self._refuse(described.symbol, "historical bars", notices)
        rows = []
        for b in raw:
            when = b.date
            if isinstance(when, datetime):
                when = when.astimezone(HK_TZ) if when.tzinfo else when.replace(tzinfo=HK_TZ)
            else:
                when = datetime(when.year, when.month, when.day, tzinfo=HK_TZ)
            rows.append(
                {
                    "time": when,
                    "open": decimal_from_wire(b.open),
                    "high": decimal_from_wire(b.high),
                    "low": decimal_from_wire(b.low),
                    "close": decimal_from_wire(b.close),
                    "volume": int(b.volume) if b.volume is not None and b.volume >= 0 else 0,
                    "wap": decimal_from_wire(b.average),
                    "count": int(b.barCount),
                }
            )
        frame = pd.DataFrame(rows, columns=BAR_COLUMNS)
        # IB's historical answer names no data type: the bars are what this connection asked for
        frame.attrs["data_type"] = self.conn.market_data_type
        log.info(
            "broker.query.bars",
            symbol=described.symbol,
            duration=duration,
            bar_size=bar_size,
            bars=len(frame),
            data_type=self.conn.market_data_type,
        )
        self.pacer.remember(key, frame)
        return frame.copy()

    async def server_time(self) -> datetime:
        when = await self._timed("server time", self.conn.ib.reqCurrentTimeAsync())
        log.info("broker.query.server_time", server_time=when.isoformat())
        return when
