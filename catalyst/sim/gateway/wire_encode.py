"""Outgoing TWS messages at each served server version: one function per message, returning its fields.

Each function returns the list of text fields (message id first) exactly as a real IB Gateway lays
them out at version 178 (``docs/simulator.md`` and ``tws-protocol.md`` §3). The five messages whose
layout changes inside 157..178 (error, openOrder, completedOrder, contractDetails, execDetails) are
built per version (``wire_versions`` holds each field's first version): they return
:class:`~catalyst.sim.gateway.wire_versions.VersionedFields`, and ``.at_version(v)`` gives the layout a
client at ``v`` reads. ``wire_framing.encode_frame`` turns the list into bytes. Rules that matter to
the client's decoder: ints as plain decimal, booleans as ``0``/``1``, unset values as empty strings
(never ``None`` or ``?``), ASCII text (non-ASCII is sent as ``\\uXXXX`` escapes, which the IB client
unescapes in long names).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from catalyst.sim.gateway import wire_versions as v
from catalyst.sim.gateway.wire_versions import per_version

#: IB's "unset double" sentinel, as real gateways write it (e.g. realizedPNL before a position closes).
UNSET_DOUBLE = "1.7976931348623157E308"
#: IB's "unset integer" sentinel.
UNSET_INTEGER = "2147483647"

Fields = list[str]


def fmt_num(value: Decimal | int | float | None) -> str:
    """A number as IB writes it: integers without a decimal point, no exponent, unset as ``""``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    d = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    if not d.is_finite():
        return ""
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


def fmt_bool(value: bool) -> str:
    return "1" if value else "0"


def ascii_text(text: str) -> str:
    """Non-ASCII characters as ``\\uXXXX`` escapes (what the IB client's unicode-escape step expects)."""
    return text.encode("ascii", errors="backslashreplace").decode("ascii")


@dataclass(frozen=True)
class WireContract:
    """The contract block (C11) as the server describes an SEHK stock on the wire."""

    con_id: int
    symbol: str
    sec_type: str = "STK"
    exchange: str = "SEHK"
    currency: str = "HKD"
    local_symbol: str = ""
    trading_class: str = ""

    def c11(self, *, exchange: str | None = None) -> Fields:
        return [
            str(self.con_id),
            self.symbol,
            self.sec_type,
            "",  # lastTradeDateOrContractMonth
            "0",  # strike
            "",  # right
            "",  # multiplier
            self.exchange if exchange is None else exchange,
            self.currency,
            self.local_symbol or self.symbol,
            self.trading_class or self.symbol,
        ]


# --- handshake and session ---------------------------------------------------------------------


def handshake_reply(server_version: int, connect_time: datetime) -> Fields:
    """Exactly two fields: the version and ``YYYYMMDD HH:MM:SS <zone>`` (the client ignores the time)."""
    zone = connect_time.tzname() or "UTC"
    return [str(server_version), connect_time.strftime("%Y%m%d %H:%M:%S ") + zone]


def next_valid_id(order_id: int) -> Fields:
    return ["9", "1", str(order_id)]


def managed_accounts(accounts: Sequence[str]) -> Fields:
    return ["15", "1", ",".join(accounts)]


def current_time(epoch_seconds: int) -> Fields:
    return ["49", "1", str(epoch_seconds)]


@per_version
def error(version: int, req_id: int, code: int, message: str, advanced_order_reject_json: str = "") -> Fields:
    """Error message layout v2; from 166 it ends with ``advancedOrderRejectJson`` (usually empty)."""
    out = ["4", "2", str(req_id), str(code), ascii_text(message)]
    if version >= v.ADVANCED_ORDER_REJECT:
        out.append(advanced_order_reject_json)
    return out


# --- orders ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WireOrder:
    """What the order messages carry about one order (built by the server from the engine's record)."""

    order_id: int
    client_id: int
    perm_id: int
    parent_id: int
    parent_perm_id: int
    account: str
    action: str
    total_quantity: Decimal | int
    order_type: str
    lmt_price: Decimal | None
    aux_price: Decimal | None
    tif: str
    oca_group: str
    oca_type: int
    order_ref: str
    outside_rth: bool
    status: str
    filled: Decimal | int
    remaining: Decimal | int
    avg_fill_price: Decimal
    last_fill_price: Decimal
    why_held: str
    completed_time: str = ""
    completed_status: str = ""


def _fa_profile(version: int) -> Fields:
    """``faProfile`` after ``faPercentage`` in openOrder and completedOrder, below 177 only."""
    return [""] if version < v.FA_PROFILE_DESUPPORT else []


