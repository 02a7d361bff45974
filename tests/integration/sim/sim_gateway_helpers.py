"""Helpers for the simulated gateway's integration tests (connect, wait, a fresh gateway process)."""

from __future__ import annotations

import contextlib
import itertools
from pathlib import Path
from typing import Any

from ib_async import IB

from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway

#: A Tuesday morning in continuous trading: every test sees the same market.
TRADING_CLOCK = "2026-11-24T10:00:00+08:00"

_client_ids = itertools.count(100)


def next_client_id() -> int:
    return next(_client_ids)


def start_fresh_gateway(state_dir: Path, **kwargs: object) -> GatewayHandle:
    return start_gateway(state_dir, clock=TRADING_CLOCK, **kwargs)  # type: ignore[arg-type]


def connect(handle: GatewayHandle, client_id: int | None = None, **kwargs: Any) -> IB:
    ib = IB()
    ib.connect(handle.host, handle.port, clientId=next_client_id() if client_id is None else client_id,
               timeout=10, **kwargs)  # fmt: skip
    return ib


def wait_until(ib: IB, condition: object, timeout: float = 5.0) -> bool:
    """Let ib_async process messages until ``condition()`` holds (no fixed sleeps)."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            return False
        with contextlib.suppress(ConnectionError):  # ib_async raises it when the gateway drops the socket
            ib.sleep(0.02)
    return True
