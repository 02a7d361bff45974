"""Connection faults switched on and off: disconnects, restarts, connectivity outages and their end.

One job of :class:`catalyst.sim.gateway.server.GatewayServer`, which inherits it.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from catalyst.sim.engine.errors import FaultParameterError
from catalyst.sim.gateway import entitlements
from catalyst.sim.gateway import wire_decode as dec
from catalyst.sim.gateway import wire_encode as enc
from catalyst.sim.gateway.client_sessions import ClientSessions
from catalyst.sim.gateway.connection_faults import (
    ALL_FAULTS,
    CONNECTION_FAULTS,
    ENGINE_FAULTS,
    connectivity_params,
    unknown_fault,
)
from catalyst.sim.gateway.session_values import (
    CONNECTIVITY_LOST,
    CONNECTIVITY_RESTORED,
    FARM_NOTICES,
    FARMS_BROKEN,
    ClientSession,
    Outage,
)

log = structlog.get_logger(__name__)


class OutageHandling(ClientSessions):
    """Connection faults switched on and off: disconnects, restarts, connectivity outages and their end."""

    def set_fault(self, name: str, on: bool, **params: object) -> dict[str, dict[str, object]]:
        """Switch a fault; the engine records every fault, the server acts on the connection ones."""
        if name not in ALL_FAULTS:
            raise unknown_fault(name)
        if name == entitlements.FAULT_NAME and on:
            entitlements.check_params(params)
        if name == "connectivity" and on:
            seconds, restore = connectivity_params(params)  # refuse bad parameters before recording
            if self._outage is not None:
                raise FaultParameterError(
                    "fault connectivity is already on (an outage is in progress); "
                    "switch it off first or wait for it to end"
                )
        self.exchange.set_fault(name, on, **params)
        layer = "engine" if name in ENGINE_FAULTS else "connection" if name in CONNECTION_FAULTS else "data"
        log.info(
            "sim.fault.set", fault=name, on=on, params={k: str(v) for k, v in params.items()}, layer=layer
        )
        if name in CONNECTION_FAULTS:
            self.faults.set(name, on, params)
            if on and name == "disconnect" and self.faults.disconnect_countdown is None:
                self._fire_disconnect()
            if on and name == "restart":
                seconds = float(str(params.get("seconds", 5)))
                self._restart_task = asyncio.get_running_loop().create_task(self._restart(seconds))
            if name == "connectivity":
                if on:
                    self._lose_connectivity(seconds, restore)
                elif self._outage is not None and not self._outage.restoring:
                    asyncio.get_running_loop().create_task(self._restore_connectivity())
        return self.fault_states()

    def restore_faults(self) -> None:
        """Take over latency/pacing switched on before a gateway restart (one-shot faults are not kept)."""
        for name, params in self.exchange.faults().items():
            if name in ("latency", "pacing"):
                self.faults.set(name, True, dict(params))
            elif name in ("disconnect", "restart", "connectivity"):
                self.exchange.set_fault(name, False)

    def fault_states(self) -> dict[str, dict[str, object]]:
        states: dict[str, dict[str, object]] = dict(self.exchange.faults())
        states.update({k: dict(v) for k, v in self.faults.active.items()})
        for name in CONNECTION_FAULTS:
            if name not in self.faults.active:
                states.pop(name, None)
        return states

    async def _restart(self, seconds: float) -> None:
        log.warning("sim.fault.restart_fired", pause_seconds=seconds)
        await self._stop_listening()
        count = self.drop_all_clients("fault: restart")
        with contextlib.suppress(Exception):
            self.exchange.save()
        await asyncio.sleep(seconds)
        await self._listen()
        self.faults.set("restart", False, {})
        self.exchange.set_fault("restart", False)
        log.warning("sim.fault.restart_done", dropped=count, port=self.port)

    def _lose_connectivity(self, seconds: float, restore: int) -> None:
        """1100 to every client; hold order requests and the engine's events for ``seconds``."""
        outage = Outage(seconds=seconds, restore=restore)
        self._outage = outage
        clients = self._started_sessions()
        for s in clients:
            s.send(enc.error(-1, *CONNECTIVITY_LOST))
            if self.settings.send_farm_notices:
                for code, text in FARMS_BROKEN:
                    s.send(enc.error(-1, code, text))
        log.warning("sim.fault.connectivity_lost", clients=len(clients), seconds=seconds, restore=restore)
        outage.timer = asyncio.get_running_loop().create_task(self._outage_timer(outage))

    async def _outage_timer(self, outage: Outage) -> None:
        await asyncio.sleep(outage.seconds)
        if self._outage is outage:
            await self._restore_connectivity()

    def _started_sessions(self) -> list[ClientSession]:
        return [s for s in self.sessions.values() if not s.closed]

    async def _restore_connectivity(self) -> None:
        """1101/1102 to every client, then the held events and requests, in the order they came."""
        outage = self._outage
        if outage is None or outage.restoring:
            return
        outage.restoring = True
        if outage.timer is not None and outage.timer is not asyncio.current_task():
            outage.timer.cancel()
        self.faults.set("connectivity", False, {})
        self.exchange.set_fault("connectivity", False)
        clients = self._started_sessions()
        for s in clients:
            s.send(enc.error(-1, outage.restore, CONNECTIVITY_RESTORED[outage.restore]))
            if outage.restore == 1101:  # data lost: market and account data must be requested again
                dropped = len(s.market_data) + len(s.bar_subs) + len(s.multi_subs) + len(s.summary_subs)
                s.market_data.clear()
                s.bar_subs.clear()
                s.multi_subs.clear()
                s.summary_subs.clear()
                s.account_updates = None
                log.info("sim.fault.connectivity_subscriptions_dropped", client_id=s.client_id, count=dropped)
            if self.settings.send_farm_notices:
                for code, text in FARM_NOTICES[:2]:
                    s.send(enc.error(-1, code, text))
        log.warning(
            "sim.fault.connectivity_restored",
            code=outage.restore,
            clients=len(clients),
            held_requests=len(outage.held),
            held_events=len(outage.events),
        )
        events, outage.events = outage.events, []
        self.dispatch(events)
        while outage.held:  # requests arriving meanwhile queue behind these (see _on_frame)
            s, msg_id, fields = outage.held.pop(0)
            if s.closed:
                log.warning(
                    "sim.fault.connectivity_held_request_dropped", client_id=s.client_id, msg_id=msg_id
                )
                continue
            try:
                result = self._handlers[msg_id](self, s, fields)
                if asyncio.iscoroutine(result):
                    await result
            except dec.MalformedRequestError as exc:
                self._malformed(s, msg_id, str(exc))
            except Exception:
                log.exception("sim.fault.connectivity_replay_failed", client_id=s.client_id, msg_id=msg_id)
        if self._outage is outage:
            self._outage = None