def _peg_best_mid(version: int) -> Fields:
    """minTradeQty, minCompeteSize, competeAgainstBestOffset, midOffsetAtWhole, midOffsetAtHalf (>= 170)."""
    return ["", "", "", "", ""] if version >= v.PEGBEST_PEGMID_OFFSETS else []


def _open_order_tail(version: int) -> Fields:
    """What follows ``usePriceMgmtAlgo`` in openOrder, field by field from its first version."""
    out: Fields = []
    if version >= v.DURATION:
        out.append("")  # duration
    if version >= v.POST_TO_ATS:
        out.append("")  # postToAts
    if version >= v.AUTO_CANCEL_PARENT:
        out.append("0")  # autoCancelParent
    return out + _peg_best_mid(version)


@per_version
def open_order(version: int, o: WireOrder, contract: WireContract) -> Fields:
    """openOrder (5), plain order: 127 fields at 178 (no combo, delta-neutral, scale, algo, condition)."""
    return [
        "5",
        str(o.order_id),
        *contract.c11(),
        o.action,
        fmt_num(o.total_quantity),
        o.order_type,
        fmt_num(o.lmt_price),
        fmt_num(o.aux_price),
        o.tif,
        o.oca_group,
        o.account,
        "O",  # openClose
        "0",  # origin: customer
        o.order_ref,
        str(o.client_id),
        str(o.perm_id),
        fmt_bool(o.outside_rth),
        "0",  # hidden
        "0",  # discretionaryAmt
        "",  # goodAfterTime
        "",  # deprecated sharesAllocation
        "",  # faGroup
        "",  # faMethod
        "",  # faPercentage
        *_fa_profile(version),
        "",  # modelCode
        "",  # goodTillDate
        "",  # rule80A
        "",  # percentOffset
        "",  # settlingFirm
        "0",  # shortSaleSlot
        "",  # designatedLocation
        "-1",  # exemptCode
        "0",  # auctionStrategy
        "",  # startingPrice
        "",  # stockRefPrice
        "",  # delta
        "",  # stockRangeLower
        "",  # stockRangeUpper
        "",  # displaySize
        "0",  # blockOrder
        "0",  # sweepToFill
        "0",  # allOrNone
        "",  # minQty
        str(o.oca_type),
        "0",  # eTradeOnly
        "0",  # firmQuoteOnly
        "",  # nbboPriceCap
        str(o.parent_id),
        "0",  # triggerMethod
        "",  # volatility
        "0",  # volatilityType
        "",  # deltaNeutralOrderType (empty: no 8 delta-neutral fields follow)
        "",  # deltaNeutralAuxPrice
        "0",  # continuousUpdate
        "0",  # referencePriceType
        "",  # trailStopPrice
        "",  # trailingPercent
        "",  # basisPoints
        "",  # basisPointsType
        "",  # comboLegsDescrip
        "0",  # comboLeg count
        "0",  # orderComboLeg count
        "0",  # smartComboRoutingParams count
        "",  # scaleInitLevelSize
        "",  # scaleSubsLevelSize
        "",  # scalePriceIncrement (empty: no scale fields follow)
        "",  # hedgeType (empty: no hedgeParam)
        "0",  # optOutSmartRouting
        "",  # clearingAccount
        "",  # clearingIntent
        "0",  # notHeld
        "0",  # deltaNeutralContract present
        "",  # algoStrategy (empty: no algo params)
        "0",  # solicited
        "0",  # whatIf
        o.status,
        "",  # initMarginBefore
        "",  # maintMarginBefore
        "",  # equityWithLoanBefore
        "",  # initMarginChange
        "",  # maintMarginChange
        "",  # equityWithLoanChange
        "",  # initMarginAfter
        "",  # maintMarginAfter
        "",  # equityWithLoanAfter
        "",  # commission
        "",  # minCommission
        "",  # maxCommission
        "",  # commissionCurrency
        "",  # warningText
        "0",  # randomizeSize
        "0",  # randomizePrice
        "0",  # condition count
        "",  # adjustedOrderType
        "",  # triggerPrice
        "",  # trailStopPrice
        "",  # lmtPriceOffset
        "",  # adjustedStopPrice
        "",  # adjustedStopLimitPrice
        "",  # adjustedTrailingAmount
        "0",  # adjustableTrailingUnit
        "",  # softDollarTier name
        "",  # softDollarTier value
        "",  # softDollarTier displayName
        "",  # cashQty
        "0",  # dontUseAutoPriceForHedge
        "0",  # isOmsContainer
        "0",  # discretionaryUpToLimitPrice
        "",  # usePriceMgmtAlgo
        *_open_order_tail(version),  # duration, postToAts, autoCancelParent, minTradeQty..midOffsetAtHalf
    ]


