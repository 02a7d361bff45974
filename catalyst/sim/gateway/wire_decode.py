"""Incoming TWS requests at server version 157..178: cursor-based parsing into plain values.

Requests are parsed field by field with a :class:`Cursor` (never by fixed split), because optional
groups (combo legs, delta-neutral, scale, algo, conditions) shift everything after them. A request
with missing or unparsable fields raises :class:`MalformedRequestError`; the server answers it with
IB's error 320 and keeps the connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from catalyst.sim.engine.model import OrderRequest


class MalformedRequestError(ValueError):
    """A request frame whose fields do not match its message id's layout."""


class Cursor:
    """Reads fields in order; every read names the field so an error says which one was bad."""

    def __init__(self, fields: Sequence[str], start: int = 1) -> None:
        self._fields = fields
        self._pos = start

    @property
    def position(self) -> int:
        return self._pos

    def at_end(self) -> bool:
        return self._pos >= len(self._fields)

    def text(self, name: str) -> str:
        if self._pos >= len(self._fields):
            raise MalformedRequestError(f"missing field {name!r} at position {self._pos}")
        value = self._fields[self._pos]
        self._pos += 1
        return value

    def optional_text(self, default: str = "") -> str:
        if self._pos >= len(self._fields):
            return default
        return self.text("optional")

    def integer(self, name: str, default: int = 0) -> int:
        raw = self.text(name)
        if raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            try:
                as_float = float(raw)
            except ValueError:
                raise MalformedRequestError(f"field {name!r} is not an integer: {raw[:30]!r}") from None
            if as_float != as_float or not as_float.is_integer():
                raise MalformedRequestError(f"field {name!r} is not an integer: {raw[:30]!r}") from None
            return int(as_float)

    def boolean(self, name: str) -> bool:
        return self.integer(name) != 0

    def number(self, name: str) -> Decimal | None:
        raw = self.text(name)
        if raw == "":
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise MalformedRequestError(f"field {name!r} is not a number: {raw[:30]!r}") from None
        if not value.is_finite():
            return None
        return value

    def skip(self, count: int, name: str) -> None:
        for i in range(count):
            self.text(f"{name}[{i}]")


@dataclass(frozen=True)
class WireRequestContract:
    """The 12-field contract block (C12) a request carries."""

    con_id: int
    symbol: str
    sec_type: str
    exchange: str
    primary_exchange: str
    currency: str
    local_symbol: str


def read_c12(cur: Cursor) -> WireRequestContract:
    con_id = cur.integer("conId")
    symbol = cur.text("symbol")
    sec_type = cur.text("secType")
    cur.text("lastTradeDateOrContractMonth")
    cur.text("strike")
    cur.text("right")
    cur.text("multiplier")
    exchange = cur.text("exchange")
    primary = cur.text("primaryExchange")
    currency = cur.text("currency")
    local_symbol = cur.text("localSymbol")
    cur.text("tradingClass")
    return WireRequestContract(con_id, symbol, sec_type, exchange, primary, currency, local_symbol)


def message_id(fields: Sequence[str]) -> int:
    if not fields:
        raise MalformedRequestError("empty frame")
    try:
        return int(fields[0])
    except ValueError:
        raise MalformedRequestError(f"message id is not an integer: {fields[0][:30]!r}") from None


# --- start-up --------------------------------------------------------------------------------------


def decode_start_api(fields: Sequence[str]) -> int:
    """startApi (71): returns the client id."""
    cur = Cursor(fields)
    cur.integer("version")
    client_id = cur.integer("clientId")
    cur.optional_text()
    return client_id


# --- orders ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaceOrder:
    request: OrderRequest
    sec_type: str
    what_if: bool


