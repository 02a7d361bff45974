"""The opt-in IB paper suite records its session through the capture proxy by default.

Against a real paper gateway nobody can rerun the session, so the suite's first run must leave the
capture that `catalyst gateway conform` compares the simulator with. Here a simulator stands in
for the paper gateway (the suite only knows it as host, port and a DU account): the session runs
through the proxy, the capture holds its frames, and the account id is redacted in the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from broker_harness import (
    CAPTURE_DIR,
    SIM_ACCOUNT,
    GatewayTarget,
    capture_path,
    recorded,
    run_session,
    start_sim,
)

from catalyst.broker import BrokerSession
from catalyst.broker.queries import AccountSnapshot
from catalyst.sim.capture.capture_file import read_capture
from catalyst.sim.gateway.launcher import GatewayHandle

pytestmark = [pytest.mark.integration]


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHandle]:
    handle = start_sim(tmp_path_factory.mktemp("paper-stand-in"))
    try:
        yield handle
    finally:
        handle.stop()


def test_by_default_the_capture_goes_to_runs_captures_named_by_the_time() -> None:
    when = datetime(2026, 12, 8, 1, 2, 3, tzinfo=UTC)
    assert capture_path({}, when) == CAPTURE_DIR / "ib-paper-20261208T010203Z.jsonl"
    worker = {"PYTEST_XDIST_WORKER": "gw1"}  # each xdist worker records a file of its own
    assert capture_path(worker, when) == CAPTURE_DIR / "ib-paper-20261208T010203Z-gw1.jsonl"
    assert CAPTURE_DIR.parts[-2:] == ("runs", "captures")  # never committed: runs/ is ignored


def test_the_capture_file_can_be_named_or_turned_off(tmp_path: Path) -> None:
    named = {"CATALYST_IB_CAPTURE": str(tmp_path / "mine.jsonl")}
    assert capture_path(named) == tmp_path / "mine.jsonl"
    assert capture_path({**named, "PYTEST_XDIST_WORKER": "gw0"}) == tmp_path / "mine-gw0.jsonl"
    for off in ("off", "OFF", "0", "no"):
        assert capture_path({"CATALYST_IB_CAPTURE": off}) is None


def test_the_paper_session_is_recorded_through_the_proxy_with_the_account_redacted(
    stand_in: GatewayHandle, tmp_path: Path
) -> None:
    paper = GatewayTarget("paper", stand_in.host, stand_in.port, SIM_ACCOUNT, None)
    out = tmp_path / "captures" / "ib-paper.jsonl"
    recording = recorded(paper, out)
    try:
        assert recording.target.port != stand_in.port  # the suite talks to the proxy, not the gateway

        async def scenario(session: BrokerSession) -> AccountSnapshot:
            return await session.account_snapshot()

        snapshot = run_session(recording.target, None, scenario)
    finally:
        recording.stop()
    assert snapshot.account == SIM_ACCOUNT and snapshot.net_liquidation > 0  # it worked as directly
    capture = read_capture(out)
    assert capture.complete and len(capture.sessions) == 1
    names = {f.name for f in capture.sessions[0].frames}
    assert {"startApi", "managedAccounts", "nextValidId", "reqAccountUpdates", "updateAccountValue"} <= names
    assert SIM_ACCOUNT not in out.read_text(encoding="utf-8")  # redacted in the file only


def test_with_recording_off_the_suite_talks_to_the_gateway_directly(stand_in: GatewayHandle) -> None:
    paper = GatewayTarget("paper", stand_in.host, stand_in.port, SIM_ACCOUNT, None)
    recording = recorded(paper, None)
    assert recording.target == paper and recording.proxy is None
    recording.stop()  # nothing to stop