def order_status(o: WireOrder, *, mkt_cap_price: str = "") -> Fields:
    """orderStatus (3): no version field at 178; the client keys the trade by (clientId, orderId)."""
    return [
        "3",
        str(o.order_id),
        o.status,
        fmt_num(o.filled),
        fmt_num(o.remaining),
        fmt_num(o.avg_fill_price),
        str(o.perm_id),
        str(o.parent_id),
        fmt_num(o.last_fill_price),
        str(o.client_id),
        o.why_held,
        mkt_cap_price,
    ]


def open_order_end() -> Fields:
    return ["53", "1"]


@per_version
def completed_order(version: int, o: WireOrder, contract: WireContract) -> Fields:
    """completedOrder (101): keyed by permId (no orderId/clientId); 96 fields for a plain order at 178."""
    return [
        "101",
        *contract.c11(),
        o.action,
        fmt_num(o.total_quantity),
        o.order_type,
        fmt_num(o.lmt_price),
        fmt_num(o.aux_price),
        o.tif,
        o.oca_group,
        o.account,
        "O",  # openClose
        "0",  # origin
        o.order_ref,
        str(o.perm_id),
        fmt_bool(o.outside_rth),
        "0",  # hidden
        "0",  # discretionaryAmt
        "",  # goodAfterTime
        "",  # faGroup
        "",  # faMethod
        "",  # faPercentage
        *_fa_profile(version),
        "",  # modelCode
        "",  # goodTillDate
        "",  # rule80A
        "",  # percentOffset
        "",  # settlingFirm
        "0",  # shortSaleSlot
        "",  # designatedLocation
        "-1",  # exemptCode
        "",  # startingPrice
        "",  # stockRefPrice
        "",  # delta
        "",  # stockRangeLower
        "",  # stockRangeUpper
        "",  # displaySize
        "0",  # sweepToFill
        "0",  # allOrNone
        "",  # minQty
        str(o.oca_type),
        "0",  # triggerMethod
        "",  # volatility
        "0",  # volatilityType
        "",  # deltaNeutralOrderType (empty: no delta-neutral fields)
        "",  # deltaNeutralAuxPrice
        "0",  # continuousUpdate
        "0",  # referencePriceType
        "",  # trailStopPrice
        "",  # trailingPercent
        "",  # comboLegsDescrip
        "0",  # comboLeg count
        "0",  # orderComboLeg count
        "0",  # smartComboRoutingParams count
        "",  # scaleInitLevelSize
        "",  # scaleSubsLevelSize
        "",  # scalePriceIncrement
        "",  # hedgeType
        "",  # clearingAccount
        "",  # clearingIntent
        "0",  # notHeld
        "0",  # deltaNeutralContract present
        "",  # algoStrategy
        "0",  # solicited
        o.status,
        "0",  # randomizeSize
        "0",  # randomizePrice
        "0",  # condition count
        "",  # trailStopPrice
        "",  # lmtPriceOffset
        "",  # cashQty
        "0",  # dontUseAutoPriceForHedge
        "0",  # isOmsContainer
        "",  # autoCancelDate
        fmt_num(o.filled),  # filledQuantity
        "0",  # refFuturesConId
        "0",  # autoCancelParent
        "",  # shareholder
        "0",  # imbalanceOnly
        "0",  # routeMarketableToBbo
        str(o.parent_perm_id),
        o.completed_time,
        o.completed_status,
        *_peg_best_mid(version),
    ]


def completed_orders_end() -> Fields:
    return ["102"]


# --- executions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WireExecution:
    req_id: int  # -1 for a live fill, else the reqExecutions request id
    order_id: int
    client_id: int
    perm_id: int
    exec_id: str
    time: str  # "YYYYMMDD HH:MM:SS Asia/Hong_Kong"
    account: str
    exchange: str
    side: str  # BOT / SLD
    shares: Decimal | int
    price: Decimal
    cum_qty: Decimal | int
    avg_price: Decimal
    order_ref: str
    last_liquidity: int


