"""A transparent TWS proxy that records every frame both ways (``catalyst gateway record``).

A client connects to the proxy as it would to IB Gateway; for each connection the proxy opens one to
the upstream (a real IB Gateway or TWS, or the simulator) and forwards bytes unchanged in both
directions. Each chunk goes out first; then a copy, with its time and direction, goes to the
recorder (``capture_recorder``), which runs as its own lower-priority process and does all the
parsing, naming, redaction and writing. The proxy itself parses only the upstream's first frame:
if it is not a TWS handshake reply, the upstream is reported as not a TWS endpoint and the
connection closed.

Forwarding runs in the event loop's callbacks (``asyncio.Protocol``), not in coroutines: the bytes a
socket delivers are written to the other socket in the same callback, with no task to wake, so the
proxy adds one loopback hop and little else. Flow control is end to end: when one side's send
buffer fills, the proxy stops reading the other side until it drains.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import structlog

from catalyst.sim.capture import capture_recorder as rec
from catalyst.sim.gateway.wire_framing import FrameReader, FramingError, split_fields

log = structlog.get_logger(__name__)

#: How often the copies gathered for the recorder go down its pipe, and the size that sends them at once.
HANDOFF_SECONDS = 0.05
HANDOFF_BYTES = 256 * 1024
PIPE_BYTES = 1 << 20


class UpstreamError(ConnectionError):
    """The upstream cannot be reached, or what answers there is not a TWS endpoint."""


class NotTwsEndpointError(UpstreamError):
    """The upstream answered something other than a TWS handshake."""


class RecorderProcess:
    """The recorder as a child process fed through its stdin (never waited on while recording).

    Copies are gathered in memory and handed to the pipe every :data:`HANDOFF_SECONDS` (at once
    past :data:`HANDOFF_BYTES`): a write, and a wake-up of the recorder, per batch rather than per
    chunk, so the forwarding path pays for neither."""

    def __init__(self, out_path: Path, upstream: str) -> None:
        self._out_path = out_path
        self._upstream = upstream
        self._proc: asyncio.subprocess.Process | None = None
        self._batch = bytearray()
        self._handoff: asyncio.TimerHandle | None = None

    async def start(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "catalyst.sim.capture.capture_recorder",
            str(self._out_path),
            self._upstream,
            stdin=asyncio.subprocess.PIPE,
            start_new_session=True,  # a Ctrl-C in the terminal stops the proxy, which then ends the recorder
        )
        _widen_pipe(self._proc.stdin)

    def send(self, message: bytes) -> None:
        self._batch += message
        if len(self._batch) >= HANDOFF_BYTES:
            self._hand_off()
        elif self._handoff is None:
            self._handoff = asyncio.get_running_loop().call_later(HANDOFF_SECONDS, self._hand_off)

    def _hand_off(self) -> None:
        if self._handoff is not None:
            self._handoff.cancel()
            self._handoff = None
        batch, self._batch = bytes(self._batch), bytearray()
        stdin = self._proc.stdin if self._proc is not None else None
        if batch and stdin is not None and not stdin.is_closing():
            stdin.write(batch)  # buffered by the event loop: the forwarding never waits

    async def finish(self, t: float) -> None:
        """Send the end, then wait until the recorder has written everything and exited."""
        if self._proc is None or self._proc.stdin is None:
            return
        self.send(rec.pack(rec.KIND_END, 0, t, b""))
        self._hand_off()
        with contextlib.suppress(ConnectionError):
            await self._proc.stdin.drain()
        self._proc.stdin.close()
        await self._proc.wait()


def _widen_pipe(stdin: asyncio.StreamWriter | None) -> None:
    """Give the pipe to the recorder 1 MB (Linux; 64 KB by default), so bursts rarely wait on it."""
    if stdin is None or not hasattr(fcntl, "F_SETPIPE_SZ"):
        return
    pipe = stdin.get_extra_info("pipe")
    with contextlib.suppress(OSError, AttributeError, ValueError):
        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)


class CaptureProxy:
    """The asyncio server: ``await start()``, clients connect to ``port``, ``await stop()`` ends the file."""

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        out_path: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        connect_timeout: float = 10.0,
    ) -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.host = host
        self.port = port
        self._timeout = connect_timeout
        self._recorder = RecorderProcess(out_path, self.upstream)
        self._started = time.monotonic()
        self._errors: list[str] = []
        self._server: asyncio.base_events.Server | None = None
        self._conns = itertools.count(1)
        self._relays: set[_Relay] = set()
        self._opening: set[asyncio.Task[None]] = set()

    @property
    def upstream(self) -> str:
        return f"{self.upstream_host}:{self.upstream_port}"

    @property
    def errors(self) -> list[str]:
        """Upstream problems met so far (each also logged and written to the capture as an event)."""
        return list(self._errors)

    def now(self) -> float:
        return time.monotonic() - self._started

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _ClientSide(self), self.host, self.port, reuse_address=True
        )
        await self._recorder.start()  # after the bind: a port in use leaves no recorder behind
        self.port = int(self._server.sockets[0].getsockname()[1])
        log.info("capture.proxy.listening", host=self.host, port=self.port, upstream=self.upstream)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for relay in list(self._relays):
            relay.close()
        for task in list(self._opening):
            task.cancel()
        for task in list(self._opening):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
        await self._recorder.finish(self.now())

    def _event(self, conn: int, event: str, detail: str = "") -> None:
        self._recorder.send(rec.pack_event(conn, self.now(), event, detail))

    def _accepted(self, client: asyncio.Transport) -> _Relay:
        """A client connected: its relay, and the upstream connection it waits for."""
        relay = _Relay(self, next(self._conns), client)
        self._relays.add(relay)
        task = asyncio.get_running_loop().create_task(relay.open_upstream(self._timeout))
        self._opening.add(task)
        task.add_done_callback(self._opening.discard)
        return relay

    def _record(self, kind: int, conn: int, data: bytes) -> None:
        self._recorder.send(rec.pack(kind, conn, self.now(), data))

    def _fail(self, conn: int, event: str, detail: str) -> None:
        self._errors.append(detail)
        self._event(conn, event, detail)
        log.error("capture.proxy.upstream_failed", conn=conn, reason=detail)


class _Relay:
    """One client connection and its upstream connection: bytes forwarded unchanged both ways, each
    chunk sent on before its copy goes to the recorder."""

    def __init__(self, proxy: CaptureProxy, conn: int, client: asyncio.Transport) -> None:
        self.proxy = proxy
        self.conn = conn
        self.client = client
        self.upstream: asyncio.Transport | None = None
        self.check = _HandshakeCheck(proxy.upstream)
        self.opened = False
        self.closed = False
        client.pause_reading()  # nothing is read from the client before the upstream answers

    async def open_upstream(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        host, port = self.proxy.upstream_host, self.proxy.upstream_port
        try:
            transport, _ = await asyncio.wait_for(
                loop.create_connection(lambda: _UpstreamSide(self), host, port), timeout
            )
        except (OSError, TimeoutError) as exc:
            self.proxy._fail(self.conn, "refused", f"upstream {self.proxy.upstream} cannot be reached: {exc}")
            self.close()
            return
        if self.closed:  # the client left (or the proxy stopped) while the upstream was connecting
            transport.close()
            return
        self.upstream = transport
        self.opened = True
        self.proxy._event(self.conn, "connected", str(self.client.get_extra_info("peername")))
        self.client.resume_reading()

    def from_client(self, data: bytes) -> None:
        if self.upstream is not None and not self.closed:
            self.upstream.write(data)
            self.proxy._record(rec.KIND_CLIENT, self.conn, data)

    def from_gateway(self, data: bytes) -> None:
        if self.closed:
            return
        self.client.write(data)
        self.proxy._record(rec.KIND_GATEWAY, self.conn, data)
        if not self.check.passed:
            try:
                self.check.feed(data)
            except NotTwsEndpointError as exc:
                self.proxy._fail(self.conn, "not-tws", str(exc))
                self.close()

    def hold(self, reading: asyncio.Transport | None) -> None:
        """The other side's send buffer is full: stop reading this side until it drains."""
        if reading is not None and not reading.is_closing():
            reading.pause_reading()

    def release(self, reading: asyncio.Transport | None) -> None:
        if reading is not None and not reading.is_closing():
            reading.resume_reading()

    def close(self) -> None:
        """Either side ended: what is buffered goes out, then both connections close."""
        if self.closed:
            return
        self.closed = True
        self.client.close()
        if self.upstream is not None:
            self.upstream.close()
        if self.opened:
            self.proxy._event(self.conn, "closed")
        self.proxy._relays.discard(self)


