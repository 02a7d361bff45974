"""Replay the client side of a capture against a gateway and collect what it answers.

For each captured session: connect, send the same greeting and version range, check that the
gateway negotiates the captured server version, then send each captured client frame at its
captured offset from the handshake, but not before the gateway has sent as many frames as the
captured one had by then (or ``gap`` seconds have passed beyond the offset, so a gateway that
answers less does not stall the replay). Account placeholders in the capture are replaced by the
replayed gateway's own accounts; its answers are redacted the same way as the capture, so the two
compare like for like.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from catalyst.sim.capture.capture_file import CLIENT, GATEWAY, Capture, CaptureVersionError, Frame, Session
from catalyst.sim.capture.capture_redaction import Redactor
from catalyst.sim.gateway.wire_framing import (
    GREETING,
    FrameReader,
    encode_frame,
    encode_raw_frame,
    split_fields,
)
from catalyst.sim.gateway.wire_message_names import answer_name

Clock = Callable[[], float]


class ReplayError(ConnectionError):
    """The gateway to replay against cannot be reached or breaks off the session."""


@dataclass(frozen=True)
class ReplayedSession:
    captured: Session
    answers: tuple[Frame, ...]  # the gateway's frames, t relative to the capture's clock
    sent: tuple[Frame, ...]  # the client frames as replayed, t when each was actually sent


async def replay_session(
    session: Session, host: str, port: int, *, gap: float = 5.0, settle: float = 1.0
) -> ReplayedSession:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
    except (OSError, TimeoutError) as exc:
        raise ReplayError(
            f"the gateway to replay against at {host}:{port} cannot be reached: {exc}"
        ) from None
    redactor = Redactor()
    answers: list[Frame] = []
    frames = FrameReader()
    try:
        writer.write(GREETING + encode_raw_frame(session.client_versions.encode("ascii")))
        await writer.drain()
        version, early = await _handshake(reader, frames, host, port)
        if version != session.server_version:
            raise CaptureVersionError(
                f"connection {session.conn} of the capture ran at server version {session.server_version}; "
                f"the gateway at {host}:{port} negotiates {version} for the same client "
                f"({session.client_versions})"
            )
        started = time.monotonic()

        def now() -> float:
            return session.t + time.monotonic() - started

        reading = asyncio.create_task(
            _read_answers(reader, frames, early, redactor, session.conn, now, answers)
        )
        sent = await _send_requests(session, writer, redactor, now, answers, gap)
        await _settle(session, now, answers, gap, settle, reading)
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await reading
    finally:
        writer.close()
    return ReplayedSession(session, tuple(answers), tuple(sent))


async def _handshake(
    reader: asyncio.StreamReader, frames: FrameReader, host: str, port: int
) -> tuple[int, list[bytes]]:
    """The negotiated version, and any answers that arrived with the handshake reply."""
    while True:
        data = await asyncio.wait_for(reader.read(65536), 10)
        if not data:
            raise ReplayError(f"the gateway at {host}:{port} closed the connection during the handshake")
        payloads = frames.feed(data)
        if payloads:
            return int(split_fields(payloads[0])[0]), payloads[1:]


async def _read_answers(
    reader: asyncio.StreamReader,
    frames: FrameReader,
    pending: list[bytes],
    redactor: Redactor,
    conn: int,
    now: Clock,
    answers: list[Frame],
) -> None:
    while True:
        for payload in pending:
            fields = split_fields(payload)
            name = answer_name(fields)
            answers.append(
                Frame(conn, now(), GATEWAY, _msg_id(fields), name, tuple(redactor.redact(name, fields)))
            )
        data = await reader.read(65536)
        if not data:
            return
        pending = frames.feed(data)


async def _send_requests(
    session: Session,
    writer: asyncio.StreamWriter,
    redactor: Redactor,
    now: Clock,
    answers: list[Frame],
    gap: float,
) -> list[Frame]:
    seen = shortfall = 0  # shortfall: answers the gateway did not send when the capture had them
    sent: list[Frame] = []
    for frame in session.frames:
        if frame.direction == GATEWAY:
            seen += 1
            continue
        assert frame.direction == CLIENT
        while now() < frame.t or (len(answers) + shortfall < seen and now() < frame.t + gap):
            await asyncio.sleep(0.005)
        shortfall = max(shortfall, seen - len(answers))
        writer.write(encode_frame(redactor.restore(frame.fields)))
        sent.append(replace(frame, t=now()))
        await writer.drain()
    return sent


async def _settle(
    session: Session, now: Clock, answers: list[Frame], gap: float, settle: float, reading: asyncio.Task[None]
) -> None:
    expected = sum(1 for f in session.frames if f.direction == GATEWAY)
    last = session.frames[-1].t if session.frames else session.t
    while not reading.done():
        t = now()
        if (len(answers) >= expected and t >= last + settle) or t >= last + gap + settle:
            return
        await asyncio.sleep(0.01)


def _msg_id(fields: list[str]) -> int | None:
    try:
        return int(fields[0]) if fields else None
    except ValueError:
        return None


def replay_capture(capture: Capture, host: str, port: int, *, gap: float = 5.0) -> list[ReplayedSession]:
    """Replay every session, one after the other, on a private event loop in a worker thread."""
    result: list[ReplayedSession] = []
    failure: list[BaseException] = []

    async def run_all() -> None:
        for session in capture.sessions:
            result.append(await replay_session(session, host, port, gap=gap))

    def worker() -> None:
        try:
            asyncio.run(run_all())
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=worker, name="capture-replay")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result
