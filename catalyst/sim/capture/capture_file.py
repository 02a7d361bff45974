"""The capture file of ``catalyst gateway record``: JSON lines, one TWS frame per line.

Line 1 is the header: ``{"type": "header", "format": "catalyst-tws-capture", "format_version": 1,
"server_version": N, "upstream": "host:port", "recorded_at": ISO}`` (``server_version`` is the one
the first session negotiated). Then, per client connection ``conn``:

- ``{"type": "session", "conn", "t", "client_versions": "v100..178", "server_version", "server_time"}``
  once the gateway has answered the handshake;
- ``{"type": "frame", "conn", "t", "dir": "client"|"gateway", "id", "name", "fields": [...]}`` for each
  frame after the handshake (``t``: seconds since the recording started; ``dir``: who sent it);
- ``{"type": "event", "conn", "t", "event", "detail"}``: connected, closed, refused, not-tws;

and a last ``{"type": "end", "t", "frames"}`` when the recorder stops cleanly. Field values are
redacted (``capture_redaction``); everything else is as it was on the wire.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from catalyst.sim.gateway.wire_versions import MIN_CLIENT_VERSION, SERVER_VERSION

FORMAT = "catalyst-tws-capture"
FORMAT_VERSION = 1
CLIENT = "client"
GATEWAY = "gateway"


class CaptureFileError(ValueError):
    """A capture file that cannot be read as one: missing, truncated, foreign or malformed."""


class CaptureVersionError(CaptureFileError):
    """A capture negotiated at a server version the simulator does not serve."""


@dataclass(frozen=True)
class Frame:
    conn: int
    t: float
    direction: str  # CLIENT or GATEWAY
    msg_id: int | None
    name: str
    fields: tuple[str, ...]


@dataclass
class Session:
    conn: int
    t: float
    client_versions: str
    server_version: int
    server_time: str
    frames: list[Frame] = field(default_factory=list)


@dataclass(frozen=True)
class Capture:
    header: dict[str, Any]
    sessions: tuple[Session, ...]
    events: tuple[dict[str, Any], ...]
    complete: bool  # the recorder wrote its end record

    @property
    def server_version(self) -> int | None:
        value = self.header.get("server_version")
        return int(value) if isinstance(value, int) else None


class CaptureWriter:
    """Appends records to an open text file; the header waits for the first negotiated version."""

    def __init__(self, out: TextIO, *, upstream: str, recorded_at: str) -> None:
        self._out = out
        self._header: dict[str, Any] = {
            "type": "header",
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "server_version": None,
            "upstream": upstream,
            "recorded_at": recorded_at,
        }
        self._pending: list[dict[str, Any]] = []
        self._header_written = False
        self.frames = 0

    def session(
        self, conn: int, t: float, client_versions: str, server_version: int, server_time: str
    ) -> None:
        record = {
            "type": "session",
            "conn": conn,
            "t": round(t, 6),
            "client_versions": client_versions,
            "server_version": server_version,
            "server_time": server_time,
        }
        if not self._header_written:
            self._header["server_version"] = server_version
            self._write_header()
        self._write(record)

    def frame(self, conn: int, t: float, direction: str, name: str, fields: list[str]) -> None:
        self.frames += 1
        if not self._header_written:
            self._write({"type": "frame", "conn": conn, "t": round(t, 6), "dir": direction,
                         "id": _msg_id(fields), "name": name, "fields": fields})  # fmt: skip
            return
        # the hot path of a recording: the same record as json.dumps would write, built directly
        msg_id = _msg_id(fields)
        self._out.write(
            f'{{"type": "frame", "conn": {conn}, "t": {round(t, 6)}, "dir": "{direction}", '
            f'"id": {"null" if msg_id is None else msg_id}, "name": {_json_text(name)}, '
            f'"fields": {_dumps(fields)}}}\n'
        )

    def event(self, conn: int, t: float, event: str, detail: str = "") -> None:
        self._write({"type": "event", "conn": conn, "t": round(t, 6), "event": event, "detail": detail})

    def end(self, t: float) -> None:
        if not self._header_written:
            self._write_header()
        self._write({"type": "end", "t": round(t, 6), "frames": self.frames})
        self._out.flush()

    def flush(self) -> None:
        self._out.flush()

    def _write_header(self) -> None:
        self._header_written = True
        self._out.write(json.dumps(self._header) + "\n")
        for record in self._pending:
            self._out.write(json.dumps(record) + "\n")
        self._pending.clear()

    def _write(self, record: dict[str, Any]) -> None:
        if not self._header_written:
            self._pending.append(record)
            return
        self._out.write(json.dumps(record) + "\n")


_dumps = json.JSONEncoder(ensure_ascii=True).encode


def _json_text(text: str) -> str:
    return f'"{text}"' if text.isalnum() else _dumps(text)


def _msg_id(fields: list[str]) -> int | None:
    try:
        return int(fields[0]) if fields else None
    except ValueError:
        return None


def read_capture(path: Path) -> Capture:
    """Read and check a capture; every way it can be unusable raises :class:`CaptureFileError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CaptureFileError(f"capture file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CaptureFileError(f"capture file {path} cannot be read: {exc}") from None
    lines = text.splitlines()
    if not lines:
        raise CaptureFileError(f"capture file {path} is empty")
    records = [
        _parse_line(path, number, line, is_last=number == len(lines), ends_in_newline=text.endswith("\n"))
        for number, line in enumerate(lines, start=1)
    ]
    header = records[0]
    _check_header(path, header)
    return _assemble(path, header, records[1:])


def _parse_line(
    path: Path, number: int, line: str, *, is_last: bool, ends_in_newline: bool
) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError:
        if number == 1:
            raise CaptureFileError(
                f"{path} is not a capture of `catalyst gateway record` (line 1 is not JSON)"
            ) from None
        if is_last and not ends_in_newline:
            raise CaptureFileError(
                f"capture file {path} is truncated: line {number} is an incomplete record "
                f"(the recorder was stopped mid-write); the {number - 1} lines before it are intact"
            ) from None
        raise CaptureFileError(f"capture file {path}: line {number} is not a JSON record") from None
    if not isinstance(record, dict) or not isinstance(record.get("type"), str):
        if number == 1:
            raise CaptureFileError(f"{path} is not a capture of `catalyst gateway record` (no header line)")
        raise CaptureFileError(f"capture file {path}: line {number} is not a capture record")
    return record


def _check_header(path: Path, header: dict[str, Any]) -> None:
    if header.get("type") != "header" or header.get("format") != FORMAT:
        raise CaptureFileError(
            f"{path} is not a capture of `catalyst gateway record` (its first line names no "
            f"{FORMAT!r} format)"
        )
    if header.get("format_version") != FORMAT_VERSION:
        raise CaptureFileError(
            f"capture file {path} is in format version {header.get('format_version')!r}; "
            f"this Catalyst reads version {FORMAT_VERSION}"
        )


def _assemble(path: Path, header: dict[str, Any], records: list[dict[str, Any]]) -> Capture:
    sessions: dict[int, Session] = {}
    events: list[dict[str, Any]] = []
    complete = False
    for number, record in enumerate(records, start=2):
        kind = record["type"]
        try:
            if kind == "session":
                conn = int(record["conn"])
                sessions[conn] = Session(
                    conn,
                    float(record["t"]),
                    str(record["client_versions"]),
                    int(record["server_version"]),
                    str(record["server_time"]),
                )
            elif kind == "frame":
                conn = int(record["conn"])
                session = sessions.get(conn)
                if session is None:
                    raise CaptureFileError(
                        f"capture file {path}: line {number} is a frame of connection "
                        f"{conn}, which never completed its handshake"
                    )
                if record["dir"] not in (CLIENT, GATEWAY):
                    raise KeyError("dir")
                session.frames.append(
                    Frame(
                        conn,
                        float(record["t"]),
                        str(record["dir"]),
                        record.get("id"),
                        str(record["name"]),
                        tuple(str(f) for f in record["fields"]),
                    )
                )
            elif kind == "event":
                events.append(record)
            elif kind == "end":
                complete = True
            else:
                raise CaptureFileError(f"capture file {path}: line {number} has unknown record type {kind!r}")
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, CaptureFileError):
                raise
            raise CaptureFileError(
                f"capture file {path}: line {number} ({kind}) lacks or garbles {exc}"
            ) from None
    return Capture(header, tuple(sessions.values()), tuple(events), complete)


def check_replayable(capture: Capture, path: Path) -> None:
    """A capture the simulator can answer: at least one session, each at a version it serves."""
    if not capture.sessions:
        raise CaptureFileError(f"capture file {path} holds no client session that completed a handshake")
    for session in capture.sessions:
        if not MIN_CLIENT_VERSION <= session.server_version <= SERVER_VERSION:
            raise CaptureVersionError(
                f"capture file {path}: connection {session.conn} ran at server version "
                f"{session.server_version}; the simulator serves {MIN_CLIENT_VERSION}..{SERVER_VERSION}, "
                f"so its answers cannot be compared (record with a client whose newest version is "
                f"{SERVER_VERSION} or lower)"
            )
