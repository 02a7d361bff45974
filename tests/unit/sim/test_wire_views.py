"""Engine values as the wire shows them: bar dates, execution times, order fields, details."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from catalyst.market import HK_TZ
from catalyst.sim.engine import model as m
from catalyst.sim.gateway.wire_views import (
    contract_details_of,
    execution_time_text,
    wire_bar_of,
    wire_contract_of,
    wire_order_of,
)

BAR = m.Bar(
    time=datetime(2026, 11, 24, 10, 5, tzinfo=HK_TZ),
    open=Decimal("388.2"),
    high=Decimal("389"),
    low=Decimal("388"),
    close=Decimal("388.8"),
    volume=12000,
    wap=Decimal("388.5"),
    count=40,
)

CONTRACT = m.SimContract(
    con_id=900000700,
    symbol="700",
    long_name="TENCENT HOLDINGS LTD (SIM)",
    min_tick=Decimal("0.001"),
    market_rule_id=3201,
    board_lot=100,
    trading_hours="20261124:0900-20261124:1200",
    liquid_hours="20261124:0930-20261124:1200",
    time_zone="Asia/Hong_Kong",
    industry="Communications",
    category="Internet",
    subcategory="Internet Content",
    stock_type="COMMON",
)


def test_intraday_bar_dates_carry_the_zone() -> None:
    assert wire_bar_of(BAR, daily=False, format_date=1).date == "20261124 10:05:00 Asia/Hong_Kong"


def test_daily_bar_dates_are_plain_dates() -> None:
    assert wire_bar_of(BAR, daily=True, format_date=1).date == "20261124"


def test_format_date_2_gives_epoch_seconds() -> None:
    assert wire_bar_of(BAR, daily=False, format_date=2).date == str(int(BAR.time.timestamp()))


def test_execution_time_is_hong_kong_local_with_zone_name() -> None:
    assert (
        execution_time_text(datetime(2026, 11, 24, 2, 15, 2, tzinfo=UTC))
        == "20261124 10:15:02 Asia/Hong_Kong"
    )


def test_contract_block_uses_the_code_as_local_symbol_and_class() -> None:
    wc = wire_contract_of(CONTRACT)
    assert (wc.local_symbol, wc.trading_class, wc.exchange, wc.currency) == ("700", "700", "SEHK", "HKD")


def test_details_carry_board_lot_as_size_fields_and_keep_smart_if_asked() -> None:
    d = contract_details_of(CONTRACT, requested_exchange="SMART")
    assert (d.min_size, d.size_increment, d.suggested_size_increment) == (100, 100, 100)
    assert d.exchange == "SMART" and d.market_rule_ids == "3201" and d.time_zone_id == "Asia/Hong_Kong"


def test_order_view_keeps_ids_prices_and_completion_time() -> None:
    order = m.SimOrder(
        perm_id=7,
        client_id=3,
        order_id=12,
        account="DU1",
        con_id=900000700,
        symbol="700",
        action="SELL",
        total_quantity=100,
        order_type="STP",
        lmt_price=None,
        aux_price=Decimal("370.2"),
        tif="GTC",
        oca_group="5",
        oca_type=3,
        order_ref="r:SL",
        parent_id=11,
        parent_perm_id=5,
        transmit=True,
        outside_rth=False,
        status="Cancelled",
        completed_at=datetime(2026, 11, 24, 11, 0, tzinfo=HK_TZ),
        completed_status="Cancelled by OCA",
    )
    wo = wire_order_of(order)
    assert (wo.order_id, wo.client_id, wo.perm_id, wo.parent_id, wo.parent_perm_id) == (12, 3, 7, 11, 5)
    assert wo.aux_price == Decimal("370.2") and wo.remaining == 100
    assert (
        wo.completed_time == "20261124 11:00:00 Asia/Hong_Kong" and wo.completed_status == "Cancelled by OCA"
    )