@per_version
def exec_details(version: int, e: WireExecution, contract: WireContract) -> Fields:
    """execDetails (11): no version field; 32 fields at 178, where pendingPriceRevision ends it."""
    out = [
        "11",
        str(e.req_id),
        str(e.order_id),
        *contract.c11(),
        e.exec_id,
        e.time,
        e.account,
        e.exchange,
        e.side,
        fmt_num(e.shares),
        fmt_num(e.price),
        str(e.perm_id),
        str(e.client_id),
        "0",  # liquidation
        fmt_num(e.cum_qty),
        fmt_num(e.avg_price),
        e.order_ref,
        "",  # evRule
        "",  # evMultiplier
        "",  # modelCode
        str(e.last_liquidity),
    ]
    if version >= v.PENDING_PRICE_REVISION:
        out.append("0")  # pendingPriceRevision
    return out


def exec_details_end(req_id: int) -> Fields:
    return ["55", "1", str(req_id)]


def commission_report(
    exec_id: str, commission: Decimal, currency: str, realized_pnl: Decimal | None
) -> Fields:
    """commissionReport (59): exactly 8 fields; unset realized P&L and yield as IB's sentinel."""
    return [
        "59",
        "1",
        exec_id,
        fmt_num(commission),
        currency,
        UNSET_DOUBLE if realized_pnl is None else fmt_num(realized_pnl),
        UNSET_DOUBLE,  # yield
        "",  # yieldRedemptionDate
    ]


# --- positions and accounts ----------------------------------------------------------------------


def position(account: str, contract: WireContract, quantity: Decimal | int, avg_cost: Decimal) -> Fields:
    """position (61): exactly 16 fields (the client unpacks a fixed count)."""
    return ["61", "3", account, *contract.c11(), fmt_num(quantity), fmt_num(avg_cost)]


def position_end() -> Fields:
    return ["62", "1"]


def update_account_value(key: str, value: str, currency: str, account: str) -> Fields:
    return ["6", "2", key, value, currency, account]


def update_portfolio(
    contract: WireContract,
    *,
    position: Decimal | int,
    market_price: Decimal,
    market_value: Decimal,
    average_cost: Decimal,
    unrealized_pnl: Decimal,
    realized_pnl: Decimal,
    account: str,
) -> Fields:
    """updatePortfolio (7): exactly 20 fields; the exchange slot carries the primary exchange."""
    return [
        "7",
        "8",
        *contract.c11(),
        fmt_num(position),
        fmt_num(market_price),
        fmt_num(market_value),
        fmt_num(average_cost),
        fmt_num(unrealized_pnl),
        fmt_num(realized_pnl),
        account,
    ]


def update_account_time(hh_mm: str) -> Fields:
    return ["8", "1", hh_mm]


def account_download_end(account: str) -> Fields:
    return ["54", "1", account]


def account_update_multi(
    req_id: int, account: str, model_code: str, key: str, value: str, currency: str
) -> Fields:
    return ["73", "1", str(req_id), account, model_code, key, value, currency]


def account_update_multi_end(req_id: int) -> Fields:
    return ["74", "1", str(req_id)]


def account_summary(req_id: int, account: str, tag: str, value: str, currency: str) -> Fields:
    return ["63", "1", str(req_id), account, tag, value, currency]


def account_summary_end(req_id: int) -> Fields:
    return ["64", "1", str(req_id)]


# --- contracts and market rules ------------------------------------------------------------------


@dataclass(frozen=True)
class WireContractDetails:
    contract: WireContract
    market_name: str
    min_tick: Decimal
    long_name: str
    order_types: str
    valid_exchanges: str
    market_rule_ids: str  # one per valid exchange, comma separated, same order
    time_zone_id: str
    trading_hours: str
    liquid_hours: str
    industry: str = ""
    category: str = ""
    subcategory: str = ""
    stock_type: str = "COMMON"
    min_size: Decimal | int = 1
    size_increment: Decimal | int = 1
    suggested_size_increment: Decimal | int = 1
    exchange: str = "SEHK"  # as the request named it (the client keeps SMART if asked)


