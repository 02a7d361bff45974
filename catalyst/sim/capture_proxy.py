"""A transparent TWS proxy that records every frame both ways (``catalyst gateway record``).

A client connects to the proxy as it would to IB Gateway; for each connection the proxy opens one to
the upstream (a real IB Gateway or TWS, or the simulator) and forwards bytes unchanged in both
directions, each chunk before it is looked at. A copy of each chunk is parsed (``wire_framing``)
into frames, named (``wire_message_names``), redacted (``capture_redaction``) and written to the
capture file (``capture_file``). An upstream whose first answer is not a TWS handshake is reported
and the connection closed; a client that does not speak TWS is forwarded but not decoded.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import structlog

from catalyst.sim.capture_file import CLIENT, GATEWAY, CaptureWriter
from catalyst.sim.capture_redaction import Redactor
from catalyst.sim.wire_framing import GREETING, FrameReader, FramingError, split_fields
from catalyst.sim.wire_message_names import answer_name, request_name

log = structlog.get_logger(__name__)

CHUNK = 65536
#: seconds between flushes of the capture file (a recorder killed outright loses at most this much)
FLUSH_EVERY = 0.2


class UpstreamError(ConnectionError):
    """The upstream cannot be reached, or what answers there is not a TWS endpoint."""


class NotTwsEndpointError(UpstreamError):
    """The upstream answered something other than a TWS handshake."""


@dataclass
class _Recording:
    """What is shared by every connection of one recording: the file, the redactor, the clock."""

    writer: CaptureWriter
    started: float = field(default_factory=time.monotonic)
    redactor: Redactor = field(default_factory=Redactor)
    errors: list[str] = field(default_factory=list)

    def now(self) -> float:
        return time.monotonic() - self.started


class _ConnectionDecoder:
    """Turns the two byte streams of one connection into capture records."""

    def __init__(self, conn: int, rec: _Recording, upstream: str) -> None:
        self.conn = conn
        self._rec = rec
        self._upstream = upstream
        self._greeting = b""
        self._client_frames: FrameReader | None = None
        self._client_versions = ""
        self._gateway_frames = FrameReader()
        self._handshake_done = False

    def from_client(self, data: bytes) -> None:
        if self._client_frames is None:
            self._greeting += data
            if len(self._greeting) < len(GREETING):
                return
            if not self._greeting.startswith(GREETING):
                self._rec.writer.event(
                    self.conn,
                    self._rec.now(),
                    "not-tws-client",
                    "the client sent no API greeting; forwarded, not decoded",
                )
                self._client_frames = _Undecoded()
                return
            self._client_frames = FrameReader()
            data, self._greeting = self._greeting[len(GREETING) :], b""
        try:
            payloads = self._client_frames.feed(data)
        except FramingError as exc:
            self._rec.writer.event(self.conn, self._rec.now(), "client-framing", str(exc))
            self._client_frames = _Undecoded()
            return
        for payload in payloads:
            if not self._client_versions:
                self._client_versions = payload.decode("ascii", errors="replace").rstrip("\0")
                continue
            self._record(CLIENT, request_name, split_fields(payload))

    def from_gateway(self, data: bytes) -> None:
        try:
            payloads = self._gateway_frames.feed(data)
        except FramingError as exc:
            raise NotTwsEndpointError(self._not_tws(str(exc))) from None
        for payload in payloads:
            fields = split_fields(payload)
            if not self._handshake_done:
                self._handshake(fields)
                continue
            self._record(GATEWAY, answer_name, fields)

    def _handshake(self, fields: list[str]) -> None:
        if len(fields) < 1 or not fields[0].isdigit() or not 100 <= int(fields[0]) <= 999:
            raise NotTwsEndpointError(self._not_tws(f"its first answer {fields[:2]!r} is no handshake"))
        self._handshake_done = True
        server_time = fields[1] if len(fields) > 1 else ""
        self._rec.writer.session(
            self.conn, self._rec.now(), self._client_versions, int(fields[0]), server_time
        )

    def _not_tws(self, reason: str) -> str:
        return (
            f"upstream {self._upstream} is not a TWS endpoint (IB Gateway or TWS with the API "
            f"enabled): {reason}"
        )

    def _record(self, direction: str, namer: Callable[[list[str]], str], fields: list[str]) -> None:
        name = namer(fields)
        self._rec.writer.frame(
            self.conn, self._rec.now(), direction, name, self._rec.redactor.redact(name, fields)
        )


class _Undecoded(FrameReader):
    """Stands in for the parser of a stream that is forwarded but no longer decoded."""

    def feed(self, data: bytes) -> list[bytes]:
        return []


class CaptureProxy:
    """The asyncio server: ``await start()``, clients connect to ``port``, ``await stop()`` ends the file."""

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        out: TextIO,
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
        upstream = f"{upstream_host}:{upstream_port}"
        self._rec = _Recording(
            CaptureWriter(out, upstream=upstream, recorded_at=datetime.now(UTC).isoformat())
        )
        self._server: asyncio.base_events.Server | None = None
        self._conns = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._flusher: asyncio.Task[None] | None = None

    @property
    def upstream(self) -> str:
        return f"{self.upstream_host}:{self.upstream_port}"

    @property
    def errors(self) -> list[str]:
        """Upstream problems met so far (each also logged and written to the capture as an event)."""
        return list(self._rec.errors)

    async def start(self) -> None:
        self._flusher = asyncio.create_task(self._flush_periodically())
        self._server = await asyncio.start_server(self._on_client, self.host, self.port, reuse_address=True)
        self.port = int(self._server.sockets[0].getsockname()[1])
        log.info("capture.proxy.listening", host=self.host, port=self.port, upstream=self.upstream)

    async def _flush_periodically(self) -> None:
        """The file is flushed every FLUSH_EVERY seconds rather than per frame (off the forwarding path)."""
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            self._rec.writer.flush()

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._rec.writer.end(self._rec.now())

    async def _on_client(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        conn = next(self._conns)
        try:
            await self._relay(conn, client_reader, client_writer)
        finally:
            if task is not None:
                self._tasks.discard(task)
            client_writer.close()
            self._rec.writer.flush()

    async def _relay(
        self, conn: int, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        rec = self._rec
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(self.upstream_host, self.upstream_port), self._timeout
            )
        except (OSError, TimeoutError) as exc:
            self._fail(conn, "refused", f"upstream {self.upstream} cannot be reached: {exc}")
            return
        rec.writer.event(conn, rec.now(), "connected", str(client_writer.get_extra_info("peername")))
        decoder = _ConnectionDecoder(conn, rec, self.upstream)
        pumps = [
            asyncio.create_task(_pump(client_reader, up_writer, decoder.from_client)),
            asyncio.create_task(_pump(up_reader, client_writer, decoder.from_gateway)),
        ]
        try:
            done, _ = await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                failure = task.exception()
                if isinstance(failure, NotTwsEndpointError):
                    self._fail(conn, "not-tws", str(failure))
        finally:
            for task in pumps:
                task.cancel()
            for task in pumps:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            up_writer.close()
            rec.writer.event(conn, rec.now(), "closed")

    def _fail(self, conn: int, event: str, detail: str) -> None:
        self._rec.errors.append(detail)
        self._rec.writer.event(conn, self._rec.now(), event, detail)
        log.error("capture.proxy.upstream_failed", conn=conn, reason=detail)


async def _pump(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, observe: Callable[[bytes], None]
) -> None:
    """Forward bytes until the reader ends; each chunk goes out before it is observed."""
    while True:
        try:
            data = await reader.read(CHUNK)
        except ConnectionError:
            return
        if not data:
            with contextlib.suppress(OSError):
                writer.write_eof()
            return
        writer.write(data)
        observe(data)
        await writer.drain()


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


class ProxyThread:
    """A :class:`CaptureProxy` on its own event loop in a thread (tests, benchmarks)."""

    def __init__(self, upstream_host: str, upstream_port: int, out_path: Path) -> None:
        self._out = open(out_path, "w", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        self.proxy = CaptureProxy(upstream_host, upstream_port, self._out)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="capture-proxy", daemon=True)

    @property
    def port(self) -> int:
        return self.proxy.port

    def start(self) -> ProxyThread:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.proxy.start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.proxy.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._out.close()

    def __enter__(self) -> ProxyThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


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
    """Probe the upstream, record until cancelled (SIGINT/SIGTERM), then end the file cleanly."""
    import signal

    await probe_upstream(*upstream)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with open(out_path, "w", encoding="utf-8") as out:
        proxy = CaptureProxy(upstream[0], upstream[1], out, host=listen[0], port=listen[1])
        await proxy.start()
        on_listening(proxy)
        try:
            await stop.wait()
        finally:
            await proxy.stop()
    return proxy
