"""Fixtures of the broker integration suite (helpers live in ``broker_harness``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from broker_harness import (
    SIM_ACCOUNT,
    GatewayTarget,
    RecordedTarget,
    capture_path,
    paper_target,
    recorded,
    start_sim,
)

from catalyst.ledger import Ledger

_RECORDINGS: list[RecordedTarget] = []


@pytest.fixture(scope="session")
def paper_gateway() -> Iterator[GatewayTarget]:
    """The IB paper gateway, through the capture proxy unless CATALYST_IB_CAPTURE=off: one recording
    for the whole session, so the first paper run leaves the capture that settles the open questions."""
    target = paper_target()
    if target is None:
        pytest.skip(
            "IB paper suite not configured: set CATALYST_IB_HOST, CATALYST_IB_PORT and "
            "CATALYST_IB_ACCOUNT (a paper DU... account) to run it"
        )
    recording = recorded(target, capture_path(os.environ))
    _RECORDINGS.append(recording)
    try:
        yield recording.target
    finally:
        recording.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for recording in _RECORDINGS:
        if recording.capture is not None:
            terminalreporter.write_line(
                f"IB paper session recorded to {recording.capture}; compare the simulator with it: "
                f"catalyst gateway conform {recording.capture}"
            )


@pytest.fixture(scope="module", params=["sim", pytest.param("paper", marks=pytest.mark.ibkr_paper)])
def gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayTarget]:
    """Every test of the suite runs against the simulator and, when configured, an IB paper gateway
    (recorded through the capture proxy)."""
    if request.param == "paper":
        yield request.getfixturevalue("paper_gateway")
        return
    handle = start_sim(tmp_path_factory.mktemp("gateway"))
    try:
        yield GatewayTarget("sim", handle.host, handle.port, SIM_ACCOUNT, handle.control)
    finally:
        handle.stop()


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.duckdb")


@pytest.fixture
def risk_events() -> list[dict[str, Any]]:
    return []