class _ClientSide(asyncio.Protocol):
    """The client's connection to the proxy."""

    def __init__(self, proxy: CaptureProxy) -> None:
        self.proxy = proxy
        self.relay: _Relay | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.relay = self.proxy._accepted(transport)

    def data_received(self, data: bytes) -> None:
        if self.relay is not None:
            self.relay.from_client(data)

    def eof_received(self) -> bool:
        if self.relay is not None:
            self.relay.close()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.relay is not None:
            self.relay.close()

    def pause_writing(self) -> None:
        if self.relay is not None:
            self.relay.hold(self.relay.upstream)

    def resume_writing(self) -> None:
        if self.relay is not None:
            self.relay.release(self.relay.upstream)


class _UpstreamSide(asyncio.Protocol):
    """The proxy's connection to the upstream gateway."""

    def __init__(self, relay: _Relay) -> None:
        self.relay = relay

    def data_received(self, data: bytes) -> None:
        self.relay.from_gateway(data)

    def eof_received(self) -> bool:
        self.relay.close()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.relay.close()

    def pause_writing(self) -> None:
        self.relay.hold(self.relay.client)

    def resume_writing(self) -> None:
        self.relay.release(self.relay.client)


class _HandshakeCheck:
    """Reads the upstream's first frame only: a TWS gateway's is its handshake reply."""

    def __init__(self, upstream: str) -> None:
        self._upstream = upstream
        self._frames = FrameReader()
        self.passed = False

    def feed(self, data: bytes) -> None:
        try:
            payloads = self._frames.feed(data)
        except FramingError as exc:
            raise NotTwsEndpointError(self._not_tws(str(exc))) from None
        if not payloads:
            return
        fields = split_fields(payloads[0])
        if rec.handshake_version(fields) is None:
            raise NotTwsEndpointError(self._not_tws(f"its first answer {fields[:2]!r} is no handshake"))
        self.passed = True

    def _not_tws(self, reason: str) -> str:
        return (
            f"upstream {self._upstream} is not a TWS endpoint (IB Gateway or TWS with the API "
            f"enabled): {reason}"
        )


