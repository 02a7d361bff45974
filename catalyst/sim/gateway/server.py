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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

import structlog

from catalyst.sim.engine import model as m
from catalyst.sim.engine.errors import FaultParameterError
from catalyst.sim.gateway import entitlements
from catalyst.sim.gateway import wire_decode as dec
from catalyst.sim.gateway import wire_encode as enc
from catalyst.sim.gateway.connection_faults import (
    ALL_FAULTS,
    CONNECTION_FAULTS,
    ENGINE_FAULTS,
    ConnectionFaults,
    PacingWindow,
    connectivity_params,
    unknown_fault,
)
from catalyst.sim.gateway.wire_framing import (
    GREETING,
    SERVER_VERSION,
    FrameReader,
    FramingError,
    HandshakeError,
    encode_frame,
    negotiate_version,
    split_fields,
)
from catalyst.sim.gateway.wire_versions import for_session
from catalyst.sim.gateway.wire_views import (
    contract_details_of,
    hk_time_text,
    parse_end_datetime,
    wire_bar_of,
    wire_contract_of,
    wire_execution_of,
    wire_order_of,
)

log = structlog.get_logger(__name__)

#: Farm notices a real gateway sends right after nextValidId (code, text).
FARM_NOTICES: tuple[tuple[int, str], ...] = (
    (2104, "Market data farm connection is OK:hfarm"),
    (2106, "HMDS data farm connection is OK:hkhmds"),
    (2158, "Sec-def data farm connection is OK:secdefhk"),
)

#: An IB server reset as a real gateway reports it (reqId -1), and the farm notices around it.
CONNECTIVITY_LOST = (1100, "Connectivity between IB and Trader Workstation has been lost.")
CONNECTIVITY_RESTORED = {
    1101: "Connectivity between IB and Trader Workstation has been restored - data lost.",
    1102: "Connectivity between IB and Trader Workstation has been restored - data maintained.",
}
FARMS_BROKEN: tuple[tuple[int, str], ...] = (
    (2103, "Market data farm connection is broken:hfarm"),
    (2105, "HMDS data farm connection is broken:hkhmds"),
)
#: Order requests a connectivity outage holds until it ends: placeOrder, cancelOrder, reqGlobalCancel.
HELD_IN_OUTAGE = frozenset({3, 4, 58})


@dataclass
class ServerSettings:
    """Behaviour switches where IB's conduct is documented but not certain (docs/simulator.md)."""

    #: A client with this id receives every client's order events (TWS "Master API client ID").
    master_client_id: int | None = None
    #: Send the 2104/2106/2158 farm notices after nextValidId, as a real gateway does.
    send_farm_notices: bool = True
    #: How often the engine's clock is ticked (seconds of wall time).
    tick_interval: float = 0.05
    #: How often keepUpToDate bar subscriptions are refreshed (seconds of wall time).
    bar_update_interval: float = 1.0
    #: A client whose unsent output exceeds this many bytes is dropped (it stopped reading).
    max_write_buffer: int = 64 * 1024 * 1024
    #: Position pushes to reqPositions subscribers wait this long (seconds of wall time), keeping
    #: only the newest per (account, conId); a reqPositions answered meanwhile replaces them. An
    #: update that crossed a reqPositions on the wire would be counted twice by the IB client,
    #: which collects every position message until positionEnd.
    position_push_delay: float = 0.1


@dataclass
class BarSubscription:
    """A reqHistoricalData with keepUpToDate: the newest bar is resent while it changes."""

    symbol: str
    bar_size: str
    use_rth: bool
    format_date: int
    daily: bool
    last: enc.WireBar | None


@dataclass(eq=False)
class ClientSession:
    """One client connection and its subscriptions."""

    writer: asyncio.StreamWriter
    peer: str
    server_version: int = 0
    client_id: int | None = None
    positions_sub: bool = False
    account_updates: str | None = None
    multi_subs: dict[int, str] = field(default_factory=dict)
    summary_subs: dict[int, tuple[str, ...]] = field(default_factory=dict)
    market_data: dict[int, str] = field(default_factory=dict)  # reqId -> symbol (streaming)
    market_data_type: int = 1
    delayed_streams: set[int] = field(default_factory=set)  # reqIds served delayed ticks
    bar_subs: dict[int, BarSubscription] = field(default_factory=dict)
    auto_open_orders: bool = False
    #: position frames waiting to be pushed, newest per (account, conId) (see position_push_delay)
    position_pushes: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    position_timer: asyncio.TimerHandle | None = None
    pacing: PacingWindow = field(default_factory=PacingWindow)
    messages_in: int = 0
    messages_out: int = 0
    closed: bool = False
    max_write_buffer: int = 64 * 1024 * 1024
    _out: bytearray = field(default_factory=bytearray)

    def send(self, fields: Sequence[str]) -> None:
        """Queue a frame, laid out for this session's version; frames queued in one loop iteration
        leave in one write (one syscall)."""
        if self.closed:
            return
        if not self._out:
            asyncio.get_running_loop().call_soon(self.flush)
        self._out += encode_frame(for_session(fields, self.server_version))
        self.messages_out += 1

    def drop_position_pushes(self) -> None:
        self.position_pushes.clear()
        if self.position_timer is not None:
            self.position_timer.cancel()
            self.position_timer = None

    def flush(self) -> None:
        if self._out and not self.closed:
            self.writer.write(bytes(self._out))
            transport = self.writer.transport
            if transport is not None and transport.get_write_buffer_size() > self.max_write_buffer:
                log.warning("sim.client.dropped_slow_reader", client_id=self.client_id, peer=self.peer)
                self._out.clear()
                self.close()
        self._out.clear()

    def close(self) -> None:
        if not self.closed:
            self.flush()
            self.closed = True
            with contextlib.suppress(Exception):
                self.writer.close()


