"""TWS wire framing: the ``API\\0`` greeting, version negotiation and length-prefixed NUL fields.

Every frame after the greeting is a 4-byte big-endian length followed by that many bytes of
payload; the payload is a run of fields, each terminated by NUL. This module is pure: bytes in,
fields out, so the server and the fuzz tests share one parser.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence

from catalyst.sim.gateway.wire_versions import MIN_CLIENT_VERSION, SERVER_VERSION

#: A frame longer than this is treated as garbage and the connection dropped (IB's own cap is 16 MB).
MAX_FRAME_BYTES = 16 * 1024 * 1024
GREETING = b"API\0"

_VERSION_RANGE = re.compile(r"^v(\d+)\.\.(\d+)(?: .*)?$", re.DOTALL)
_SINGLE_VERSION = re.compile(r"^v(\d+)(?: .*)?$", re.DOTALL)


class FramingError(ValueError):
    """The peer sent bytes that are not a TWS frame; the connection should be dropped."""


class HandshakeError(FramingError):
    """The peer's greeting or version range cannot be served."""


def encode_frame(fields: Sequence[str]) -> bytes:
    """Frame a message: each field NUL-terminated, the whole payload length-prefixed."""
    payload = ("\0".join(fields) + "\0").encode("utf-8")
    return struct.pack(">I", len(payload)) + payload


def encode_raw_frame(payload: bytes) -> bytes:
    """Length-prefix an already assembled payload (the handshake's version text has no NUL)."""
    return struct.pack(">I", len(payload)) + payload


def split_fields(payload: bytes) -> list[str]:
    """Split a frame payload into its text fields (the last NUL's empty tail is dropped)."""
    text = payload.decode("utf-8", errors="backslashreplace")
    fields = text.split("\0")
    if fields and fields[-1] == "":
        fields.pop()
    return fields


def negotiate_version(version_text: str) -> int:
    """Answer a client's ``vMIN..MAX`` as a real gateway does: ``min(MAX, 178)``.

    Raises :class:`HandshakeError` if no version in the client's range is served (157..178).
    """
    text = version_text.rstrip("\0")
    match = _VERSION_RANGE.match(text)
    if match:
        low, high = int(match.group(1)), int(match.group(2))
    else:
        single = _SINGLE_VERSION.match(text)
        if not single:
            raise HandshakeError(f"unrecognised API version text {text[:40]!r}")
        low = high = int(single.group(1))
    if low > high:
        raise HandshakeError(f"empty version range {text[:40]!r}")
    chosen = min(high, SERVER_VERSION)
    if chosen < low or chosen < MIN_CLIENT_VERSION:
        raise HandshakeError(
            f"client speaks API versions {low}..{high}; the simulator serves "
            f"{MIN_CLIENT_VERSION}..{SERVER_VERSION} (IB's API 9.81 or newer, ib_insync 0.9.86): "
            f"refused before any reply"
        )
    return chosen


class FrameReader:
    """Incremental frame parser: feed bytes as they arrive, take complete payloads out.

    Handles several frames per read and frames split across reads. Raises :class:`FramingError`
    for a frame whose declared length is absurd (> ``max_bytes``) or zero.
    """

    def __init__(self, max_bytes: int = MAX_FRAME_BYTES) -> None:
        self._buf = bytearray()
        self._max = max_bytes

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        self._buf.extend(data)
        out: list[bytes] = []
        while len(self._buf) >= 4:
            (length,) = struct.unpack(">I", self._buf[:4])
            if length == 0:
                raise FramingError("zero-length frame")
            if length > self._max:
                raise FramingError(f"frame length {length} exceeds the {self._max}-byte limit")
            if len(self._buf) < 4 + length:
                break
            out.append(bytes(self._buf[4 : 4 + length]))
            del self._buf[: 4 + length]
        return out
