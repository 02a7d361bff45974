"""A transparent TWS proxy that records every frame both ways (``catalyst gateway record``).

A client connects to the proxy as it would to IB Gateway; for each connection the proxy opens one to
the upstream (a real IB Gateway or TWS, or the simulator) and forwards bytes unchanged in both
directions. Each chunk goes out first; then a copy, with its time and direction, goes to the
recorder (``capture_recorder``), which runs as its own lower-priority process and does all the
parsing, naming, redaction and writing. The proxy itself parses only the upstream's first frame:
if it is not a TWS handshake reply, the upstream is reported as not a TWS endpoint and the
connection closed.
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

from catalyst.sim import capture_recorder as rec
from catalyst.sim.wire_framing import FrameReader, FramingError, split_fields

log = structlog.get_logger(__name__)

CHUNK = 65536
PIPE_BYTES = 1 << 20


class UpstreamError(ConnectionError):
    """The upstream cannot be reached, or what answers there is not a TWS endpoint."""


class NotTwsEndpointError(UpstreamError):
    """The upstream answered something other than a TWS handshake."""


class RecorderProcess:
    """The recorder as a child process fed through its stdin (never waited on while recording)."""

    def __init__(self, out_path: Path, upstream: str) -> None:
        self._out_path = out_path
        self._upstream = upstream
        self._proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "catalyst.sim.capture_recorder",
            str(self._out_path),
            self._upstream,
            stdin=asyncio.subprocess.PIPE,
            start_new_session=True,  # a Ctrl-C in the terminal stops the proxy, which then ends the recorder
        )
        _widen_pipe(self._proc.stdin)

    def send(self, message: bytes) -> None:
        if self._proc is not None and self._proc.stdin is not None and not self._proc.stdin.is_closing():
            self._proc.stdin.write(message)  # buffered by the event loop: the forwarding never waits

    async def finish(self, t: float) -> None:
        """Send the end, then wait until the recorder has written everything and exited."""
        if self._proc is None or self._proc.stdin is None:
            return
        self.send(rec.pack(rec.KIND_END, 0, t, b""))
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
        self._tasks: set[asyncio.Task[None]] = set()

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
        self._server = await asyncio.start_server(self._on_client, self.host, self.port, reuse_address=True)
        await self._recorder.start()  # after the bind: a port in use leaves no recorder behind
        self.port = int(self._server.sockets[0].getsockname()[1])
        log.info("capture.proxy.listening", host=self.host, port=self.port, upstream=self.upstream)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._recorder.finish(self.now())

    def _event(self, conn: int, event: str, detail: str = "") -> None:
        self._recorder.send(rec.pack_event(conn, self.now(), event, detail))

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

    async def _relay(
        self, conn: int, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(self.upstream_host, self.upstream_port), self._timeout
            )
        except (OSError, TimeoutError) as exc:
            self._fail(conn, "refused", f"upstream {self.upstream} cannot be reached: {exc}")
            return
        self._event(conn, "connected", str(client_writer.get_extra_info("peername")))
        check = _HandshakeCheck(self.upstream)
        pumps = [
            asyncio.create_task(self._pump(conn, rec.KIND_CLIENT, client_reader, up_writer, None)),
            asyncio.create_task(self._pump(conn, rec.KIND_GATEWAY, up_reader, client_writer, check)),
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
            self._event(conn, "closed")

    async def _pump(
        self,
        conn: int,
        kind: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        check: _HandshakeCheck | None,
    ) -> None:
        """Forward bytes until the reader ends; each chunk goes out before the recorder gets its copy."""
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
            self._recorder.send(rec.pack(kind, conn, self.now(), data))
            if check is not None and not check.passed:
                check.feed(data)
            await writer.drain()

    def _fail(self, conn: int, event: str, detail: str) -> None:
        self._errors.append(detail)
        self._event(conn, event, detail)
        log.error("capture.proxy.upstream_failed", conn=conn, reason=detail)


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
