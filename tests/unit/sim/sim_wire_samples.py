"""Sample values shared by the wire tests (one SEHK stock, one bracket leg, one fill)."""

from __future__ import annotations

from decimal import Decimal

from catalyst.sim.gateway import wire_encode as enc

TENCENT = enc.WireContract(con_id=900000700, symbol="700")

STOP_LEG = enc.WireOrder(
    order_id=13,
    client_id=7,
    perm_id=1000003,
    parent_id=11,
    parent_perm_id=1000001,
    account="DU0000001",
    action="SELL",
    total_quantity=100,
    order_type="STP",
    lmt_price=None,
    aux_price=Decimal("370.2"),
    tif="GTC",
    oca_group="1000001",
    oca_type=3,
    order_ref="run-1:SL",
    outside_rth=False,
    status="PreSubmitted",
    filled=0,
    remaining=100,
    avg_fill_price=Decimal(0),
    last_fill_price=Decimal(0),
    why_held="child,trigger",
    completed_time="20261124 10:15:02 Asia/Hong_Kong",
    completed_status="",
)

FILL = enc.WireExecution(
    req_id=-1,
    order_id=11,
    client_id=7,
    perm_id=1000001,
    exec_id="0000e0d5.6743a1b2.01.01",
    time="20261124 10:15:02 Asia/Hong_Kong",
    account="DU0000001",
    exchange="SEHK",
    side="BOT",
    shares=100,
    price=Decimal("388.2"),
    cum_qty=100,
    avg_price=Decimal("388.2"),
    order_ref="run-1:P",
    last_liquidity=2,
)

DETAILS = enc.WireContractDetails(
    contract=TENCENT,
    market_name="700",
    min_tick=Decimal("0.01"),
    long_name="TENCENT HOLDINGS LTD (SIM)",
    order_types="LMT,MKT,STP,STP LMT",
    valid_exchanges="SEHK",
    market_rule_ids="3201",
    time_zone_id="Asia/Hong_Kong",
    trading_hours="20261124:0900-20261124:1200;20261124:1300-20261124:1610",
    liquid_hours="20261124:0930-20261124:1200;20261124:1300-20261124:1600",
    industry="Communications",
    category="Internet",
    subcategory="Internet Content",
    stock_type="COMMON",
    min_size=100,
    size_increment=100,
    suggested_size_increment=100,
)

BAR = enc.WireBar(
    date="20261124 10:00:00 Asia/Hong_Kong",
    open=Decimal("388.2"),
    high=Decimal("389"),
    low=Decimal("387.6"),
    close=Decimal("388.8"),
    volume=120000,
    wap=Decimal("388.35"),
    count=310,
)