async def probe_upstream(host: str, port: int, timeout: float = 5.0) -> None:
    """Raise :class:`UpstreamError` unless something accepts TCP connections at ``host:port``."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError) as exc:
        raise UpstreamError(
            f"upstream {host}:{port} cannot be reached ({exc or 'timed out'}): is IB Gateway or TWS "
            f"running there with the API enabled?"
        ) from None
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()


def parse_host_port(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``PORT`` alone for loopback), with a clear error for anything else."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "127.0.0.1", text
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--upstream takes HOST:PORT (e.g. 127.0.0.1:4002), got {text!r}")
    return host or "127.0.0.1", int(port)


async def run_recording(
    upstream: tuple[str, int],
    listen: tuple[str, int],
    out_path: Path,
    on_listening: Callable[[CaptureProxy], None],
) -> CaptureProxy:
    """Probe the upstream, record until SIGINT/SIGTERM, then end the file cleanly."""
    await probe_upstream(*upstream)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    proxy = CaptureProxy(upstream[0], upstream[1], out_path, host=listen[0], port=listen[1])
    await proxy.start()
    on_listening(proxy)
    try:
        await stop.wait()
    finally:
        await proxy.stop()
    return proxy


class ProxyThread:
    """A :class:`CaptureProxy` on its own event loop in a thread (tests, benchmarks)."""

    def __init__(self, upstream_host: str, upstream_port: int, out_path: Path) -> None:
        self.proxy = CaptureProxy(upstream_host, upstream_port, out_path)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="capture-proxy", daemon=True)

    @property
    def port(self) -> int:
        return self.proxy.port

    def start(self) -> ProxyThread:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.proxy.start(), self._loop).result(30)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.proxy.stop(), self._loop).result(60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> ProxyThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
