"""Fixtures of the broker integration suite (helpers live in ``broker_harness``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from broker_harness import SIM_ACCOUNT, GatewayTarget, paper_target, start_sim

from catalyst.ledger import Ledger


@pytest.fixture(scope="module", params=["sim", pytest.param("paper", marks=pytest.mark.ibkr_paper)])
def gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayTarget]:
    """Every test of the suite runs against the simulator and, when configured, an IB paper gateway."""
    if request.param == "paper":
        target = paper_target()
        if target is None:
            pytest.skip(
                "IB paper suite not configured: set CATALYST_IB_HOST, CATALYST_IB_PORT and "
                "CATALYST_IB_ACCOUNT (a paper DU... account) to run it"
            )
        yield target
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