def decode_place_order(fields: Sequence[str], *, client_id: int, server_version: int) -> PlaceOrder:
    """placeOrder (3) at 157..178 (no version field). Reads through ``whatIf``."""
    cur = Cursor(fields)
    order_id = cur.integer("orderId")
    contract = read_c12(cur)
    cur.text("secIdType")
    cur.text("secId")
    action = cur.text("action")
    quantity = cur.number("totalQuantity")
    order_type = cur.text("orderType")
    lmt_price = cur.number("lmtPrice")
    aux_price = cur.number("auxPrice")
    tif = cur.text("tif")
    oca_group = cur.text("ocaGroup")
    account = cur.text("account")
    cur.text("openClose")
    cur.text("origin")
    order_ref = cur.text("orderRef")
    transmit = cur.boolean("transmit")
    parent_id = cur.integer("parentId")
    cur.text("blockOrder")
    cur.text("sweepToFill")
    cur.text("displaySize")
    cur.text("triggerMethod")
    outside_rth = cur.boolean("outsideRth")
    cur.text("hidden")
    if contract.sec_type == "BAG":
        cur.skip(8 * cur.integer("comboLegCount"), "comboLeg")
        cur.skip(cur.integer("orderComboLegCount"), "orderComboLeg")
        cur.skip(2 * cur.integer("smartComboRoutingParamsCount"), "smartComboRoutingParam")
    cur.text("deprecated sharesAllocation")
    cur.skip(6, "discretionaryAmt..faPercentage")
    if server_version < 177:
        cur.text("faProfile")
    cur.skip(4, "modelCode..exemptCode")
    oca_type = cur.integer("ocaType")
    cur.skip(17, "rule80A..volatilityType")
    if cur.text("deltaNeutralOrderType"):
        cur.skip(8, "deltaNeutral")
    cur.text("deltaNeutralAuxPrice")
    cur.skip(6, "continuousUpdate..scaleSubsLevelSize")
    increment = cur.number("scalePriceIncrement")
    if increment is not None and Decimal(0) < increment < Decimal("1.7976931348623157E308"):
        cur.skip(7, "scale")
    cur.skip(3, "scaleTable..activeStopTime")
    if cur.text("hedgeType"):
        cur.text("hedgeParam")
    cur.skip(4, "optOutSmartRouting..notHeld")
    if cur.boolean("deltaNeutralContract"):
        cur.skip(3, "deltaNeutralContract")
    if cur.text("algoStrategy"):
        cur.skip(2 * cur.integer("algoParamsCount"), "algoParam")
    cur.text("algoId")
    what_if = cur.boolean("whatIf")
    if quantity is None:
        raise MalformedRequestError("field 'totalQuantity' is empty")
    request = OrderRequest(
        client_id=client_id,
        order_id=order_id,
        con_id=contract.con_id,
        symbol=contract.symbol,
        exchange=contract.exchange,
        currency=contract.currency,
        action=action,
        total_quantity=quantity,
        order_type=order_type,
        lmt_price=lmt_price,
        aux_price=aux_price,
        tif=tif,
        oca_group=oca_group,
        oca_type=oca_type,
        account=account,
        order_ref=order_ref,
        transmit=transmit,
        parent_id=parent_id,
        outside_rth=outside_rth,
    )
    return PlaceOrder(request=request, sec_type=contract.sec_type, what_if=what_if)


def decode_cancel_order(fields: Sequence[str]) -> int:
    """cancelOrder (4): returns the order id."""
    cur = Cursor(fields)
    cur.integer("version")
    return cur.integer("orderId")


def decode_auto_open_orders(fields: Sequence[str]) -> bool:
    cur = Cursor(fields)
    cur.integer("version")
    return cur.boolean("autoBind")


def decode_req_ids(fields: Sequence[str]) -> int:
    cur = Cursor(fields)
    cur.integer("version")
    return cur.integer("numIds")


# --- accounts and positions ----------------------------------------------------------------------


@dataclass(frozen=True)
class AccountUpdates:
    subscribe: bool
    account: str


def decode_account_updates(fields: Sequence[str]) -> AccountUpdates:
    cur = Cursor(fields)
    cur.integer("version")
    subscribe = cur.boolean("subscribe")
    return AccountUpdates(subscribe, cur.text("accountCode"))


@dataclass(frozen=True)
class AccountUpdatesMulti:
    req_id: int
    account: str
    model_code: str


def decode_account_updates_multi(fields: Sequence[str]) -> AccountUpdatesMulti:
    cur = Cursor(fields)
    cur.integer("version")
    req_id = cur.integer("reqId")
    account = cur.text("account")
    model_code = cur.text("modelCode")
    cur.optional_text()  # ledgerAndNLV
    return AccountUpdatesMulti(req_id, account, model_code)


@dataclass(frozen=True)
class AccountSummaryRequest:
    req_id: int
    group: str
    tags: tuple[str, ...]


