"""Helpers for the recording proxy's tests: one scripted ib_async session, and what it received."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ib_async import IB, LimitOrder, Order, Stock
from sim_gateway_helpers import wait_until

from catalyst.market import tick_size
from catalyst.sim.gateway.wire_framing import FrameReader, split_fields

#: an orderRef that looks like a secret: it must reach the gateway and come back, but never the file
SECRET_REF = "token=Zq7Kp2Lm9Xv4Rt8Wn3Yb6Hc1"


def resting_price(bid: float) -> float:
    """Ten ticks below the bid: rests (no fill) and stays well inside HKEX's 24-spread quotation rule."""
    tick = tick_size(Decimal(str(bid)))
    return float(Decimal(str(bid)) - 10 * tick)


#: answers whose values follow the market from moment to moment (tick values), compared by id only
TICK_IDS = frozenset({"1", "2", "45", "46"})


@dataclass
class Received:
    """Every byte the ib_async client received, split into frames (the handshake reply first)."""

    frames: list[list[str]] = field(default_factory=list)
    _reader: FrameReader = field(default_factory=FrameReader)

    def __call__(self, data: bytes) -> None:
        self.frames += [split_fields(p) for p in self._reader.feed(data)]


@dataclass(frozen=True)
class SessionOutcome:
    received: list[list[str]]
    statuses: list[str]
    error_codes: list[int]
    order_ref: str
    limit_price: float


def scripted_session(
    host: str, port: int, client_id: int = 7, *, limit_price: float | None = None
) -> SessionOutcome:
    """Connect, look up a contract, rest a limit order and cancel it, send an unsupported order type.

    The limit is ten ticks below the bid unless ``limit_price`` is given: a second session that must
    send the very same frames as a first (the proxy test) passes the first one's price, since the
    simulator's market moves in real time between the two."""
    ib = IB()
    received = Received()
    ib.client.conn.hasData += received
    codes: list[int] = []
    ib.errorEvent += lambda req_id, code, *rest: codes.append(code)
    ib.connect(host, port, clientId=client_id, timeout=10)
    try:
        contract = Stock("700", "SEHK", "HKD")
        ib.qualifyContracts(contract)
        (ticker,) = ib.reqTickers(contract)
        price = limit_price if limit_price is not None else resting_price(ticker.bid)
        resting = ib.placeOrder(contract, LimitOrder("BUY", 100, price, orderRef=SECRET_REF))
        assert wait_until(ib, lambda: resting.orderStatus.status == "Submitted")
        ib.cancelOrder(resting.order)
        assert wait_until(ib, lambda: resting.orderStatus.status == "Cancelled")
        refused = ib.placeOrder(contract, Order(action="BUY", totalQuantity=100, orderType="MOC"))
        assert wait_until(ib, lambda: refused.orderStatus.status == "Cancelled")
        ib.sleep(0.3)
        statuses = [entry.status for entry in resting.log]
        return SessionOutcome(received.frames, statuses, codes, resting.order.orderRef, price)
    finally:
        ib.disconnect()
