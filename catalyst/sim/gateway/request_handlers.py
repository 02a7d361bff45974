"""The request handlers: one method per TWS request the gateway answers, looked up by message id.

One job of :class:`catalyst.sim.gateway.server.GatewayServer`, which inherits it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import structlog

from catalyst.sim.engine import model as m
from catalyst.sim.gateway import entitlements
from catalyst.sim.gateway import wire_decode as dec
from catalyst.sim.gateway import wire_encode as enc
from catalyst.sim.gateway.routing import EventRouting
from catalyst.sim.gateway.session_values import (
    BarSubscription,
    ClientSession,
    portfolio_fields,
    quote_ticks,
)
from catalyst.sim.gateway.wire_views import (
    contract_details_of,
    hk_time_text,
    parse_end_datetime,
    wire_bar_of,
    wire_execution_of,
    wire_order_of,
)

log = structlog.get_logger(__name__)


class RequestHandlers(EventRouting):
    """The request handlers: one method per TWS request the gateway answers, looked up by message id."""

    async def _req_place_order(self, s: ClientSession, fields: list[str]) -> None:
        assert s.client_id is not None
        po = dec.decode_place_order(fields, client_id=s.client_id, server_version=s.server_version)
        log.info(
            "sim.order.received",
            client_id=s.client_id,
            order_id=po.request.order_id,
            action=po.request.action,
            quantity=str(po.request.total_quantity),
            order_type=po.request.order_type,
            lmt=str(po.request.lmt_price),
            aux=str(po.request.aux_price),
            parent_id=po.request.parent_id,
            transmit=po.request.transmit,
            order_ref=po.request.order_ref,
        )
        self._note_order_id(s.client_id, po.request.order_id)
        delay = self.faults.latency_seconds()
        if delay > 0:
            log.info(
                "sim.fault.latency_fired",
                client_id=s.client_id,
                order_id=po.request.order_id,
                ms=delay * 1000,
            )
            await asyncio.sleep(delay)
        if po.what_if:
            s.send(
                enc.error(
                    po.request.order_id,
                    201,
                    "Order rejected - reason:What-if orders are not supported by the simulated gateway",
                )
            )
            return
        self.dispatch(self.exchange.place_order(po.request))

    async def _req_cancel_order(self, s: ClientSession, fields: list[str]) -> None:
        assert s.client_id is not None
        order_id = dec.decode_cancel_order(fields)
        log.debug("sim.order.cancel_received", client_id=s.client_id, order_id=order_id)
        delay = self.faults.latency_seconds()
        if delay > 0:
            log.info("sim.fault.latency_fired", client_id=s.client_id, order_id=order_id, ms=delay * 1000)
            await asyncio.sleep(delay)
        self.dispatch(self.exchange.cancel_order(s.client_id, order_id))

    def _req_global_cancel(self, s: ClientSession, fields: list[str]) -> None:
        log.info("sim.order.global_cancel_received", client_id=s.client_id)
        self.dispatch(self.exchange.global_cancel())

    def _send_open_orders(self, s: ClientSession, orders: Iterable[m.SimOrder]) -> None:
        for o in orders:
            wo = wire_order_of(o)
            contract = self._wire_contract(o.con_id, o.symbol)
            s.send(enc.open_order(wo, contract))
            s.send(enc.order_status(wo))
        s.send(enc.open_order_end())

    def _req_open_orders(self, s: ClientSession, fields: list[str]) -> None:
        self._send_open_orders(s, self.exchange.open_orders(s.client_id))

    def _req_all_open_orders(self, s: ClientSession, fields: list[str]) -> None:
        self._send_open_orders(s, self.exchange.open_orders(None))

    def _req_auto_open_orders(self, s: ClientSession, fields: list[str]) -> None:
        s.auto_open_orders = dec.decode_auto_open_orders(fields)
        log.info("sim.client.auto_open_orders", client_id=s.client_id, bind=s.auto_open_orders)

    def _req_completed_orders(self, s: ClientSession, fields: list[str]) -> None:
        dec.decode_completed_orders(fields)
        for o in self.exchange.completed_orders():
            s.send(enc.completed_order(wire_order_of(o), self._wire_contract(o.con_id, o.symbol)))
        s.send(enc.completed_orders_end())

    def _req_ids(self, s: ClientSession, fields: list[str]) -> None:
        dec.decode_req_ids(fields)
        assert s.client_id is not None
        s.send(enc.next_valid_id(self._next_order_id(s.client_id)))

    def _req_managed_accounts(self, s: ClientSession, fields: list[str]) -> None:
        s.send(enc.managed_accounts(self.exchange.accounts))

    def _req_current_time(self, s: ClientSession, fields: list[str]) -> None:
        s.send(enc.current_time(int(self.exchange.now().timestamp())))

    def _req_positions(self, s: ClientSession, fields: list[str]) -> None:
        s.positions_sub = True
        if s.position_pushes:
            log.info(
                "sim.client.position_pushes_superseded", client_id=s.client_id, rows=len(s.position_pushes)
            )
            s.drop_position_pushes()  # the answer below carries every current position
        for p in self.exchange.positions():
            s.send(enc.position(p.account, self._wire_contract(p.con_id, p.symbol), p.quantity, p.avg_cost))
        s.send(enc.position_end())

    def _cancel_positions(self, s: ClientSession, fields: list[str]) -> None:
        s.positions_sub = False

    def _account_or_default(self, account: str) -> str | None:
        if not account:
            return str(self.exchange.accounts[0])
        return account if account in self.exchange.accounts else None

    def _req_account_updates(self, s: ClientSession, fields: list[str]) -> None:
        req = dec.decode_account_updates(fields)
        if not req.subscribe:
            s.account_updates = None
            return
        account = self._account_or_default(req.account)
        if account is None:
            s.send(
                enc.error(
                    -1, 321, f"Error validating request.-'bB' : cause - Invalid account code {req.account}"
                )
            )
            return
        s.account_updates = account
        for key, value, currency in self.exchange.account_values(account):
            s.send(enc.update_account_value(key, value, currency, account))
        for item in self.exchange.portfolio(account):
            s.send(portfolio_fields(item, self._wire_contract(item.con_id, item.symbol), account))
        s.send(enc.update_account_time(hk_time_text(self.exchange.now(), "%H:%M")))
        s.send(enc.account_download_end(account))

    def _req_account_updates_multi(self, s: ClientSession, fields: list[str]) -> None:
        req = dec.decode_account_updates_multi(fields)
        accounts = list(self.exchange.accounts) if req.account in ("", "All") else [req.account]
        unknown = [a for a in accounts if a not in self.exchange.accounts]
        if unknown:
            s.send(
                enc.error(
                    req.req_id, 321, f"Error validating request.-'cf' : cause - Invalid account {unknown[0]}"
                )
            )
            return
        s.multi_subs[req.req_id] = req.account if req.account != "All" else ""
        for account in accounts:
            for key, value, currency in self.exchange.account_values(account):
                s.send(enc.account_update_multi(req.req_id, account, req.model_code, key, value, currency))
        s.send(enc.account_update_multi_end(req.req_id))

    def _cancel_account_updates_multi(self, s: ClientSession, fields: list[str]) -> None:
        s.multi_subs.pop(dec.decode_versioned_req_id(fields), None)

    def _req_account_summary(self, s: ClientSession, fields: list[str]) -> None:
        req = dec.decode_account_summary(fields)
        s.summary_subs[req.req_id] = req.tags
        for account in self.exchange.accounts:
            self._send_summary(s, req.req_id, req.tags, account, self.exchange.account_values(account))
        s.send(enc.account_summary_end(req.req_id))

    def _cancel_account_summary(self, s: ClientSession, fields: list[str]) -> None:
        s.summary_subs.pop(dec.decode_versioned_req_id(fields), None)

    def _req_executions(self, s: ClientSession, fields: list[str]) -> None:
        f = dec.decode_req_executions(fields)
        for x in self.exchange.executions():
            if f.client_id and x.client_id != f.client_id:
                continue
            if f.account and x.account != f.account:
                continue
            if f.symbol and x.symbol != f.symbol:
                continue
            if f.side and x.side != {"BUY": "BOT", "SELL": "SLD"}.get(f.side.upper(), f.side.upper()):
                continue
            contract = self._wire_contract(x.con_id, x.symbol)
            s.send(enc.exec_details(wire_execution_of(x, req_id=f.req_id), contract))
            s.send(enc.commission_report(x.exec_id, x.commission, "HKD", x.realized_pnl))
        s.send(enc.exec_details_end(f.req_id))

    def _lookup(self, c: dec.WireRequestContract) -> Any:
        if c.sec_type not in ("", "STK") or c.currency not in ("", "HKD"):
            return None
        if c.exchange not in ("", "SEHK", "SMART") and c.primary_exchange != "SEHK":
            return None
        if c.con_id:
            sc = self.exchange.contract(con_id=c.con_id)
            if sc is None or (c.symbol and c.symbol != sc.symbol):
                return None
            return sc
        symbol = c.symbol or c.local_symbol
        return self.exchange.contract(symbol=symbol) if symbol else None

    def _req_contract_details(self, s: ClientSession, fields: list[str]) -> None:
        req = dec.decode_contract_details(fields)
        sc = self._lookup(req.contract)
        if sc is None:
            s.send(enc.error(req.req_id, 200, "No security definition has been found for the request"))
            return
        details = contract_details_of(sc, requested_exchange=req.contract.exchange or "SEHK")
        s.send(enc.contract_details(req.req_id, details))
        s.send(enc.contract_details_end(req.req_id))

    def _req_market_rule(self, s: ClientSession, fields: list[str]) -> None:
        rule_id = dec.decode_market_rule(fields)
        ladder = self.exchange.market_rule(rule_id)
        if ladder is None:
            log.warning("sim.client.unknown_market_rule", client_id=s.client_id, rule_id=rule_id)
            return
        s.send(enc.market_rule(rule_id, ladder))

    def _req_market_data_type(self, s: ClientSession, fields: list[str]) -> None:
        s.market_data_type = dec.decode_market_data_type(fields)

    def _req_mkt_data(self, s: ClientSession, fields: list[str]) -> None:
        req = dec.decode_mkt_data(fields)
        sc = self._lookup(req.contract)
        if sc is None:
            s.send(enc.error(req.req_id, 200, "No security definition has been found for the request"))
            return
        answer = entitlements.quote_answer(self.exchange.faults(), sc.symbol, s.market_data_type)
        for code, text in answer.notices:
            s.send(enc.error(req.req_id, code, text))
        if answer.served_type is None:  # refused: IB sends no ticks and ends the request
            log.info("sim.market_data.refused", client_id=s.client_id, symbol=sc.symbol)
            return
        s.send(enc.tick_req_params(req.req_id, sc.min_tick, "a60001", 3))
        s.send(enc.market_data_type(req.req_id, answer.served_type))
        frames = quote_ticks(req.req_id, self.exchange.quote(sc.symbol), full=True)
        delayed = answer.served_type in (3, 4)
        for frame in entitlements.as_delayed(frames) if delayed else frames:
            s.send(frame)
        if req.snapshot or req.regulatory_snapshot:
            s.send(enc.tick_snapshot_end(req.req_id))
        else:
            s.market_data[req.req_id] = sc.symbol
            if delayed:
                s.delayed_streams.add(req.req_id)

    def _cancel_mkt_data(self, s: ClientSession, fields: list[str]) -> None:
        req_id = dec.decode_versioned_req_id(fields)
        s.market_data.pop(req_id, None)
        s.delayed_streams.discard(req_id)

    def _req_historical_data(self, s: ClientSession, fields: list[str]) -> None:
        req = dec.decode_historical_data(fields)
        sc = self._lookup(req.contract)
        if sc is None:
            s.send(enc.error(req.req_id, 200, "No security definition has been found for the request"))
            return
        refusal = entitlements.historical_refusal(self.exchange.faults(), sc.symbol)
        if refusal is not None:
            s.send(enc.error(req.req_id, *refusal))
            return
        if req.what_to_show.upper() not in ("TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK", "ADJUSTED_LAST"):
            s.send(
                enc.error(
                    req.req_id,
                    162,
                    f"Historical Market Data Service error message:"
                    f"whatToShow {req.what_to_show} is not supported by the simulator",
                )
            )
            return
        try:
            end = parse_end_datetime(req.end, self.exchange.now())
            bars = self.exchange.bars(
                sc.symbol, end=end, duration=req.duration, bar_size=req.bar_size, use_rth=req.use_rth
            )
        except (ValueError, TypeError) as exc:
            s.send(enc.error(req.req_id, 162, f"Historical Market Data Service error message:{exc}"))
            return
        daily = "day" in req.bar_size or "week" in req.bar_size or "month" in req.bar_size
        wire = [wire_bar_of(b, daily=daily, format_date=req.format_date) for b in bars]
        start_text = hk_time_text(bars[0].time if bars else end, "%Y%m%d %H:%M:%S")
        end_text = hk_time_text(end, "%Y%m%d %H:%M:%S")
        s.send(enc.historical_data(req.req_id, start_text, end_text, wire))
        if req.keep_up_to_date:
            last = wire[-1] if wire else None
            s.bar_subs[req.req_id] = BarSubscription(
                sc.symbol, req.bar_size, req.use_rth, req.format_date, daily, last
            )

    def _cancel_historical_data(self, s: ClientSession, fields: list[str]) -> None:
        s.bar_subs.pop(dec.decode_versioned_req_id(fields), None)

    def _update_bar_subscriptions(self) -> None:
        """keepUpToDate: resend the newest bar (historicalDataUpdate, 90) whenever it changed."""
        latest: dict[tuple[str, str, bool], list[m.Bar]] = {}
        for s in list(self.sessions.values()):
            for req_id, sub in list(s.bar_subs.items()):
                key = (sub.symbol, sub.bar_size, sub.use_rth)
                if key not in latest:
                    try:
                        latest[key] = self.exchange.bars(
                            sub.symbol, end=None, duration="1 D", bar_size=sub.bar_size, use_rth=sub.use_rth
                        )
                    except (ValueError, TypeError):
                        latest[key] = []
                if not latest[key]:
                    continue
                bar = wire_bar_of(latest[key][-1], daily=sub.daily, format_date=sub.format_date)
                if bar != sub.last:
                    sub.last = bar
                    s.send(enc.historical_data_update(req_id, bar))

    _handlers: ClassVar[dict[int, Callable[[RequestHandlers, ClientSession, list[str]], Any]]] = {
        1: _req_mkt_data,
        2: _cancel_mkt_data,
        3: _req_place_order,
        4: _req_cancel_order,
        5: _req_open_orders,
        6: _req_account_updates,
        7: _req_executions,
        8: _req_ids,
        9: _req_contract_details,
        15: _req_auto_open_orders,
        16: _req_all_open_orders,
        17: _req_managed_accounts,
        20: _req_historical_data,
        25: _cancel_historical_data,
        49: _req_current_time,
        58: _req_global_cancel,
        59: _req_market_data_type,
        61: _req_positions,
        62: _req_account_summary,
        63: _cancel_account_summary,
        64: _cancel_positions,
        76: _req_account_updates_multi,
        77: _cancel_account_updates_multi,
        91: _req_market_rule,
        99: _req_completed_orders,
    }
