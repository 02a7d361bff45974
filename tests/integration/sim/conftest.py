"""Fixtures for the simulated gateway's integration tests: a real gateway process on a free port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sim_gateway_helpers import TRADING_CLOCK

from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHandle]:
    handle = start_gateway(tmp_path_factory.mktemp("gateway"), clock=TRADING_CLOCK)
    yield handle
    handle.stop()