def decode_account_summary(fields: Sequence[str]) -> AccountSummaryRequest:
    cur = Cursor(fields)
    cur.integer("version")
    req_id = cur.integer("reqId")
    group = cur.text("group")
    tags = tuple(t.strip() for t in cur.text("tags").split(",") if t.strip())
    return AccountSummaryRequest(req_id, group, tags)


def decode_versioned_req_id(fields: Sequence[str]) -> int:
    """Messages laid out as ``id, version, reqId`` (cancels, cancelAccountSummary, ...)."""
    cur = Cursor(fields)
    cur.integer("version")
    return cur.integer("reqId")


@dataclass(frozen=True)
class ExecutionFilter:
    req_id: int
    client_id: int
    account: str
    time: str
    symbol: str
    sec_type: str
    exchange: str
    side: str


def decode_req_executions(fields: Sequence[str]) -> ExecutionFilter:
    cur = Cursor(fields)
    cur.integer("version")
    req_id = cur.integer("reqId")
    client_id = cur.integer("clientId")
    account = cur.text("acctCode")
    time = cur.text("time")
    symbol = cur.text("symbol")
    sec_type = cur.text("secType")
    exchange = cur.text("exchange")
    side = cur.text("side")
    return ExecutionFilter(req_id, client_id, account, time, symbol, sec_type, exchange, side)


def decode_completed_orders(fields: Sequence[str]) -> bool:
    """reqCompletedOrders (99): apiOnly, no version field."""
    cur = Cursor(fields)
    return cur.boolean("apiOnly")


# --- contracts and market data -------------------------------------------------------------------


@dataclass(frozen=True)
class ContractDetailsRequest:
    req_id: int
    contract: WireRequestContract


def decode_contract_details(fields: Sequence[str]) -> ContractDetailsRequest:
    cur = Cursor(fields)
    cur.integer("version")
    req_id = cur.integer("reqId")
    contract = read_c12(cur)
    return ContractDetailsRequest(req_id, contract)


def decode_market_rule(fields: Sequence[str]) -> int:
    return Cursor(fields).integer("marketRuleId")


@dataclass(frozen=True)
class MarketDataRequest:
    req_id: int
    contract: WireRequestContract
    generic_ticks: str
    snapshot: bool
    regulatory_snapshot: bool


def decode_mkt_data(fields: Sequence[str]) -> MarketDataRequest:
    cur = Cursor(fields)
    cur.integer("version")
    req_id = cur.integer("reqId")
    contract = read_c12(cur)
    if contract.sec_type == "BAG":
        cur.skip(4 * cur.integer("comboLegCount"), "comboLeg")
    if cur.boolean("deltaNeutralContract"):
        cur.skip(3, "deltaNeutralContract")
    generic = cur.text("genericTickList")
    snapshot = cur.boolean("snapshot")
    regulatory = cur.boolean("regulatorySnapshot")
    return MarketDataRequest(req_id, contract, generic, snapshot, regulatory)


def decode_market_data_type(fields: Sequence[str]) -> int:
    cur = Cursor(fields)
    cur.integer("version")
    return cur.integer("marketDataType")


@dataclass(frozen=True)
class HistoricalDataRequest:
    req_id: int
    contract: WireRequestContract
    end: str
    bar_size: str
    duration: str
    use_rth: bool
    what_to_show: str
    format_date: int
    keep_up_to_date: bool


def decode_historical_data(fields: Sequence[str]) -> HistoricalDataRequest:
    """reqHistoricalData (20): no version; barSize comes before duration on the wire."""
    cur = Cursor(fields)
    req_id = cur.integer("reqId")
    contract = read_c12(cur)
    cur.text("includeExpired")
    end = cur.text("endDateTime")
    bar_size = cur.text("barSize")
    duration = cur.text("duration")
    use_rth = cur.boolean("useRTH")
    what = cur.text("whatToShow")
    format_date = cur.integer("formatDate", default=1)
    if contract.sec_type == "BAG":
        cur.skip(4 * cur.integer("comboLegCount"), "comboLeg")
    keep = cur.boolean("keepUpToDate") if not cur.at_end() else False
    return HistoricalDataRequest(req_id, contract, end, bar_size, duration, use_rth, what, format_date, keep)
