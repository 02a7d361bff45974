"""Engine values (``sim_model``) seen as wire values (``wire_encode``): pure conversions.

Kept apart from the server so every conversion is a plain function with a test, and so the server
module holds only connection and routing logic.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from catalyst.market.hk_timezone import HK_TZ
from catalyst.sim.engine import model as m
from catalyst.sim.gateway import wire_encode as enc

HK_ZONE_NAME = "Asia/Hong_Kong"


def wire_contract_of(sc: m.SimContract) -> enc.WireContract:
    """The C11 block of a listed stock (localSymbol and tradingClass = the stock code [U])."""
    return enc.WireContract(
        con_id=sc.con_id,
        symbol=sc.symbol,
        sec_type=sc.sec_type,
        exchange=sc.exchange,
        currency=sc.currency,
        local_symbol=sc.local_symbol or sc.symbol,
        trading_class=sc.trading_class or sc.symbol,
    )


def contract_details_of(sc: m.SimContract, *, requested_exchange: str = "SEHK") -> enc.WireContractDetails:
    """contractDetails content for a listed stock; the client keeps SMART if the request said SMART.

    minSize, sizeIncrement and suggestedSizeIncrement carry the board lot (whether IB does so for
    SEHK is [U]; hkex-rules.md section 6).
    """
    return enc.WireContractDetails(
        contract=wire_contract_of(sc),
        market_name=sc.market_name,
        min_tick=sc.min_tick,
        long_name=sc.long_name,
        order_types=sc.order_types,
        valid_exchanges=sc.valid_exchanges,
        market_rule_ids=",".join(str(sc.market_rule_id) for _ in sc.valid_exchanges.split(",")),
        time_zone_id=sc.time_zone,
        trading_hours=sc.trading_hours,
        liquid_hours=sc.liquid_hours,
        industry=sc.industry,
        category=sc.category,
        subcategory=sc.subcategory,
        stock_type=sc.stock_type,
        min_size=sc.board_lot,
        size_increment=sc.board_lot,
        suggested_size_increment=sc.board_lot,
        exchange="SMART" if requested_exchange == "SMART" else sc.exchange,
    )


def wire_order_of(o: m.SimOrder) -> enc.WireOrder:
    completed = ""
    if o.completed_at is not None:
        completed = o.completed_at.astimezone(HK_TZ).strftime("%Y%m%d %H:%M:%S ") + HK_ZONE_NAME
    return enc.WireOrder(
        order_id=o.order_id,
        client_id=o.client_id,
        perm_id=o.perm_id,
        parent_id=o.parent_id,
        parent_perm_id=o.parent_perm_id,
        account=o.account,
        action=o.action,
        total_quantity=o.total_quantity,
        order_type=o.order_type,
        lmt_price=o.lmt_price,
        aux_price=o.aux_price,
        tif=o.tif,
        oca_group=o.oca_group,
        oca_type=o.oca_type,
        order_ref=o.order_ref,
        outside_rth=o.outside_rth,
        status=o.status,
        filled=o.filled,
        remaining=o.remaining,
        avg_fill_price=o.avg_fill_price,
        last_fill_price=o.last_fill_price,
        why_held=o.why_held,
        completed_time=completed,
        completed_status=o.completed_status,
    )


def hk_time_text(ts: datetime, fmt: str) -> str:
    return ts.astimezone(HK_TZ).strftime(fmt)


def execution_time_text(ts: datetime) -> str:
    """``YYYYMMDD HH:MM:SS Asia/Hong_Kong`` (whether IB writes this zone name or ``Hongkong`` is [U])."""
    return hk_time_text(ts, "%Y%m%d %H:%M:%S ") + HK_ZONE_NAME


def wire_execution_of(x: m.SimExecution, *, req_id: int) -> enc.WireExecution:
    return enc.WireExecution(
        req_id=req_id,
        order_id=x.order_id,
        client_id=x.client_id,
        perm_id=x.perm_id,
        exec_id=x.exec_id,
        time=execution_time_text(x.time),
        account=x.account,
        exchange="SEHK",
        side=x.side,
        shares=x.shares,
        price=x.price,
        cum_qty=x.cum_qty,
        avg_price=x.avg_price,
        order_ref=x.order_ref,
        last_liquidity=x.liquidity,
    )


def wire_bar_of(b: m.Bar, *, daily: bool, format_date: int) -> enc.WireBar:
    """A bar with IB's date text: ``YYYYMMDD`` daily, ``YYYYMMDD HH:MM:SS zone`` intraday, epoch if 2."""
    if format_date == 2 and not daily:
        date_text = str(int(b.time.timestamp()))
    elif daily:
        date_text = hk_time_text(b.time, "%Y%m%d")
    else:
        date_text = hk_time_text(b.time, "%Y%m%d %H:%M:%S ") + HK_ZONE_NAME
    return enc.WireBar(
        date=date_text,
        open=b.open,
        high=b.high,
        low=b.low,
        close=b.close,
        volume=b.volume,
        wap=b.wap,
        count=b.count,
    )


_END_FORMATS = ("%Y%m%d %H:%M:%S", "%Y%m%d-%H:%M:%S", "%Y%m%d")


class BadEndDateTimeError(ValueError):
    """reqHistoricalData's endDateTime is not in any format IB accepts."""


def parse_end_datetime(text: str, now: datetime) -> datetime:
    """reqHistoricalData's endDateTime: ``""`` is now, else ``YYYYMMDD HH:MM:SS [zone]`` or
    ``YYYYMMDD-HH:MM:SS`` (UTC); a time with no zone is Hong Kong time."""
    raw = text.strip()
    if not raw:
        return now
    zone: Any = HK_TZ
    match = re.match(r"^(\d{8}[ -]\d{2}:\d{2}:\d{2})(?: +(\S+))?$", raw)
    if match:
        body, zone_name = match.group(1), match.group(2)
        if "-" in body:
            zone = UTC
        elif zone_name:
            zone = UTC if zone_name.upper() in ("UTC", "GMT") else _zone(zone_name)
        fmt = "%Y%m%d-%H:%M:%S" if "-" in body else "%Y%m%d %H:%M:%S"
        return datetime.strptime(body, fmt).replace(tzinfo=zone)
    if re.match(r"^\d{8}$", raw):
        return datetime.strptime(raw, "%Y%m%d").replace(tzinfo=HK_TZ)
    raise BadEndDateTimeError(
        f"endDateTime {raw[:40]!r} is not 'YYYYMMDD HH:MM:SS [zone]' or 'YYYYMMDD-HH:MM:SS'"
    )


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadEndDateTimeError(f"unknown time zone {name!r} in endDateTime") from None
