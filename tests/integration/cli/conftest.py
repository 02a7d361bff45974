"""Fixtures of the command-line suite: one simulated gateway shared by the cases that connect."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bad_inputs import SharedGateway, start_shared_gateway


@pytest.fixture(scope="session")
def shared_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedGateway]:
    gateway, stop = start_shared_gateway(tmp_path_factory.mktemp("cli-gateway"))
    try:
        yield gateway
    finally:
        stop()
