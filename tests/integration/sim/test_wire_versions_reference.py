"""Every message the simulator can send, at every server version it serves (157..178), is exactly what
IB's own client decoder (ibapi 10.x, the reference for each field's first version) reads at that
version: nothing it cannot parse, nothing missing, no field left over.
"""

from __future__ import annotations

import inspect
from decimal import Decimal
from pathlib import Path

import pytest
from other_ib_clients import reference_problems

from catalyst.sim.gateway import wire_encode as enc
from catalyst.sim.gateway.wire_versions import MIN_CLIENT_VERSION, SERVER_VERSION, VersionedFields

pytestmark = pytest.mark.integration

SERVED = range(MIN_CLIENT_VERSION, SERVER_VERSION + 1)

CONTRACT = enc.WireContract(con_id=900003988, symbol="3988")
LEG = enc.WireOrder(
    order_id=12, client_id=7, perm_id=1000002, parent_id=11, parent_perm_id=1000001, account="DU0000001",
    action="SELL", total_quantity=1000, order_type="STP", lmt_price=None, aux_price=Decimal("4.31"),
    tif="DAY", oca_group="1000001", oca_type=3, order_ref="run-1:SL", outside_rth=False,
    status="PreSubmitted", filled=0, remaining=1000, avg_fill_price=Decimal(0), last_fill_price=Decimal(0),
    why_held="child,trigger", completed_time="20261124 10:15:02 Asia/Hong_Kong", completed_status="",
)  # fmt: skip
FILL = enc.WireExecution(
    req_id=-1, order_id=11, client_id=7, perm_id=1000001, exec_id="0000e0d5.6743a1b2.01.01",
    time="20261124 10:15:02 Asia/Hong_Kong", account="DU0000001", exchange="SEHK", side="BOT",
    shares=1000, price=Decimal("4.52"), cum_qty=1000, avg_price=Decimal("4.52"), order_ref="run-1:P",
    last_liquidity=2,
)  # fmt: skip
DETAILS = enc.WireContractDetails(
    contract=CONTRACT, market_name="3988", min_tick=Decimal("0.001"), long_name="BANK OF CHINA LTD (SIM)",
    order_types="LMT,MKT,STP,STP LMT", valid_exchanges="SEHK", market_rule_ids="3201",
    time_zone_id="Asia/Hong_Kong", trading_hours="20261124:0930-20261124:1200",
    liquid_hours="20261124:0930-20261124:1200", min_size=1000, size_increment=1000,
    suggested_size_increment=1000,
)  # fmt: skip
BAR = enc.WireBar(
    date="20261124 10:00:00 Asia/Hong_Kong", open=Decimal("4.5"), high=Decimal("4.53"), low=Decimal("4.49"),
    close=Decimal("4.52"), volume=1200000, wap=Decimal("4.51"), count=310,
)  # fmt: skip

#: One sample of every message the simulator sends (the handshake reply is read before any decoder).
EVERY_MESSAGE: dict[str, list[str]] = {
    "next_valid_id": enc.next_valid_id(14),
    "managed_accounts": enc.managed_accounts(["DU0000001"]),
    "current_time": enc.current_time(1795500000),
    "error": enc.error(2, 200, "No security definition has been found for the request"),
    "open_order": enc.open_order(LEG, CONTRACT),
    "order_status": enc.order_status(LEG),
    "open_order_end": enc.open_order_end(),
    "completed_order": enc.completed_order(LEG, CONTRACT),
    "completed_orders_end": enc.completed_orders_end(),
    "exec_details": enc.exec_details(FILL, CONTRACT),
    "exec_details_end": enc.exec_details_end(4),
    "commission_report": enc.commission_report(FILL.exec_id, Decimal("18"), "HKD", None),
    "position": enc.position("DU0000001", CONTRACT, 1000, Decimal("4.52")),
    "position_end": enc.position_end(),
    "update_account_value": enc.update_account_value("NetLiquidation", "1000000", "HKD", "DU0000001"),
    "update_portfolio": enc.update_portfolio(
        CONTRACT,
        position=1000,
        market_price=Decimal("4.53"),
        market_value=Decimal("4530"),
        average_cost=Decimal("4.52"),
        unrealized_pnl=Decimal("10"),
        realized_pnl=Decimal(0),
        account="DU0000001",
    ),
    "update_account_time": enc.update_account_time("10:15"),
    "account_download_end": enc.account_download_end("DU0000001"),
    "account_update_multi": enc.account_update_multi(8, "DU0000001", "", "NetLiquidation", "1000000", "HKD"),
    "account_update_multi_end": enc.account_update_multi_end(8),
    "account_summary": enc.account_summary(5, "DU0000001", "NetLiquidation", "1000000", "HKD"),
    "account_summary_end": enc.account_summary_end(5),
    "contract_details": enc.contract_details(1, DETAILS),
    "contract_details_end": enc.contract_details_end(1),
    "market_rule": enc.market_rule(
        3201, [(Decimal(0), Decimal("0.001")), (Decimal("0.25"), Decimal("0.005"))]
    ),
    "tick_req_params": enc.tick_req_params(3, Decimal("0.001"), "a60001", 3),
    "market_data_type": enc.market_data_type(3, 1),
    "tick_price": enc.tick_price(3, enc.TICK_BID, Decimal("4.51"), 120000),
    "tick_size": enc.tick_size(3, enc.TICK_BID_SIZE, 120000),
    "tick_string": enc.tick_string(3, enc.TICK_LAST_TIMESTAMP, "1795500000"),
    "tick_generic": enc.tick_generic(3, 49, 0),
    "tick_snapshot_end": enc.tick_snapshot_end(3),
    "historical_data": enc.historical_data(6, "20261123 10:00:00", "20261124 10:00:00", [BAR, BAR]),
    "historical_data_update": enc.historical_data_update(6, BAR),
}

NOT_MESSAGES = {"fmt_num", "fmt_bool", "ascii_text", "handshake_reply"}


def at(name: str, version: int) -> list[str]:
    fields = EVERY_MESSAGE[name]
    return fields.at_version(version) if isinstance(fields, VersionedFields) else fields


def test_the_samples_cover_every_message_the_encoder_builds() -> None:
    builders = {
        name
        for name, fn in inspect.getmembers(enc, inspect.isfunction)
        if fn.__module__ == enc.__name__ and not name.startswith("_") and name not in NOT_MESSAGES
    }
    assert builders == set(EVERY_MESSAGE)


def test_every_message_at_every_served_version_is_what_ibs_decoder_reads(tmp_path: Path) -> None:
    frames = [{"version": v, "fields": at(name, v)} for v in SERVED for name in EVERY_MESSAGE]
    assert reference_problems(frames, tmp_path) == []


@pytest.mark.parametrize(
    ("name", "version"),
    [("error", 165), ("open_order", 176), ("contract_details", 163), ("exec_details", 177),
     ("completed_order", 169)],
)  # fmt: skip
def test_the_178_layout_sent_below_a_threshold_is_caught_by_the_reference_check(
    tmp_path: Path, name: str, version: int
) -> None:
    """The check above can fail: the layout the simulator used to send to every client is refused."""
    [problem] = reference_problems([{"version": version, "fields": at(name, SERVER_VERSION)}], tmp_path)
    assert f"at version {version}" in problem
