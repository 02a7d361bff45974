"""The simulated IB Gateway's TWS protocol server: client sessions over asyncio, request handling,
and routing of the exchange engine's events to the clients that should see them.

One event loop owns the engine (``catalyst.sim.engine.exchange.Exchange``): requests, the engine's clock
ticks and control-channel commands all run on it, so the engine needs no locks. Each client is a
:class:`ClientSession`; a session whose socket misbehaves is closed and logged while every other
session carries on with the engine's state intact.
"""

from __future__ import annotations

import asyncio
import contextlib
import time as _time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog

from catalyst.sim.gateway import wire_encode as enc
from catalyst.sim.gateway.connection_faults import (
    ConnectionFaults,
)
from catalyst.sim.gateway.outages import OutageHandling
from catalyst.sim.gateway.session_values import (
    ClientSession,
    Outage,
    ServerSettings,
)

log = structlog.get_logger(__name__)


class GatewayServer(OutageHandling):
    """Serves the TWS protocol for one :class:`~catalyst.sim.engine.exchange.Exchange`."""

    def __init__(
        self,
        exchange: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        settings: ServerSettings | None = None,
    ) -> None:
        self.exchange = exchange
        self.host = host
        self.port = port
        self.settings = settings or ServerSettings()
        self.faults = ConnectionFaults()
        self.sessions: dict[int, ClientSession] = {}
        self._all: set[ClientSession] = set()
        self._server: asyncio.base_events.Server | None = None
        self._tick_task: asyncio.Task[None] | None = None
        self._restart_task: asyncio.Task[None] | None = None
        self._outage: Outage | None = None
        self._next_ids: dict[int, int] = {}
        self._contracts: dict[tuple[int, str], enc.WireContract] = {}
        self.accepting = False
        self.connections_total = 0
        self.started_at = datetime.now(UTC)
        self.on_stop_requested: Callable[[], None] | None = None

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self.restore_faults()
        # bring the market up to the clock before anyone connects (the first day's prices take a moment)
        self.dispatch(self.exchange.tick())
        await self._listen()
        self._tick_task = asyncio.create_task(self._tick_loop(), name="sim-engine-tick")



    async def stop(self) -> None:
        if self._tick_task is not None:
            self._tick_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick_task
            self._tick_task = None
        if self._restart_task is not None:
            self._restart_task.cancel()
        if self._outage is not None and self._outage.timer is not None:
            self._outage.timer.cancel()
        await self._stop_listening()
        self.drop_all_clients("gateway stopping")

    async def _tick_loop(self) -> None:
        last_bar_update = 0.0
        while True:
            await asyncio.sleep(self.settings.tick_interval)
            try:
                self.dispatch(self.exchange.tick())
                now = _time.monotonic()
                if self._outage is None and now - last_bar_update >= self.settings.bar_update_interval:
                    last_bar_update = now
                    self._update_bar_subscriptions()
            except Exception:
                log.exception("sim.gateway.tick_failed")

    # --- connections ----------------------------------------------------------------------------









    # --- faults ---------------------------------------------------------------------------------











    # --- ids --------------------------------------------------------------------------------------



    # --- event routing ----------------------------------------------------------------------------











    # --- requests ---------------------------------------------------------------------------------