@per_version
def contract_details(version: int, req_id: int, d: WireContractDetails) -> Fields:
    """contractDetails (10): 40 fields at >= 164 (no version field, no secIds); below 164 a message
    version and ``mdSizeMultiplier``, and no size rules (163 alone: one ``sizeMinTick``)."""
    c = d.contract
    sized = version >= v.SIZE_RULES
    return [
        "10",
        *([] if sized else [v.CONTRACT_DETAILS_MESSAGE_VERSION]),
        str(req_id),
        c.symbol,
        c.sec_type,
        "",  # lastTradeDateOrContractMonth
        "0",  # strike
        "",  # right
        d.exchange,
        c.currency,
        c.local_symbol or c.symbol,
        d.market_name,
        c.trading_class or c.symbol,
        str(c.con_id),
        fmt_num(d.min_tick),
        *([] if sized else ["1"]),  # mdSizeMultiplier
        "",  # multiplier
        d.order_types,
        d.valid_exchanges,
        "1",  # priceMagnifier
        "0",  # underConId
        ascii_text(d.long_name),
        c.exchange,  # primaryExchange
        "",  # contractMonth
        d.industry,
        d.category,
        d.subcategory,
        d.time_zone_id,
        d.trading_hours,
        d.liquid_hours,
        "",  # evRule
        "",  # evMultiplier
        "0",  # secIdList count
        "0",  # aggGroup
        "",  # underSymbol
        "",  # underSecType
        d.market_rule_ids,
        "",  # realExpirationDate
        d.stock_type,
        *_size_rules(version, d),
    ]


def _size_rules(version: int, d: WireContractDetails) -> Fields:
    if version >= v.SIZE_RULES:
        return [fmt_num(d.min_size), fmt_num(d.size_increment), fmt_num(d.suggested_size_increment)]
    if version == v.FRACTIONAL_SIZE_SUPPORT:
        return [fmt_num(d.size_increment)]  # sizeMinTick
    return []


def contract_details_end(req_id: int) -> Fields:
    return ["52", "1", str(req_id)]


def market_rule(rule_id: int, increments: Sequence[tuple[Decimal, Decimal]]) -> Fields:
    """marketRule (93): no version; the count, then (lowEdge, increment) pairs."""
    out = ["93", str(rule_id), str(len(increments))]
    for low_edge, increment in increments:
        out += [fmt_num(low_edge), fmt_num(increment)]
    return out


# --- market data ---------------------------------------------------------------------------------

TICK_BID_SIZE, TICK_BID, TICK_ASK, TICK_ASK_SIZE, TICK_LAST, TICK_LAST_SIZE = 0, 1, 2, 3, 4, 5
TICK_HIGH, TICK_LOW, TICK_VOLUME, TICK_CLOSE, TICK_OPEN = 6, 7, 8, 9, 14
TICK_LAST_TIMESTAMP = 45


def tick_req_params(req_id: int, min_tick: Decimal, bbo_exchange: str, snapshot_permissions: int) -> Fields:
    return ["81", str(req_id), fmt_num(min_tick), bbo_exchange, str(snapshot_permissions)]


def market_data_type(req_id: int, data_type: int) -> Fields:
    return ["58", "1", str(req_id), str(data_type)]


def tick_price(
    req_id: int, tick_type: int, price: Decimal, size: Decimal | int | None, attr_mask: int = 0
) -> Fields:
    """tickPrice (1): exactly 7 fields; the size rides along (and is resent as tickSize)."""
    return ["1", "6", str(req_id), str(tick_type), fmt_num(price), fmt_num(size), str(attr_mask)]


def tick_size(req_id: int, tick_type: int, size: Decimal | int) -> Fields:
    return ["2", "6", str(req_id), str(tick_type), fmt_num(size)]


def tick_string(req_id: int, tick_type: int, value: str) -> Fields:
    return ["46", "6", str(req_id), str(tick_type), value]


def tick_generic(req_id: int, tick_type: int, value: Decimal | int) -> Fields:
    return ["45", "6", str(req_id), str(tick_type), fmt_num(value)]


def tick_snapshot_end(req_id: int) -> Fields:
    return ["57", "1", str(req_id)]


@dataclass(frozen=True)
class WireBar:
    date: str
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal | int
    wap: Decimal
    count: int


def historical_data(req_id: int, start: str, end: str, bars: Sequence[WireBar]) -> Fields:
    """historicalData (17): no version; every bar in one message, which also ends the request."""
    out = ["17", str(req_id), start, end, str(len(bars))]
    for b in bars:
        out += [
            b.date,
            fmt_num(b.open),
            fmt_num(b.high),
            fmt_num(b.low),
            fmt_num(b.close),
            fmt_num(b.volume),
            fmt_num(b.wap),
            str(b.count),
        ]
    return out


def historical_data_update(req_id: int, b: WireBar) -> Fields:
    """historicalDataUpdate (90): note the order open, close, high, low, WAP, volume."""
    return [
        "90",
        str(req_id),
        str(b.count),
        b.date,
        fmt_num(b.open),
        fmt_num(b.close),
        fmt_num(b.high),
        fmt_num(b.low),
        fmt_num(b.wap),
        fmt_num(b.volume),
    ]
