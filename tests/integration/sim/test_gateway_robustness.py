"""Malformed input, vanishing clients and load: the gateway drops or answers the bad connection,
logs it, and keeps serving everyone else with its state intact."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ib_async import LimitOrder, Stock
from sim_gateway_helpers import TRADING_CLOCK, connect, wait_until

from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway
from catalyst.sim.gateway.wire_framing import FrameReader, encode_frame, encode_raw_frame, split_fields

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHandle]:
    """An in-memory gateway: fuzzed orders would otherwise each be written to the state file."""
    handle = start_gateway(tmp_path_factory.mktemp("fuzzed"), clock=TRADING_CLOCK, ephemeral=True)
    yield handle
    handle.stop()


#: Request ids the fuzzer mixes in (all the gateway serves except 58, reqGlobalCancel, which would
#: legitimately cancel the order whose survival the tests check).
KNOWN_IDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 20, 25, 49, 59, 61, 62, 63, 64, 76, 77, 91, 99]


class RawClient:
    """A bare socket speaking the TWS framing, to send what ib_async never would."""

    def __init__(self, handle: GatewayHandle, client_id: int) -> None:
        self.sock = socket.create_connection((handle.host, handle.port), timeout=5)
        self.reader = FrameReader()
        self.sock.sendall(b"API\0" + encode_raw_frame(b"v157..178"))
        self.handshake = self.read()
        self.send(["71", "2", str(client_id), ""])

    def send(self, fields: list[str]) -> None:
        self.sock.sendall(encode_frame(fields))

    def read(self) -> list[str]:
        while True:
            frames = self.reader.feed(b"") if self.reader.buffered else []
            if frames:
                return split_fields(frames[0])
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("gateway closed the connection")
            frames = self.reader.feed(data)
            if frames:
                self._rest = frames[1:]
                return split_fields(frames[0])

    def read_until(self, msg_id: str) -> list[str]:
        for _ in range(200):
            fields = self._rest.pop(0) if getattr(self, "_rest", None) else None
            fields = split_fields(fields) if fields is not None else self.read()
            if fields[0] == msg_id:
                return fields
        raise AssertionError(f"no message {msg_id}")

    def closed_by_peer(self) -> bool:
        self.sock.settimeout(5)
        try:
            while self.sock.recv(65536):
                pass
        except (ConnectionResetError, TimeoutError):
            return False
        return True

    def close(self) -> None:
        self.sock.close()


def _alive_and_intact(gateway: GatewayHandle) -> None:
    status = gateway.control.status()
    assert status["accepting"]
    ib = connect(gateway)
    try:
        assert any(t.order.orderRef == "must-survive" for t in ib.reqAllOpenOrders())
    finally:
        ib.disconnect()


@pytest.fixture(scope="module", autouse=True)
def resting_order(gateway: GatewayHandle) -> None:
    ib = connect(gateway, client_id=1)
    [c] = ib.qualifyContracts(Stock("700", "SEHK", "HKD"))
    bid = ib.reqTickers(c)[0].bid
    trade = ib.placeOrder(c, LimitOrder("BUY", 100, round(bid - 5, 1), orderRef="must-survive"))
    assert wait_until(ib, lambda: trade.orderStatus.status == "Submitted")
    ib.disconnect()


def test_unknown_message_id_is_ignored_and_the_session_goes_on(gateway: GatewayHandle) -> None:
    raw = RawClient(gateway, 501)
    raw.send(["999", "1", "x"])
    raw.send(["49", "1"])
    assert raw.read_until("49")[0] == "49"
    raw.close()


def test_truncated_request_gets_error_320_and_the_session_goes_on(gateway: GatewayHandle) -> None:
    raw = RawClient(gateway, 502)
    raw.send(["3", "77", "0", "700"])
    error = raw.read_until("4")
    while error[3] != "320":
        error = raw.read_until("4")
    raw.send(["49", "1"])
    assert raw.read_until("49")[0] == "49"
    raw.close()


def test_absurd_frame_length_drops_only_that_connection(gateway: GatewayHandle) -> None:
    raw = RawClient(gateway, 503)
    raw.sock.sendall(struct.pack(">I", 100 * 1024 * 1024) + b"xx")
    assert raw.closed_by_peer()
    _alive_and_intact(gateway)


def test_garbage_instead_of_the_greeting_is_dropped(gateway: GatewayHandle) -> None:
    sock = socket.create_connection((gateway.host, gateway.port), timeout=5)
    sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
    sock.settimeout(5)
    assert sock.recv(100) == b""
    sock.close()
    _alive_and_intact(gateway)


def test_client_vanishing_mid_message_leaves_the_gateway_serving(gateway: GatewayHandle) -> None:
    raw = RawClient(gateway, 504)
    frame = encode_frame(["49", "1"])
    raw.sock.sendall(frame[:5])
    raw.close()
    _alive_and_intact(gateway)


frames_strategy = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(KNOWN_IDS).map(str), st.text(max_size=4)),
        st.lists(
            st.one_of(
                st.text(max_size=12), st.integers(-5, 10**6).map(str), st.sampled_from(["", "SEHK", "700"])
            ),
            max_size=40,
        ),
    ),
    max_size=6,
)  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frames=frames_strategy, junk=st.binary(max_size=64))
def test_fuzzed_frames_never_take_the_gateway_down(gateway: GatewayHandle, frames: list, junk: bytes) -> None:
    try:
        raw = RawClient(gateway, 600)
    except ConnectionError:
        pytest.skip("previous fuzz client still registered")
    try:
        for msg_id, fields in frames:
            raw.sock.sendall(encode_frame([msg_id, *fields]))
        raw.sock.sendall(junk)
    except OSError:
        pass  # the gateway may drop a connection that sent garbage
    finally:
        raw.close()
    assert gateway.control.status()["accepting"]


def test_state_is_intact_after_the_fuzzing(gateway: GatewayHandle) -> None:
    _alive_and_intact(gateway)
