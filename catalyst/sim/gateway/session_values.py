"""The protocol server's values: its settings, a client session, a bar subscription, an outage, and
the notices a real gateway sends.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import structlog

from catalyst.sim.engine import model as m
from catalyst.sim.gateway import wire_encode as enc
from catalyst.sim.gateway.connection_faults import (
    PacingWindow,
)
from catalyst.sim.gateway.wire_framing import (
    encode_frame,
)
from catalyst.sim.gateway.wire_versions import for_session

log = structlog.get_logger(__name__)

#: Farm notices a real gateway sends right after nextValidId (code, text).
FARM_NOTICES: tuple[tuple[int, str], ...] = (
    (2104, "Market data farm connection is OK:hfarm"),
    (2106, "HMDS data farm connection is OK:hkhmds"),
    (2158, "Sec-def data farm connection is OK:secdefhk"),
)

#: An IB server reset as a real gateway reports it (reqId -1), and the farm notices around it.
CONNECTIVITY_LOST = (1100, "Connectivity between IB and Trader Workstation has been lost.")
CONNECTIVITY_RESTORED = {
    1101: "Connectivity between IB and Trader Workstation has been restored - data lost.",
    1102: "Connectivity between IB and Trader Workstation has been restored - data maintained.",
}
FARMS_BROKEN: tuple[tuple[int, str], ...] = (
    (2103, "Market data farm connection is broken:hfarm"),
    (2105, "HMDS data farm connection is broken:hkhmds"),
)
#: Order requests a connectivity outage holds until it ends: placeOrder, cancelOrder, reqGlobalCancel.
HELD_IN_OUTAGE = frozenset({3, 4, 58})


@dataclass
class ServerSettings:
    """Behaviour switches where IB's conduct is documented but not certain (docs/simulator.md)."""

    #: A client with this id receives every client's order events (TWS "Master API client ID").
    master_client_id: int | None = None
    #: Send the 2104/2106/2158 farm notices after nextValidId, as a real gateway does.
    send_farm_notices: bool = True
    #: How often the engine's clock is ticked (seconds of wall time).
    tick_interval: float = 0.05
    #: How often keepUpToDate bar subscriptions are refreshed (seconds of wall time).
    bar_update_interval: float = 1.0
    #: A client whose unsent output exceeds this many bytes is dropped (it stopped reading).
    max_write_buffer: int = 64 * 1024 * 1024
    #: Position pushes to reqPositions subscribers wait this long (seconds of wall time), keeping
    #: only the newest per (account, conId); a reqPositions answered meanwhile replaces them. An
    #: update that crossed a reqPositions on the wire would be counted twice by the IB client,
    #: which collects every position message until positionEnd.
    position_push_delay: float = 0.1


@dataclass
class BarSubscription:
    """A reqHistoricalData with keepUpToDate: the newest bar is resent while it changes."""

    symbol: str
    bar_size: str
    use_rth: bool
    format_date: int
    daily: bool
    last: enc.WireBar | None


@dataclass(eq=False)
class ClientSession:
    """One client connection and its subscriptions."""

    writer: asyncio.StreamWriter
    peer: str
    server_version: int = 0
    client_id: int | None = None
    positions_sub: bool = False
    account_updates: str | None = None
    multi_subs: dict[int, str] = field(default_factory=dict)
    summary_subs: dict[int, tuple[str, ...]] = field(default_factory=dict)
    market_data: dict[int, str] = field(default_factory=dict)  # reqId -> symbol (streaming)
    market_data_type: int = 1
    delayed_streams: set[int] = field(default_factory=set)  # reqIds served delayed ticks
    bar_subs: dict[int, BarSubscription] = field(default_factory=dict)
    auto_open_orders: bool = False
    #: position frames waiting to be pushed, newest per (account, conId) (see position_push_delay)
    position_pushes: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    position_timer: asyncio.TimerHandle | None = None
    pacing: PacingWindow = field(default_factory=PacingWindow)
    messages_in: int = 0
    messages_out: int = 0
    closed: bool = False
    max_write_buffer: int = 64 * 1024 * 1024
    _out: bytearray = field(default_factory=bytearray)

    def send(self, fields: Sequence[str]) -> None:
        """Queue a frame, laid out for this session's version; frames queued in one loop iteration
        leave in one write (one syscall)."""
        if self.closed:
            return
        if not self._out:
            asyncio.get_running_loop().call_soon(self.flush)
        self._out += encode_frame(for_session(fields, self.server_version))
        self.messages_out += 1

    def drop_position_pushes(self) -> None:
        self.position_pushes.clear()
        if self.position_timer is not None:
            self.position_timer.cancel()
            self.position_timer = None

    def flush(self) -> None:
        if self._out and not self.closed:
            self.writer.write(bytes(self._out))
            transport = self.writer.transport
            if transport is not None and transport.get_write_buffer_size() > self.max_write_buffer:
                log.warning("sim.client.dropped_slow_reader", client_id=self.client_id, peer=self.peer)
                self._out.clear()
                self.close()
        self._out.clear()

    def close(self) -> None:
        if not self.closed:
            self.flush()
            self.closed = True
            with contextlib.suppress(Exception):
                self.writer.close()


@dataclass(eq=False)
class Outage:
    """A ``connectivity`` fault in progress: what it held back, and how it ends."""

    seconds: float
    restore: int  # 1101 or 1102
    held: list[tuple[ClientSession, int, list[str]]] = field(default_factory=list)
    events: list[m.SimEvent] = field(default_factory=list)
    timer: asyncio.Task[None] | None = None
    restoring: bool = False  # 1101/1102 sent; held requests are being replayed


# --- helpers shared by routing and requests ---------------------------------------------------------


def enc_replace_status(wo: enc.WireOrder, status: str) -> enc.WireOrder:
    return replace(wo, status=status)


def portfolio_fields(item: Any, contract: enc.WireContract, account: str) -> list[str]:
    return enc.update_portfolio(
        contract,
        position=item.position,
        market_price=item.market_price,
        market_value=item.market_value,
        average_cost=item.average_cost,
        unrealized_pnl=item.unrealized_pnl,
        realized_pnl=item.realized_pnl,
        account=account,
    )


def quote_ticks(req_id: int, q: m.Quote, *, full: bool = False) -> list[list[str]]:
    """The tick messages for a quote, in a real gateway's order (price with size, then the size)."""
    out = [
        enc.tick_price(req_id, enc.TICK_BID, q.bid, q.bid_size),
        enc.tick_size(req_id, enc.TICK_BID_SIZE, q.bid_size),
        enc.tick_price(req_id, enc.TICK_ASK, q.ask, q.ask_size),
        enc.tick_size(req_id, enc.TICK_ASK_SIZE, q.ask_size),
        enc.tick_price(req_id, enc.TICK_LAST, q.last, q.last_size),
        enc.tick_size(req_id, enc.TICK_LAST_SIZE, q.last_size),
        enc.tick_size(req_id, enc.TICK_VOLUME, q.volume),
        enc.tick_string(req_id, enc.TICK_LAST_TIMESTAMP, str(int(q.time.timestamp()))),
    ]
    if full:
        out += [
            enc.tick_price(req_id, enc.TICK_HIGH, q.high, 0),
            enc.tick_price(req_id, enc.TICK_LOW, q.low, 0),
            enc.tick_price(req_id, enc.TICK_CLOSE, q.prev_close, 0),
            enc.tick_price(req_id, enc.TICK_OPEN, q.open, 0),
        ]
    return out
