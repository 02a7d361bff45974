"""Client sessions: the listener, each connection's handshake and frames, pacing, outage holds.

One job of :class:`catalyst.sim.gateway.server.GatewayServer`, which inherits it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time as _time
from datetime import UTC

import structlog

from catalyst.sim.gateway import wire_decode as dec
from catalyst.sim.gateway import wire_encode as enc
from catalyst.sim.gateway.request_handlers import RequestHandlers
from catalyst.sim.gateway.session_values import (
    CONNECTIVITY_LOST,
    FARM_NOTICES,
    HELD_IN_OUTAGE,
    ClientSession,
    Outage,
)
from catalyst.sim.gateway.wire_framing import (
    GREETING,
    SERVER_VERSION,
    FrameReader,
    FramingError,
    HandshakeError,
    negotiate_version,
    split_fields,
)

log = structlog.get_logger(__name__)


class ClientSessions(RequestHandlers):
    """Client sessions: the listener, each connection's handshake and frames, pacing, outage holds."""

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

    def _fire_disconnect(self) -> None:
        params = self.faults.active.get("disconnect", {})
        target = params.get("client_id")
        client_id = int(str(target)) if target is not None else None
        count = self.drop_all_clients("fault: disconnect", client_id)
        log.warning("sim.fault.disconnect_fired", clients=count, client_id=client_id)
        self.faults.set("disconnect", False, {})
        self.exchange.set_fault("disconnect", False)

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
