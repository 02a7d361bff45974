"""The recording side of ``catalyst gateway record``: byte chunks in, capture records out.

The proxy (``capture_proxy``) only forwards; it hands a copy of every chunk it forwarded, with its
time and direction, to a :class:`Recorder`, which splits the streams into frames
(``wire_framing``), names them (``wire_message_names``), redacts them (``capture_redaction``) and
writes them (``capture_file``). In ``catalyst gateway record`` the recorder runs as its own
lower-priority process (``python -m catalyst.sim.capture.capture_recorder OUT UPSTREAM``, chunks on its
stdin), so parsing and writing never delay the session and use the other core; it catches up
when the session is quiet, and the capture is complete once it exits.

Chunk messages on the pipe: ``>IdIB`` (payload length, t, connection, kind) then the payload.
"""

from __future__ import annotations

import json
import os
import select
import signal
import struct
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from catalyst.sim.capture.capture_file import CLIENT, GATEWAY, CaptureWriter
from catalyst.sim.capture.capture_redaction import Redactor
from catalyst.sim.gateway.wire_framing import GREETING, FrameReader, FramingError, split_fields
from catalyst.sim.gateway.wire_message_names import answer_name, request_name

HEADER = struct.Struct(">IdIB")
KIND_CLIENT, KIND_GATEWAY, KIND_EVENT, KIND_END = 0, 1, 2, 3
#: how much lower the recorder process runs than the proxy (os.nice increment)
NICENESS = 19


class Recorder:
    """Decodes the chunks of every connection of one recording into one capture file."""

    def __init__(self, writer: CaptureWriter) -> None:
        self.writer = writer
        self.redactor = Redactor()
        self._decoders: dict[int, _ConnectionDecoder] = {}

    def chunk(self, conn: int, t: float, direction: str, data: bytes) -> None:
        decoder = self._decoders.get(conn)
        if decoder is None:
            decoder = self._decoders[conn] = _ConnectionDecoder(conn, self)
        (decoder.from_client if direction == CLIENT else decoder.from_gateway)(t, data)

    def event(self, conn: int, t: float, event: str, detail: str = "") -> None:
        self.writer.event(conn, t, event, detail)
        if event == "closed":
            self._decoders.pop(conn, None)

    def end(self, t: float) -> None:
        self.writer.end(t)


class _ConnectionDecoder:
    """Turns the two byte streams of one connection into capture records."""

    def __init__(self, conn: int, recorder: Recorder) -> None:
        self.conn = conn
        self._rec = recorder
        self._greeting = b""
        self._client_frames: FrameReader | None = None
        self._client_versions = ""
        self._gateway_frames: FrameReader = FrameReader()
        self._handshake_done = False

    def from_client(self, t: float, data: bytes) -> None:
        if self._client_frames is None:
            self._greeting += data
            if len(self._greeting) < len(GREETING):
                return
            if not self._greeting.startswith(GREETING):
                self._rec.writer.event(
                    self.conn, t, "not-tws-client", "no API greeting; forwarded, not decoded"
                )
                self._client_frames = _Undecoded()
                return
            self._client_frames = FrameReader()
            data, self._greeting = self._greeting[len(GREETING) :], b""
        try:
            payloads = self._client_frames.feed(data)
        except FramingError as exc:
            self._rec.writer.event(self.conn, t, "client-framing", str(exc))
            self._client_frames = _Undecoded()
            return
        for payload in payloads:
            if not self._client_versions:
                self._client_versions = payload.decode("ascii", errors="replace").rstrip("\0")
                continue
            self._record(t, CLIENT, request_name, split_fields(payload))

    def from_gateway(self, t: float, data: bytes) -> None:
        try:
            payloads = self._gateway_frames.feed(data)
        except FramingError as exc:
            self._rec.writer.event(self.conn, t, "gateway-framing", str(exc))
            self._gateway_frames = _Undecoded()
            return
        for payload in payloads:
            fields = split_fields(payload)
            if not self._handshake_done:
                self._handshake(t, fields)
                continue
            self._record(t, GATEWAY, answer_name, fields)

    def _handshake(self, t: float, fields: list[str]) -> None:
        version = handshake_version(fields)
        if version is None:
            self._rec.writer.event(self.conn, t, "not-tws", f"first answer {fields[:2]!r} is no handshake")
            self._gateway_frames = _Undecoded()
            return
        self._handshake_done = True
        server_time = fields[1] if len(fields) > 1 else ""
        self._rec.writer.session(self.conn, t, self._client_versions, version, server_time)

    def _record(self, t: float, direction: str, namer: Callable[[list[str]], str], fields: list[str]) -> None:
        name = namer(fields)
        self._rec.writer.frame(self.conn, t, direction, name, self._rec.redactor.redact(name, fields))


class _Undecoded(FrameReader):
    """Stands in for the parser of a stream that is forwarded but no longer decoded."""

    def feed(self, data: bytes) -> list[bytes]:
        return []


def handshake_version(fields: list[str]) -> int | None:
    """The server version of a gateway's first frame, or None if it is no TWS handshake reply."""
    if not fields or not fields[0].isdigit() or not 100 <= int(fields[0]) <= 999:
        return None
    return int(fields[0])


def pack(kind: int, conn: int, t: float, payload: bytes) -> bytes:
    return HEADER.pack(len(payload), t, conn, kind) + payload


def pack_event(conn: int, t: float, event: str, detail: str) -> bytes:
    return pack(KIND_EVENT, conn, t, json.dumps([event, detail]).encode("utf-8"))


def run(fd: int, recorder: Recorder, flush_every: float = 0.2) -> None:
    """Read chunk messages from ``fd`` until the end message (or the proxy's end of the pipe).

    The file is flushed whenever the pipe has been quiet for ``flush_every`` seconds.
    """
    buffer = bytearray()
    while True:
        readable, _, _ = select.select([fd], [], [], flush_every)
        if not readable:
            recorder.writer.flush()
            continue
        data = os.read(fd, 1 << 20)
        if not data:
            recorder.end(0.0)
            return
        buffer += data
        while len(buffer) >= HEADER.size:
            length, t, conn, kind = HEADER.unpack_from(buffer)
            if len(buffer) < HEADER.size + length:
                break
            payload = bytes(buffer[HEADER.size : HEADER.size + length])
            del buffer[: HEADER.size + length]
            if kind == KIND_END:
                recorder.end(t)
                return
            _dispatch(recorder, kind, conn, t, payload)


def _dispatch(recorder: Recorder, kind: int, conn: int, t: float, payload: bytes) -> None:
    if kind == KIND_CLIENT:
        recorder.chunk(conn, t, CLIENT, payload)
    elif kind == KIND_GATEWAY:
        recorder.chunk(conn, t, GATEWAY, payload)
    else:
        event, detail = json.loads(payload)
        recorder.event(conn, t, event, detail)


def main(argv: list[str] | None = None) -> int:
    out_path, upstream = (argv if argv is not None else sys.argv[1:])[:2]
    os.nice(NICENESS)
    # Ctrl-C reaches the whole process group: the recorder ends when the proxy closes its stdin,
    # after writing everything it was sent, not at the signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with open(Path(out_path), "w", encoding="utf-8") as out:
        run(
            sys.stdin.fileno(),
            Recorder(CaptureWriter(out, upstream=upstream, recorded_at=datetime.now(UTC).isoformat())),
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
