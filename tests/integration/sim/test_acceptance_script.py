"""Issue 3's acceptance: the ib_async-only script against a gateway started as a process."""

from __future__ import annotations

from pathlib import Path

import acceptance_script
import pytest
from ib_async import Trade
from sim_gateway_helpers import connect, start_fresh_gateway

from catalyst.sim.gateway.launcher import GatewayHandle

pytestmark = pytest.mark.integration


def _audit_bracket(handle: GatewayHandle, owner_client_id: int) -> list[Trade]:
    """What a second client sees with reqAllOpenOrders: every Trade built from openOrder fields only."""
    auditor = connect(handle, client_id=owner_client_id + 1)
    try:
        return auditor.reqAllOpenOrders()
    finally:
        auditor.disconnect()


def test_bracket_round_trip_fills_exits_and_returns_flat_with_fees(tmp_path: Path) -> None:
    handle = start_fresh_gateway(tmp_path)
    audited: list[Trade] = []

    def audit_then_speed_up() -> None:
        audited.extend(_audit_bracket(handle, owner_client_id=21))
        handle.control.set_speed(600)

    try:
        report = acceptance_script.run(
            handle.host, handle.port, client_id=21, on_bracket_verified=audit_then_speed_up, timeout=60
        )
        assert report.bracket_ok, report.broker_open_orders
        parent = next(t for t in audited if t.order.parentId == 0)
        children = {t.order.orderType: t for t in audited if t.order.parentId == parent.order.orderId}
        assert len(audited) == 3 and all(t.order.clientId == 21 for t in audited)
        assert parent.order.lmtPrice == report.entry
        assert (
            children["LMT"].order.lmtPrice == report.target and children["STP"].order.auxPrice == report.stop
        )
        assert children["STP"].order.ocaGroup == str(parent.order.permId)
        legs = {leg.order_type: leg for leg in report.broker_open_orders}
        assert legs["STP"].aux_price == report.stop and legs["LMT"].lmt_price in (report.entry, report.target)
        assert report.entry_filled and report.exit_leg in ("target", "stop")
        assert report.sibling_cancelled
        assert report.final_position == 0
        assert report.fees > 0
        assert all(code == 202 for _, code, _ in report.errors), report.errors  # the sibling's cancel only
        assert report.complete
        gateway_orders = handle.control.orders()
        assert sorted(o["status"] for o in gateway_orders) == ["Cancelled", "Filled", "Filled"]
        assert {o["side"] for o in gateway_orders} == {"BUY", "SELL"}
    finally:
        handle.stop()


def test_with_drop_children_the_script_sees_only_the_parent_and_no_error(tmp_path: Path) -> None:
    handle = start_fresh_gateway(tmp_path, faults=["drop-children"])
    try:
        report = acceptance_script.run(handle.host, handle.port, timeout=1, ack_timeout=1.5)
        assert not report.bracket_ok
        assert [(leg.order_type, leg.parent_id) for leg in report.broker_open_orders] == [("LMT", 0)]
        assert report.errors == []
        assert [o["parent_id"] for o in handle.control.orders()] == [0]
    finally:
        handle.stop()