@dataclass(eq=False)
class Outage:
    """A ``connectivity`` fault in progress: what it held back, and how it ends."""

    seconds: float
    restore: int  # 1101 or 1102
    held: list[tuple[ClientSession, int, list[str]]] = field(default_factory=list)
    events: list[m.SimEvent] = field(default_factory=list)
    timer: asyncio.Task[None] | None = None
    restoring: bool = False  # 1101/1102 sent; held requests are being replayed


class GatewayServer:
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

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._handle_connection, self.host, self.port, reuse_address=True
        )
        sock = self._server.sockets[0]
        self.port = int(sock.getsockname()[1])
        self.accepting = True
        log.info("sim.gateway.listening", host=self.host, port=self.port, server_version=SERVER_VERSION)

    async def _stop_listening(self) -> None:
        self.accepting = False
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

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

    async def _handle_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = str(writer.get_extra_info("peername"))
        session = ClientSession(writer=writer, peer=peer, max_write_buffer=self.settings.max_write_buffer)
        if not self.accepting:
            session.close()
            return
        self._all.add(session)
        self.connections_total += 1
        try:
            await self._serve(session, reader)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            log.info("sim.client.vanished", peer=peer, client_id=session.client_id, reason=repr(exc))
        except asyncio.CancelledError:
            pass  # the gateway is shutting down
        except FramingError as exc:
            log.warning("sim.client.bad_framing", peer=peer, client_id=session.client_id, reason=str(exc))
        except Exception:
            log.exception("sim.client.session_failed", peer=peer, client_id=session.client_id)
        finally:
            self._forget(session)
            session.close()

    def _forget(self, session: ClientSession) -> None:
        self._all.discard(session)
        if session.client_id is not None and self.sessions.get(session.client_id) is session:
            del self.sessions[session.client_id]
            log.info("sim.client.disconnected", client_id=session.client_id, peer=session.peer)

    async def _serve(self, session: ClientSession, reader: asyncio.StreamReader) -> None:
        greeting = await reader.readexactly(len(GREETING))
        if greeting != GREETING:
            raise FramingError(f"expected the API greeting, got {greeting!r}")
        frames = FrameReader()
        pending: list[bytes] = []
        while not pending:
            data = await reader.read(65536)
            if not data:
                return
            pending = frames.feed(data)
        version_text = pending.pop(0).decode("ascii", errors="replace")
        try:
            session.server_version = negotiate_version(version_text)
        except HandshakeError as exc:  # a real gateway answers nothing it could read: close at once
            log.warning("sim.client.handshake_refused", peer=session.peer, version_text=version_text[:40],
                        reason=str(exc))  # fmt: skip
            return
        now = self.exchange.now()
        session.send(enc.handshake_reply(session.server_version, now.astimezone(UTC)))
        log.info("sim.client.handshake", peer=session.peer, server_version=session.server_version)
        while True:
            for payload in pending:
                await self._on_frame(session, payload)
                if session.closed:
                    return
            pending = []
            await session.writer.drain()
            data = await reader.read(65536)
            if not data:
                if frames.buffered:
                    log.info(
                        "sim.client.vanished_mid_message",
                        peer=session.peer,
                        client_id=session.client_id,
                        buffered=frames.buffered,
                    )
                return
            pending = frames.feed(data)

    async def _on_frame(self, session: ClientSession, payload: bytes) -> None:
        fields = split_fields(payload)
        try:
            msg_id = dec.message_id(fields)
        except dec.MalformedRequestError as exc:
            self._malformed(session, -1, str(exc))
            return
        session.messages_in += 1
        if session.client_id is None:
            if msg_id != 71:
                log.warning("sim.client.request_before_start_api", peer=session.peer, msg_id=msg_id)
                return
            self._start_api(session, fields)
            return
        if self._paced_out(session):
            return
        if self.faults.count_message_for_disconnect():
            self._fire_disconnect()
            return
        if self._outage is not None and msg_id in HELD_IN_OUTAGE:
            self._hold(self._outage, session, msg_id, fields)
            return
        handler = self._handlers.get(msg_id)
        if handler is None:
            log.warning(
                "sim.client.unknown_message_ignored",
                client_id=session.client_id,
                msg_id=msg_id,
                fields=len(fields),
            )
            return
        try:
            result = handler(self, session, fields)
            if asyncio.iscoroutine(result):
                await result
        except dec.MalformedRequestError as exc:
            self._malformed(session, msg_id, str(exc))

    def _malformed(self, session: ClientSession, msg_id: int, reason: str) -> None:
        log.warning("sim.client.malformed_request", client_id=session.client_id, msg_id=msg_id, reason=reason)
        session.send(enc.error(-1, 320, f"Error reading request. Message id {msg_id}. {reason}"))

    def _paced_out(self, session: ClientSession) -> bool:
        limit = self.faults.pacing_limit()
        if limit is None:
            return False
        if session.pacing.admit(_time.monotonic(), limit):
            return False
        rate = len(session.pacing.times) + 1
        log.warning(
            "sim.fault.pacing_fired",
            client_id=session.client_id,
            limit=limit,
            rate=rate,
            violations=session.pacing.violations,
        )
        session.send(
            enc.error(
                -1, 100, f"Max rate of messages per second has been exceeded:max={limit} rec={rate} (1)"
            )
        )
        if session.pacing.violations >= self.faults.pacing_max_violations():
            log.warning("sim.fault.pacing_disconnect", client_id=session.client_id)
            session.close()
        return True

    def _start_api(self, session: ClientSession, fields: list[str]) -> None:
        try:
            client_id = dec.decode_start_api(fields)
        except dec.MalformedRequestError as exc:
            self._malformed(session, 71, str(exc))
            return
        if client_id in self.sessions:
            log.warning("sim.client.id_in_use", client_id=client_id, peer=session.peer)
            session.send(
                enc.error(
                    -1,
                    326,
                    "Unable to connect as the client id is already in use. Retry with a unique client id.",
                )
            )
            session.close()
            return
        session.client_id = client_id
        self.sessions[client_id] = session
        log.info("sim.client.connected", client_id=client_id, peer=session.peer)
        session.send(enc.managed_accounts(self.exchange.accounts))
        session.send(enc.next_valid_id(self._next_order_id(client_id)))
        if self.settings.send_farm_notices:
            for code, text in FARM_NOTICES:
                session.send(enc.error(-1, code, text))
        if self._outage is not None and not self._outage.restoring:
            session.send(enc.error(-1, *CONNECTIVITY_LOST))

    def drop_all_clients(self, reason: str, client_id: int | None = None) -> int:
        victims = [s for s in list(self._all) if client_id is None or s.client_id == client_id]
        for s in victims:
            s.close()
            self._forget(s)
        if victims:
            log.info("sim.gateway.clients_dropped", reason=reason, count=len(victims))
        return len(victims)

    # --- faults ---------------------------------------------------------------------------------

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

    def _fire_disconnect(self) -> None:
        params = self.faults.active.get("disconnect", {})
        target = params.get("client_id")
        client_id = int(str(target)) if target is not None else None
        count = self.drop_all_clients("fault: disconnect", client_id)
        log.warning("sim.fault.disconnect_fired", clients=count, client_id=client_id)
        self.faults.set("disconnect", False, {})
        self.exchange.set_fault("disconnect", False)

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

    def _hold(self, outage: Outage, s: ClientSession, msg_id: int, fields: list[str]) -> None:
        """An order request during an outage waits, unanswered, for connectivity to come back."""
        order_id: object = None
        if msg_id == 3 and len(fields) > 1:
            with contextlib.suppress(ValueError):
                order_id = int(fields[1])
                if s.client_id is not None:  # a reqIds meanwhile must not hand this id out again
                    self._note_order_id(s.client_id, int(fields[1]))
        elif msg_id == 4 and len(fields) > 2:
            order_id = fields[2]
        outage.held.append((s, msg_id, fields))
        log.warning(
            "sim.fault.connectivity_held_request",
            client_id=s.client_id,
            msg_id=msg_id,
            order_id=order_id,
            held=len(outage.held),
        )

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

    # --- ids --------------------------------------------------------------------------------------

    def _next_order_id(self, client_id: int) -> int:
        highest = int(self.exchange.highest_order_id(client_id))  # every day's: never handed out twice
        nxt = max(highest + 1, self._next_ids.get(client_id, 1))
        self._next_ids[client_id] = nxt
        return nxt

    def _note_order_id(self, client_id: int, order_id: int) -> None:
        self._next_ids[client_id] = max(self._next_ids.get(client_id, 1), order_id + 1)

    # --- event routing ----------------------------------------------------------------------------

    def _order_targets(self, client_id: int) -> list[ClientSession]:
        out = []
        owner = self.sessions.get(client_id)
        if owner is not None:
            out.append(owner)
        master = self.settings.master_client_id
        if master is not None and master != client_id and master in self.sessions:
            out.append(self.sessions[master])
        return out

    def _wire_contract(self, con_id: int, symbol: str) -> enc.WireContract:
        """The C11 block for an order/position/fill; a listing's identity never changes, so it is cached."""
        key = (con_id, symbol)
        cached = self._contracts.get(key)
        if cached is not None:
            return cached
        sc = self.exchange.contract(con_id=con_id) if con_id else None
        if sc is None:
            sc = self.exchange.contract(symbol=symbol)
        wc = wire_contract_of(sc) if sc is not None else enc.WireContract(con_id=con_id, symbol=symbol)
        self._contracts[key] = wc
        return wc

    def dispatch(self, events: Iterable[m.SimEvent]) -> None:
        outage = self._outage
        if outage is not None and not outage.restoring:
            # no news from IB's servers in an outage: order events wait, quotes are not sent
            outage.events += [ev for ev in events if not isinstance(ev, m.QuoteChanged)]
            return
        for ev in events:
            try:
                self._route(ev)
            except Exception:
                log.exception("sim.gateway.route_failed", event=type(ev).__name__)

    def _route(self, ev: m.SimEvent) -> None:
        if isinstance(ev, m.OrderChanged):
            o = ev.order
            contract = self._wire_contract(o.con_id, o.symbol)
            wo = wire_order_of(o)
            for s in self._order_targets(o.client_id):
                if ev.warning is not None:
                    s.send(enc.error(o.order_id, ev.warning[0], ev.warning[1]))
                s.send(enc.open_order(wo, contract))
                s.send(enc.order_status(wo))
        elif isinstance(ev, m.Executed):
            o, x = ev.order, ev.execution
            contract = self._wire_contract(x.con_id, x.symbol)
            wo = wire_order_of(o)
            for s in self._order_targets(x.client_id):
                s.send(enc.exec_details(wire_execution_of(x, req_id=-1), contract))
                s.send(enc.open_order(wo, contract))
                s.send(enc.order_status(wo))
                s.send(enc.commission_report(x.exec_id, x.commission, "HKD", x.realized_pnl))
        elif isinstance(ev, m.OrderRejected):
            for s in self._order_targets(ev.client_id):
                s.send(enc.error(ev.order_id, ev.code, ev.message))
                if ev.status_after is not None:
                    if ev.order is not None:
                        wo = wire_order_of(ev.order)
                        s.send(enc.order_status(enc_replace_status(wo, ev.status_after)))
                    else:
                        s.send(
                            [
                                "3",
                                str(ev.order_id),
                                ev.status_after,
                                "0",
                                "0",
                                "0",
                                "0",
                                "0",
                                "0",
                                str(ev.client_id),
                                "",
                                "",
                            ]
                        )
        elif isinstance(ev, m.PositionChanged):
            self._route_position(ev.position)
        elif isinstance(ev, m.AccountChanged):
            self._route_account(ev.account)
        elif isinstance(ev, m.QuoteChanged):
            self._route_quote(ev.quote)
        elif isinstance(ev, m.FaultFired):
            log.warning("sim.fault.fired", fault=ev.name, **{k: str(v) for k, v in ev.detail.items()})

    def _route_position(self, p: m.Position) -> None:
        contract = self._wire_contract(p.con_id, p.symbol)
        msg = enc.position(p.account, contract, p.quantity, p.avg_cost)
        for s in list(self.sessions.values()):
            if s.positions_sub:
                self._queue_position_push(s, (p.account, p.con_id), msg)
        subscribers = [s for s in self.sessions.values() if s.account_updates == p.account]
        if subscribers:
            item = next((i for i in self.exchange.portfolio(p.account) if i.con_id == p.con_id), None)
            frame = self._portfolio_frame(p.account, item, contract, p)
            for s in subscribers:
                s.send(frame)

    def _queue_position_push(self, s: ClientSession, key: tuple[str, int], frame: list[str]) -> None:
        """Push ``frame`` after ``position_push_delay``, unless a newer one or a reqPositions comes."""
        if s.position_timer is None:
            s.position_timer = asyncio.get_running_loop().call_later(
                self.settings.position_push_delay, self._send_position_pushes, s
            )
        s.position_pushes.pop(key, None)  # the newest goes last, as it would have on the wire
        s.position_pushes[key] = frame

    @staticmethod
    def _send_position_pushes(s: ClientSession) -> None:
        frames = list(s.position_pushes.values())
        s.drop_position_pushes()
        if s.positions_sub:
            for frame in frames:
                s.send(frame)

    def _portfolio_frame(
        self, account: str, item: Any, contract: enc.WireContract, p: m.Position
    ) -> list[str]:
        if item is None:
            quote = self.exchange.quote(p.symbol)
            return enc.update_portfolio(
                contract,
                position=p.quantity,
                market_price=quote.last,
                market_value=quote.last * p.quantity,
                average_cost=p.avg_cost,
                unrealized_pnl=Decimal(0),
                realized_pnl=Decimal(0),
                account=account,
            )
        return portfolio_fields(item, contract, account)

    def _route_account(self, account: str) -> None:
        values = None
        now_text = hk_time_text(self.exchange.now(), "%H:%M")
        for s in list(self.sessions.values()):
            wants_updates = s.account_updates == account
            multi = [r for r, a in s.multi_subs.items() if a in (account, "")]
            if not wants_updates and not multi and not s.summary_subs:
                continue
            if values is None:
                values = self.exchange.account_values(account)
            for (
                req_id,
                tags,
            ) in s.summary_subs.items():  # IB pushes these every few minutes; we push on change
                self._send_summary(s, req_id, tags, account, values)
                s.send(enc.account_summary_end(req_id))
            for key, value, currency in values:
                if wants_updates:
                    s.send(enc.update_account_value(key, value, currency, account))
                for req_id in multi:
                    s.send(enc.account_update_multi(req_id, account, "", key, value, currency))
            if wants_updates:
                s.send(enc.update_account_time(now_text))

    def _route_quote(self, q: m.Quote) -> None:
        for s in list(self.sessions.values()):
            for req_id, symbol in s.market_data.items():
                if symbol == q.symbol:
                    frames = quote_ticks(req_id, q)
                    for frame in entitlements.as_delayed(frames) if req_id in s.delayed_streams else frames:
                        s.send(frame)

    # --- requests ---------------------------------------------------------------------------------

    async def _req_place_order(self, s: ClientSession, fields: list[str]) -> None:
        assert s.client_id is not None
        po = dec.decode_place_order(fields, client_id=s.client_id, server_version=s.server_version)
        log.info(
            "sim.order.received",
            client_id=s.client_id,
            order_id=po.request.order_id,
            action=po.request.action,
            quantity=str(po.request.total_quantity),
            order_type=po.request.order_type,
            lmt=str(po.request.lmt_price),
            aux=str(po.request.aux_price),
            parent_id=po.request.parent_id,
            transmit=po.request.transmit,
            order_ref=po.request.order_ref,
        )
        self._note_order_id(s.client_id, po.request.order_id)
        delay = self.faults.latency_seconds()
        if delay > 0:
            log.info(
                "sim.fault.latency_fired",
                client_id=s.client_id,
                order_id=po.request.order_id,
                ms=delay * 1000,
            )
            await asyncio.sleep(delay)
        if po.what_if:
            s.send(
                enc.error(
                    po.request.order_id,
                    201,
                    "Order rejected - reason:What-if orders are not supported by the simulated gateway",
                )
            )
            return
        self.dispatch(self.exchange.place_order(po.request))

    async def _req_cancel_order(self, s: ClientSession, fields: list[str]) -> None:
        assert s.client_id is not None
        order_id = dec.decode_cancel_order(fields)
        log.debug("sim.order.cancel_received", client_id=s.client_id, order_id=order_id)
        delay = self.faults.latency_seconds()
        if delay > 0:
            log.info("sim.fault.latency_fired", client_id=s.client_id, order_id=order_id, ms=delay * 1000)
            await asyncio.sleep(delay)
        self.dispatch(self.exchange.cancel_order(s.client_id, order_id))

    def _req_global_cancel(self, s: ClientSession, fields: list[str]) -> None:
        log.info("sim.order.global_cancel_received", client_id=s.client_id)
        self.dispatch(self.exchange.global_cancel())

    def _send_open_orders(self, s: ClientSession, orders: Iterable[m.SimOrder]) -> None:
        for o in orders:
            wo = wire_order_of(o)
            contract = self._wire_contract(o.con_id, o.symbol)
            s.send(enc.open_order(wo, contract))
            s.send(enc.order_status(wo))
        s.send(enc.open_order_end())

    def _req_open_orders(self, s: ClientSession, fields: list[str]) -> None:
        self._send_open_orders(s, self.exchange.open_orders(s.client_id))

    def _req_all_open_orders(self, s: ClientSession, fields: list[str]) -> None:
        self._send_open_orders(s, self.exchange.open_orders(None))

    def _req_auto_open_orders(self, s: ClientSession, fields: list[str]) -> None:
        s.auto_open_orders = dec.decode_auto_open_orders(fields)
        log.info("sim.client.auto_open_orders", client_id=s.client_id, bind=s.auto_open_orders)

    def _req_completed_orders(self, s: ClientSession, fields: list[str]) -> None:
        dec.decode_completed_orders(fields)
        for o in self.exchange.completed_orders():
            s.send(enc.completed_order(wire_order_of(o), self._wire_contract(o.con_id, o.symbol)))
        s.send(enc.completed_orders_end())

    def _req_ids(self, s: ClientSession, fields: list[str]) -> None:
        dec.decode_req_ids(fields)
        assert s.client_id is not None
        s.send(enc.next_valid_id(self._next_order_id(s.client_id)))

    def _req_managed_accounts(self, s: ClientSession, fields: list[str]) -> None:
        s.send(enc.managed_accounts(self.exchange.accounts))

    def _req_current_time(self, s: ClientSession, fields: list[str]) -> None:
        s.send(enc.current_time(int(self.exchange.now().timestamp())))

    def _req_positions(self, s: ClientSession, fields: list[str]) -> None:
        s.positions_sub = True
        if s.position_pushes:
            log.info(
                "sim.client.position_pushes_superseded", client_id=s.client_id, rows=len(s.position_pushes)
            )
            s.drop_position_pushes()  # the answer below carries every current position
        for p in self.exchange.positions():
            s.send(enc.position(p.account, self._wire_contract(p.con_id, p.symbol), p.quantity, p.avg_cost))
        s.send(enc.position_end())

    def _cancel_positions(self, s: ClientSession, fields: list[str]) -> None:
        s.positions_sub = False

    def _account_or_default(self, account: str) -> str | None:
        if not account:
            return str(self.exchange.accounts[0])
        return account if account in self.exchange.accounts else None

    def _req_account_updates(self, s: ClientSession, fields: list[str]) -> None:
        req = dec.decode_account_updates(fields)
        if not req.subscribe:
            s.account_updates = None
            return
        account = self._account_or_default(req.account)
        if account is None:
            s.send(
                enc.error(
                    -1, 321, f"Error validating request.-'bB' : cause - Invalid account code {req.account}"
                )
            )
            return
        s.account_updates = account
        for key, value, currency in self.exchange.account_values(account):
            s.send(enc.update_account_value(key, value, currency, account))
        for item in self.exchange.portfolio(account):
            s.send(portfolio_fields(item, self._wire_contract(item.con_id, item.symbol), account))
        s.send(enc.update_account_time(hk_time_text(self.exchange.now(), "%H:%M")))
        s.send(enc.account_download_end(account))

    def _req_account_updates_multi(self, s: ClientSession, fields: list[str]) -> None:
        req = dec.decode_account_updates_multi(fields)
        accounts = list(self.exchange.accounts) if req.account in ("", "All") else [req.account]
        unknown = [a for a in accounts if a not in self.exchange.accounts]
        if unknown:
            s.send(
                enc.error(
                    req.req_id, 321, f"Error validating request.-'cf' : cause - Invalid account {unknown[0]}"
                )
            )
            return
        s.multi_subs[req.req_id] = req.account if req.account != "All" else ""
        for account in accounts:
            for key, value, currency in self.exchange.account_values(account):
                s.send(enc.account_update_multi(req.req_id, account, req.model_code, key, value, currency))
        s.send(enc.account_update_multi_end(req.req_id))

    def _cancel_account_updates_multi(self, s: ClientSession, fields: list[str]) -> None:
        s.multi_subs.pop(dec.decode_versioned_req_id(fields), None)

    def _req_account_summary(self, s: ClientSession, fields: list[str]) -> None:
        req = dec.decode_account_summary(fields)
        s.summary_subs[req.req_id] = req.tags
        for account in self.exchange.accounts:
            self._send_summary(s, req.req_id, req.tags, account, self.exchange.account_values(account))
        s.send(enc.account_summary_end(req.req_id))

    @staticmethod
    def _send_summary(
        s: ClientSession, req_id: int, tags: tuple[str, ...], account: str, values: list[tuple[str, str, str]]
    ) -> None:
        ledger = any(t.startswith("$LEDGER") for t in tags)
        wanted = set(tags)
        if "AccountType" in wanted:
            s.send(enc.account_summary(req_id, account, "AccountType", "INDIVIDUAL", ""))
        for key, value, currency in values:
            if key in wanted or (ledger and currency == "HKD"):
                s.send(enc.account_summary(req_id, account, key, value, currency))

    def _cancel_account_summary(self, s: ClientSession, fields: list[str]) -> None:
        s.summary_subs.pop(dec.decode_versioned_req_id(fields), None)

    def _req_executions(self, s: ClientSession, fields: list[str]) -> None:
        f = dec.decode_req_executions(fields)
        for x in self.exchange.executions():
            if f.client_id and x.client_id != f.client_id:
                continue
            if f.account and x.account != f.account:
                continue
            if f.symbol and x.symbol != f.symbol:
                continue
            if f.side and x.side != {"BUY": "BOT", "SELL": "SLD"}.get(f.side.upper(), f.side.upper()):
                continue
            contract = self._wire_contract(x.con_id, x.symbol)
            s.send(enc.exec_details(wire_execution_of(x, req_id=f.req_id), contract))
            s.send(enc.commission_report(x.exec_id, x.commission, "HKD", x.realized_pnl))
        s.send(enc.exec_details_end(f.req_id))

    def _lookup(self, c: dec.WireRequestContract) -> Any:
        if c.sec_type not in ("", "STK") or c.currency not in ("", "HKD"):
            return None
        if c.exchange not in ("", "SEHK", "SMART") and c.primary_exchange != "SEHK":
            return None
        if c.con_id:
            sc = self.exchange.contract(con_id=c.con_id)
            if sc is None or (c.symbol and c.symbol != sc.symbol):
                return None
            return sc
        symbol = c.symbol or c.local_symbol
        return self.exchange.contract(symbol=symbol) if symbol else None

    def _req_contract_details(self, s: ClientSession, fields: list[str]) -> None:
        req = dec.decode_contract_details(fields)
        sc = self._lookup(req.contract)
        if sc is None:
            s.send(enc.error(req.req_id, 200, "No security definition has been found for the request"))
            return
        details = contract_details_of(sc, requested_exchange=req.contract.exchange or "SEHK")
        s.send(enc.contract_details(req.req_id, details))
        s.send(enc.contract_details_end(req.req_id))

    def _req_market_rule(self, s: ClientSession, fields: list[str]) -> None:
        rule_id = dec.decode_market_rule(fields)
        ladder = self.exchange.market_rule(rule_id)
        if ladder is None:
            log.warning("sim.client.unknown_market_rule", client_id=s.client_id, rule_id=rule_id)
            return
        s.send(enc.market_rule(rule_id, ladder))

    def _req_market_data_type(self, s: ClientSession, fields: list[str]) -> None:
        s.market_data_type = dec.decode_market_data_type(fields)

    def _req_mkt_data(self, s: ClientSession, fields: list[str]) -> None:
        req = dec.decode_mkt_data(fields)
        sc = self._lookup(req.contract)
        if sc is None:
            s.send(enc.error(req.req_id, 200, "No security definition has been found for the request"))
            return
        answer = entitlements.quote_answer(self.exchange.faults(), sc.symbol, s.market_data_type)
        for code, text in answer.notices:
            s.send(enc.error(req.req_id, code, text))
        if answer.served_type is None:  # refused: IB sends no ticks and ends the request
            log.info("sim.market_data.refused", client_id=s.client_id, symbol=sc.symbol)
            return
        s.send(enc.tick_req_params(req.req_id, sc.min_tick, "a60001", 3))
        s.send(enc.market_data_type(req.req_id, answer.served_type))
        frames = quote_ticks(req.req_id, self.exchange.quote(sc.symbol), full=True)
        delayed = answer.served_type in (3, 4)
        for frame in entitlements.as_delayed(frames) if delayed else frames:
            s.send(frame)
        if req.snapshot or req.regulatory_snapshot:
            s.send(enc.tick_snapshot_end(req.req_id))
        else:
            s.market_data[req.req_id] = sc.symbol
            if delayed:
                s.delayed_streams.add(req.req_id)

    def _cancel_mkt_data(self, s: ClientSession, fields: list[str]) -> None:
        req_id = dec.decode_versioned_req_id(fields)
        s.market_data.pop(req_id, None)
        s.delayed_streams.discard(req_id)

    def _req_historical_data(self, s: ClientSession, fields: list[str]) -> None:
        req = dec.decode_historical_data(fields)
        sc = self._lookup(req.contract)
        if sc is None:
            s.send(enc.error(req.req_id, 200, "No security definition has been found for the request"))
            return
        refusal = entitlements.historical_refusal(self.exchange.faults(), sc.symbol)
        if refusal is not None:
            s.send(enc.error(req.req_id, *refusal))
            return
        if req.what_to_show.upper() not in ("TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK", "ADJUSTED_LAST"):
            s.send(
                enc.error(
                    req.req_id,
                    162,
                    f"Historical Market Data Service error message:"
                    f"whatToShow {req.what_to_show} is not supported by the simulator",
                )
            )
            return
        try:
            end = parse_end_datetime(req.end, self.exchange.now())
            bars = self.exchange.bars(
                sc.symbol, end=end, duration=req.duration, bar_size=req.bar_size, use_rth=req.use_rth
            )
        except (ValueError, TypeError) as exc:
            s.send(enc.error(req.req_id, 162, f"Historical Market Data Service error message:{exc}"))
            return
        daily = "day" in req.bar_size or "week" in req.bar_size or "month" in req.bar_size
        wire = [wire_bar_of(b, daily=daily, format_date=req.format_date) for b in bars]
        start_text = hk_time_text(bars[0].time if bars else end, "%Y%m%d %H:%M:%S")
        end_text = hk_time_text(end, "%Y%m%d %H:%M:%S")
        s.send(enc.historical_data(req.req_id, start_text, end_text, wire))
        if req.keep_up_to_date:
            last = wire[-1] if wire else None
            s.bar_subs[req.req_id] = BarSubscription(
                sc.symbol, req.bar_size, req.use_rth, req.format_date, daily, last
            )

    def _cancel_historical_data(self, s: ClientSession, fields: list[str]) -> None:
        s.bar_subs.pop(dec.decode_versioned_req_id(fields), None)

    def _update_bar_subscriptions(self) -> None:
        """keepUpToDate: resend the newest bar (historicalDataUpdate, 90) whenever it changed."""
        latest: dict[tuple[str, str, bool], list[m.Bar]] = {}
        for s in list(self.sessions.values()):
            for req_id, sub in list(s.bar_subs.items()):
                key = (sub.symbol, sub.bar_size, sub.use_rth)
                if key not in latest:
                    try:
                        latest[key] = self.exchange.bars(
                            sub.symbol, end=None, duration="1 D", bar_size=sub.bar_size, use_rth=sub.use_rth
                        )
                    except (ValueError, TypeError):
                        latest[key] = []
                if not latest[key]:
                    continue
                bar = wire_bar_of(latest[key][-1], daily=sub.daily, format_date=sub.format_date)
                if bar != sub.last:
                    sub.last = bar
                    s.send(enc.historical_data_update(req_id, bar))

    _handlers: ClassVar[dict[int, Callable[[GatewayServer, ClientSession, list[str]], Any]]] = {
        1: _req_mkt_data,
        2: _cancel_mkt_data,
        3: _req_place_order,
        4: _req_cancel_order,
        5: _req_open_orders,
        6: _req_account_updates,
        7: _req_executions,
        8: _req_ids,
        9: _req_contract_details,
        15: _req_auto_open_orders,
        16: _req_all_open_orders,
        17: _req_managed_accounts,
        20: _req_historical_data,
        25: _cancel_historical_data,
        49: _req_current_time,
        58: _req_global_cancel,
        59: _req_market_data_type,
        61: _req_positions,
        62: _req_account_summary,
        63: _cancel_account_summary,
        64: _cancel_positions,
        76: _req_account_updates_multi,
        77: _cancel_account_updates_multi,
        91: _req_market_rule,
        99: _req_completed_orders,
    }


