"""Routing the engine's events (orders, positions, accounts, quotes) to the clients that see them.

One job of :class:`catalyst.sim.gateway.server.GatewayServer`, which inherits it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import structlog

from catalyst.sim.engine import model as m
from catalyst.sim.gateway import entitlements
from catalyst.sim.gateway import wire_encode as enc
from catalyst.sim.gateway.connection_faults import (
    ConnectionFaults,
)
from catalyst.sim.gateway.session_values import (
    ClientSession,
    Outage,
    ServerSettings,
    enc_replace_status,
    portfolio_fields,
    quote_ticks,
)
from catalyst.sim.gateway.wire_views import (
    hk_time_text,
    wire_contract_of,
    wire_execution_of,
    wire_order_of,
)

log = structlog.get_logger(__name__)


class EventRouting:
    """Routing the engine's events (orders, positions, accounts, quotes) to the clients that see them."""

    # the server's state, set up by GatewayServer.__init__
    exchange: Any
    host: str
    port: int
    settings: ServerSettings
    faults: ConnectionFaults
    sessions: dict[int, ClientSession]
    _all: set[ClientSession]
    _server: asyncio.base_events.Server | None
    _tick_task: asyncio.Task[None] | None
    _restart_task: asyncio.Task[None] | None
    _outage: Outage | None
    _next_ids: dict[int, int]
    _contracts: dict[tuple[int, str], enc.WireContract]
    accepting: bool
    connections_total: int
    started_at: datetime
    on_stop_requested: Callable[[], None] | None

    def _next_order_id(self, client_id: int) -> int:
        highest = int(self.exchange.highest_order_id(client_id))  # every day's: never handed out twice
        nxt = max(highest + 1, self._next_ids.get(client_id, 1))
        self._next_ids[client_id] = nxt
        return nxt

    def _note_order_id(self, client_id: int, order_id: int) -> None:
        self._next_ids[client_id] = max(self._next_ids.get(client_id, 1), order_id + 1)

    def _order_targets(self, client_id: int) -> list[ClientSession]:
        out = []
        owner = self.sessions.get(client_id)
        if owner is not None:
            out.append(owner)
        master = self.settings.master_client_id
        if master is not None and master != client_id and master in self.sessions:
            out.append(self.sessions[master])
        return out

    def _wire_contract(self, con_id: int, symbol: str) -> enc.WireContract:
        """The C11 block for an order/position/fill; a listing's identity never changes, so it is cached."""
        key = (con_id, symbol)
        cached = self._contracts.get(key)
        if cached is not None:
            return cached
        sc = self.exchange.contract(con_id=con_id) if con_id else None
        if sc is None:
            sc = self.exchange.contract(symbol=symbol)
        wc = wire_contract_of(sc) if sc is not None else enc.WireContract(con_id=con_id, symbol=symbol)
        self._contracts[key] = wc
        return wc

    def dispatch(self, events: Iterable[m.SimEvent]) -> None:
        outage = self._outage
        if outage is not None and not outage.restoring:
            # no news from IB's servers in an outage: order events wait, quotes are not sent
            outage.events += [ev for ev in events if not isinstance(ev, m.QuoteChanged)]
            return
        for ev in events:
            try:
                self._route(ev)
            except Exception:
                log.exception("sim.gateway.route_failed", event=type(ev).__name__)

    def _route(self, ev: m.SimEvent) -> None:
        if isinstance(ev, m.OrderChanged):
            o = ev.order
            contract = self._wire_contract(o.con_id, o.symbol)
            wo = wire_order_of(o)
            for s in self._order_targets(o.client_id):
                if ev.warning is not None:
                    s.send(enc.error(o.order_id, ev.warning[0], ev.warning[1]))
                s.send(enc.open_order(wo, contract))
                s.send(enc.order_status(wo))
        elif isinstance(ev, m.Executed):
            o, x = ev.order, ev.execution
            contract = self._wire_contract(x.con_id, x.symbol)
            wo = wire_order_of(o)
            for s in self._order_targets(x.client_id):
                s.send(enc.exec_details(wire_execution_of(x, req_id=-1), contract))
                s.send(enc.open_order(wo, contract))
                s.send(enc.order_status(wo))
                s.send(enc.commission_report(x.exec_id, x.commission, "HKD", x.realized_pnl))
        elif isinstance(ev, m.OrderRejected):
            for s in self._order_targets(ev.client_id):
                s.send(enc.error(ev.order_id, ev.code, ev.message))
                if ev.status_after is not None:
                    if ev.order is not None:
                        wo = wire_order_of(ev.order)
                        s.send(enc.order_status(enc_replace_status(wo, ev.status_after)))
                    else:
                        s.send(
                            [
                                "3",
                                str(ev.order_id),
                                ev.status_after,
                                "0",
                                "0",
                                "0",
                                "0",
                                "0",
                                "0",
                                str(ev.client_id),
                                "",
                                "",
                            ]
                        )
        elif isinstance(ev, m.PositionChanged):
            self._route_position(ev.position)
        elif isinstance(ev, m.AccountChanged):
            self._route_account(ev.account)
        elif isinstance(ev, m.QuoteChanged):
            self._route_quote(ev.quote)
        elif isinstance(ev, m.FaultFired):
            log.warning("sim.fault.fired", fault=ev.name, **{k: str(v) for k, v in ev.detail.items()})

    def _route_position(self, p: m.Position) -> None:
        contract = self._wire_contract(p.con_id, p.symbol)
        msg = enc.position(p.account, contract, p.quantity, p.avg_cost)
        for s in list(self.sessions.values()):
            if s.positions_sub:
                self._queue_position_push(s, (p.account, p.con_id), msg)
        subscribers = [s for s in self.sessions.values() if s.account_updates == p.account]
        if subscribers:
            item = next((i for i in self.exchange.portfolio(p.account) if i.con_id == p.con_id), None)
            frame = self._portfolio_frame(p.account, item, contract, p)
            for s in subscribers:
                s.send(frame)

    def _queue_position_push(self, s: ClientSession, key: tuple[str, int], frame: list[str]) -> None:
        """Push ``frame`` after ``position_push_delay``, unless a newer one or a reqPositions comes."""
        if s.position_timer is None:
            s.position_timer = asyncio.get_running_loop().call_later(
                self.settings.position_push_delay, self._send_position_pushes, s
            )
        s.position_pushes.pop(key, None)  # the newest goes last, as it would have on the wire
        s.position_pushes[key] = frame

    @staticmethod
    def _send_position_pushes(s: ClientSession) -> None:
        frames = list(s.position_pushes.values())
        s.drop_position_pushes()
        if s.positions_sub:
            for frame in frames:
                s.send(frame)

    def _portfolio_frame(
        self, account: str, item: Any, contract: enc.WireContract, p: m.Position
    ) -> list[str]:
        if item is None:
            quote = self.exchange.quote(p.symbol)
            return enc.update_portfolio(
                contract,
                position=p.quantity,
                market_price=quote.last,
                market_value=quote.last * p.quantity,
                average_cost=p.avg_cost,
                unrealized_pnl=Decimal(0),
                realized_pnl=Decimal(0),
                account=account,
            )
        return portfolio_fields(item, contract, account)

    def _route_account(self, account: str) -> None:
        values = None
        now_text = hk_time_text(self.exchange.now(), "%H:%M")
        for s in list(self.sessions.values()):
            wants_updates = s.account_updates == account
            multi = [r for r, a in s.multi_subs.items() if a in (account, "")]
            if not wants_updates and not multi and not s.summary_subs:
                continue
            if values is None:
                values = self.exchange.account_values(account)
            for (
                req_id,
                tags,
            ) in s.summary_subs.items():  # IB pushes these every few minutes; we push on change
                self._send_summary(s, req_id, tags, account, values)
                s.send(enc.account_summary_end(req_id))
            for key, value, currency in values:
                if wants_updates:
                    s.send(enc.update_account_value(key, value, currency, account))
                for req_id in multi:
                    s.send(enc.account_update_multi(req_id, account, "", key, value, currency))
            if wants_updates:
                s.send(enc.update_account_time(now_text))

    def _route_quote(self, q: m.Quote) -> None:
        for s in list(self.sessions.values()):
            for req_id, symbol in s.market_data.items():
                if symbol == q.symbol:
                    frames = quote_ticks(req_id, q)
                    for frame in entitlements.as_delayed(frames) if req_id in s.delayed_streams else frames:
                        s.send(frame)

    @staticmethod
    def _send_summary(
        s: ClientSession, req_id: int, tags: tuple[str, ...], account: str, values: list[tuple[str, str, str]]
    ) -> None:
        ledger = any(t.startswith("$LEDGER") for t in tags)
        wanted = set(tags)
        if "AccountType" in wanted:
            s.send(enc.account_summary(req_id, account, "AccountType", "INDIVIDUAL", ""))
        for key, value, currency in values:
            if key in wanted or (ledger and currency == "HKD"):
                s.send(enc.account_summary(req_id, account, key, value, currency))
