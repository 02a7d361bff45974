"""Framing and version negotiation of the simulated gateway (tws-protocol.md §1)."""

from __future__ import annotations

import struct

import pytest

from catalyst.sim.gateway.wire_framing import (
    MAX_FRAME_BYTES,
    FrameReader,
    FramingError,
    HandshakeError,
    encode_frame,
    negotiate_version,
    split_fields,
)


def test_a_frame_is_a_big_endian_length_then_nul_terminated_fields() -> None:
    assert encode_frame(["9", "1", "12"]) == struct.pack(">I", 7) + b"9\x001\x0012\x00"


def test_empty_fields_keep_their_place() -> None:
    assert split_fields(b"4\x002\x00-1\x00\x00") == ["4", "2", "-1", ""]


def test_version_range_is_answered_with_the_clients_max_capped_at_178() -> None:
    assert negotiate_version("v157..178") == 178
    assert negotiate_version("v100..200") == 178
    assert negotiate_version("v157..170") == 170


def test_connect_options_after_the_range_are_accepted() -> None:
    assert negotiate_version("v157..178 +PACEAPI") == 178


def test_a_client_below_157_is_refused() -> None:
    with pytest.raises(HandshakeError):
        negotiate_version("v100..150")


def test_garbage_version_text_is_refused() -> None:
    with pytest.raises(HandshakeError):
        negotiate_version("hello")


def test_reader_splits_several_frames_in_one_read() -> None:
    reader = FrameReader()
    frames = reader.feed(encode_frame(["49", "1"]) + encode_frame(["5", "1"]))
    assert [split_fields(f) for f in frames] == [["49", "1"], ["5", "1"]]


def test_reader_joins_a_frame_split_across_reads() -> None:
    data = encode_frame(["17", "1"])
    reader = FrameReader()
    assert reader.feed(data[:3]) == []
    assert reader.feed(data[3:6]) == []
    assert [split_fields(f) for f in reader.feed(data[6:])] == [["17", "1"]]


def test_absurd_length_is_a_framing_error() -> None:
    with pytest.raises(FramingError):
        FrameReader().feed(struct.pack(">I", MAX_FRAME_BYTES + 1) + b"x")


def test_zero_length_frame_is_a_framing_error() -> None:
    with pytest.raises(FramingError):
        FrameReader().feed(struct.pack(">I", 0))