# --- helpers shared by routing and requests ---------------------------------------------------------


def enc_replace_status(wo: enc.WireOrder, status: str) -> enc.WireOrder:
    return replace(wo, status=status)


def portfolio_fields(item: Any, contract: enc.WireContract, account: str) -> list[str]:
    return enc.update_portfolio(
        contract,
        position=item.position,
        market_price=item.market_price,
        market_value=item.market_value,
        average_cost=item.average_cost,
        unrealized_pnl=item.unrealized_pnl,
        realized_pnl=item.realized_pnl,
        account=account,
    )


def quote_ticks(req_id: int, q: m.Quote, *, full: bool = False) -> list[list[str]]:
    """The tick messages for a quote, in a real gateway's order (price with size, then the size)."""
    out = [
        enc.tick_price(req_id, enc.TICK_BID, q.bid, q.bid_size),
        enc.tick_size(req_id, enc.TICK_BID_SIZE, q.bid_size),
        enc.tick_price(req_id, enc.TICK_ASK, q.ask, q.ask_size),
        enc.tick_size(req_id, enc.TICK_ASK_SIZE, q.ask_size),
        enc.tick_price(req_id, enc.TICK_LAST, q.last, q.last_size),
        enc.tick_size(req_id, enc.TICK_LAST_SIZE, q.last_size),
        enc.tick_size(req_id, enc.TICK_VOLUME, q.volume),
        enc.tick_string(req_id, enc.TICK_LAST_TIMESTAMP, str(int(q.time.timestamp()))),
    ]
    if full:
        out += [
            enc.tick_price(req_id, enc.TICK_HIGH, q.high, 0),
            enc.tick_price(req_id, enc.TICK_LOW, q.low, 0),
            enc.tick_price(req_id, enc.TICK_CLOSE, q.prev_close, 0),
            enc.tick_price(req_id, enc.TICK_OPEN, q.open, 0),
        ]
    return out
