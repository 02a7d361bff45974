"""Every IB client served in its own protocol version (issue 14 §2): IB's official client at an old
and a current release, and ib_insync, each over a real socket against the simulated gateway.

Each session does a handshake, contract details, an error (an unknown stock), a bracket whose parent
fills (an execution and its commission), and the usual queries. The client's own decoder reads every
frame: it must raise nothing, log nothing, and (IB's clients read field by field) leave no field
unread. ib_insync's frames are also read by IB's current decoder at the version ib_insync negotiated,
which finds a field it did not expect where ib_insync would silently ignore it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from other_ib_clients import IB_INSYNC, IBAPI_981, IBAPI_CURRENT, OtherClient, reference_problems, run_session
from sim_gateway_helpers import TRADING_CLOCK, next_client_id

from catalyst.sim.engine.contracts import LISTINGS
from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway

pytestmark = pytest.mark.integration

SYMBOL = "3988"  # HK$4.50 a share, 1,000 a lot: a few dozen sessions fit in one simulated account
LOT = LISTINGS[SYMBOL].board_lot
CON_ID = LISTINGS[SYMBOL].con_id


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHandle]:
    handle = start_gateway(tmp_path_factory.mktemp("clients"), clock=TRADING_CLOCK, ephemeral=True)
    yield handle
    handle.stop()


def session(client: OtherClient, gateway: GatewayHandle, tmp_path: Path, max_version: int | None = None
            ) -> dict[str, Any]:  # fmt: skip
    return run_session(client, gateway, tmp_path, client_id=next_client_id(), symbol=SYMBOL, quantity=LOT,
                       max_version=max_version)  # fmt: skip


def assert_served_cleanly(report: dict[str, Any], version: int) -> None:
    assert report["server_version"] == version
    assert [step for step, done in report["steps"].items() if not done] == []
    assert report["problems"] == []


def calls(report: dict[str, Any], name: str) -> list[list[Any]]:
    return [args for n, args in report["callbacks"] if n == name]


def assert_ibapi_saw_the_session(report: dict[str, Any]) -> None:
    """The values behind the steps, as IB's client decoded them."""
    [(_, details)] = calls(report, "contractDetails")
    assert details["contract"]["conId"] == CON_ID and details["contract"]["symbol"] == SYMBOL
    assert details["longName"].endswith("(SIM)") and details["timeZoneId"] == "Asia/Hong_Kong"
    assert details["marketRuleIds"] and details["stockType"] == "COMMON"
    errors = {(args[0], args[1] if isinstance(args[2], str) else args[2]) for args in calls(report, "error")}
    assert (2, 200) in errors and (-1, 2104) in errors
    orders = {args[0]: args[2] for args in calls(report, "openOrder")}
    parent = min(orders)
    children = {oid: o for oid, o in orders.items() if o["parentId"] == parent}
    assert sorted(o["orderType"] for o in children.values()) == ["LMT", "STP"]
    assert all(o["action"] == "SELL" and float(o["totalQuantity"]) == LOT for o in children.values())
    live_fills = [args[2] for args in calls(report, "execDetails") if args[0] == -1]
    assert [(f["orderId"], f["side"], float(f["shares"])) for f in live_fills] == [(parent, "BOT", LOT)]
    reports = calls(report, "commissionReport") + calls(report, "commissionAndFeesReport")
    assert reports and reports[0][0]["execId"] == live_fills[0]["execId"]


def test_ibapi_981_negotiates_157_and_decodes_every_message(gateway: GatewayHandle, tmp_path: Path) -> None:
    report = session(IBAPI_981, gateway, tmp_path)
    assert_served_cleanly(report, 157)
    assert_ibapi_saw_the_session(report)


def test_the_frames_ibapi_981_read_are_what_ibs_current_decoder_reads_at_157(
    gateway: GatewayHandle, tmp_path: Path
) -> None:
    report = session(IBAPI_981, gateway, tmp_path)
    assert reference_problems([{"version": 157, "fields": f} for f in report["frames"]], tmp_path) == []


def test_current_ibapi_negotiates_178_and_decodes_every_message(
    gateway: GatewayHandle, tmp_path: Path
) -> None:
    report = session(IBAPI_CURRENT, gateway, tmp_path)
    assert_served_cleanly(report, 178)
    assert_ibapi_saw_the_session(report)


#: The versions at which a field the simulator sends appears or goes (catalyst.sim.gateway.wire_versions),
#: and the one on each side of them.
THRESHOLDS = [157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 169, 170, 176, 177]


@pytest.mark.parametrize("version", THRESHOLDS)
def test_current_ibapi_offering_only_up_to_a_version_is_served_in_it(
    gateway: GatewayHandle, tmp_path: Path, version: int
) -> None:
    report = session(IBAPI_CURRENT, gateway, tmp_path, max_version=version)
    assert_served_cleanly(report, version)
    assert_ibapi_saw_the_session(report)


@pytest.mark.parametrize("version", [None, 157, 164, 170])
def test_ib_insync_decodes_every_message_at_the_version_it_negotiates(
    gateway: GatewayHandle, tmp_path: Path, version: int | None
) -> None:
    report = session(IB_INSYNC, gateway, tmp_path, max_version=version)
    negotiated = 176 if version is None else version  # ib_insync 0.9.86 offers v157..176
    assert_served_cleanly(report, negotiated)
    assert [e[1] for e in report["errors"] if e[0] > 0 and e[1] == 200] == [200]
    assert sorted((t["type"], t["status"]) for t in report["trades"]) == [
        ("LMT", "Cancelled"),
        ("LMT", "Filled"),
        ("STP", "Cancelled"),
    ]
    frames = [{"version": negotiated, "fields": f} for f in report["frames"]]
    assert reference_problems(frames, tmp_path) == []
