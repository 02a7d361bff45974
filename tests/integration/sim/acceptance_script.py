"""Acceptance script for the simulated gateway: uses ONLY ib_async (nothing from catalyst).

Connects to a running ``catalyst gateway start``, qualifies ``Stock("700", "SEHK", "HKD")``,
places ``ib.bracketOrder(...)`` for one board lot with the entry resting one tick under the bid,
reads the bracket back from the broker (three open orders, children's parentId = the entry's
orderId, the right prices), then waits while the clock runs (the caller may speed it up) for the
entry to fill, for the stop or the target to fill with its sibling cancelled, and for the
position to return to flat with fees charged.

Run it by hand:  python tests/integration/sim/acceptance_script.py --port 4002
It prints a JSON report and exits 0 when the whole round trip was seen, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from ib_async import IB, Stock, Trade

BOARD_LOT_700 = 100  # Tencent's board lot on SEHK
#: Farm-status notices every gateway sends at connect: information, not errors.
INFO_CODES = {2104, 2106, 2158, 2107, 2108, 2119}


@dataclass
class LegSeen:
    order_id: int
    parent_id: int
    order_type: str
    action: str
    quantity: float
    lmt_price: float | None
    aux_price: float | None
    status: str


@dataclass
class Report:
    entry: float = 0.0
    target: float = 0.0
    stop: float = 0.0
    broker_open_orders: list[LegSeen] = field(default_factory=list)
    bracket_ok: bool = False
    entry_filled: bool = False
    exit_leg: str = ""  # "target" or "stop"
    sibling_cancelled: bool = False
    final_position: float | None = None
    fees: float = 0.0
    errors: list[tuple[int, int, str]] = field(default_factory=list)
    complete: bool = False


def _tick_at(increments: list[tuple[float, float]], price: float) -> float:
    tick = increments[0][1]
    for low, inc in increments:
        if price >= low:
            tick = inc
    return tick


def _snap(price: float, tick: float) -> float:
    return round(round(price / tick) * tick, 6)


def _wait(ib: IB, done: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        ib.sleep(0.05)
    return True


def _leg(t: Trade) -> LegSeen:
    unset = 1.7976931348623157e308

    def price(x: float) -> float | None:
        return None if x is None or x >= unset else x

    return LegSeen(
        order_id=t.order.orderId,
        parent_id=t.order.parentId,
        order_type=t.order.orderType,
        action=t.order.action,
        quantity=float(t.order.totalQuantity),
        lmt_price=price(t.order.lmtPrice),
        aux_price=price(t.order.auxPrice),
        status=t.orderStatus.status,
    )


def run(
    host: str,
    port: int,
    *,
    client_id: int = 21,
    target_ticks: int = 6,
    stop_ticks: int = 6,
    timeout: float = 90.0,
    ack_timeout: float = 5.0,
    on_bracket_verified: Callable[[], None] | None = None,
) -> Report:
    report = Report()
    ib = IB()
    ib.errorEvent += lambda req_id, code, msg, contract: (
        None if code in INFO_CODES else report.errors.append((req_id, code, msg))
    )
    ib.connect(host, port, clientId=client_id, timeout=10)
    try:
        [contract] = ib.qualifyContracts(Stock("700", "SEHK", "HKD"))
        details = ib.reqContractDetails(contract)[0]
        rule = ib.reqMarketRule(int(details.marketRuleIds.split(",")[0]))
        increments = [(r.lowEdge, r.increment) for r in rule]
        [ticker] = ib.reqTickers(contract)
        tick = _tick_at(increments, ticker.bid)
        report.entry = _snap(ticker.bid - tick, tick)
        report.target = _snap(report.entry + target_ticks * tick, tick)
        report.stop = _snap(report.entry - stop_ticks * tick, tick)

        bracket = ib.bracketOrder("BUY", BOARD_LOT_700, report.entry, report.target, report.stop)
        parent, take_profit, stop_loss = (ib.placeOrder(contract, o) for o in bracket)
        _wait(ib, lambda: all(t.order.permId for t in (parent, take_profit, stop_loss)), ack_timeout)

        # read the bracket back from the broker, not from the local cache
        broker = [_leg(t) for t in ib.reqOpenOrders()]
        report.broker_open_orders = broker
        by_id = {leg.order_id: leg for leg in broker}
        p_id = parent.order.orderId
        tp = by_id.get(take_profit.order.orderId)
        sl = by_id.get(stop_loss.order.orderId)
        parent_ok = by_id.get(p_id) is not None and by_id[p_id].lmt_price == report.entry
        target_ok = (
            tp is not None and tp.parent_id == p_id and tp.lmt_price == report.target and tp.action == "SELL"
        )
        stop_ok = (
            sl is not None and sl.parent_id == p_id and sl.aux_price == report.stop and sl.order_type == "STP"
        )
        linked = take_profit.orderStatus.parentId == p_id and stop_loss.orderStatus.parentId == p_id
        report.bracket_ok = len(broker) == 3 and parent_ok and target_ok and stop_ok and linked
        if not report.bracket_ok:
            return report
        if on_bracket_verified is not None:
            on_bracket_verified()

        report.entry_filled = _wait(ib, lambda: parent.orderStatus.status == "Filled", timeout)
        if not report.entry_filled:
            return report
        _wait(ib, lambda: take_profit.isDone() and stop_loss.isDone(), timeout)
        if take_profit.orderStatus.status == "Filled":
            report.exit_leg, sibling = "target", stop_loss
        elif stop_loss.orderStatus.status == "Filled":
            report.exit_leg, sibling = "stop", take_profit
        else:
            return report
        report.sibling_cancelled = sibling.orderStatus.status == "Cancelled"

        def flat() -> bool:
            return not any(p.contract.conId == contract.conId and p.position != 0 for p in ib.positions())

        _wait(ib, flat, 10.0)
        ib.reqPositions()
        report.final_position = sum(p.position for p in ib.positions() if p.contract.conId == contract.conId)
        _wait(ib, lambda: len([f for f in ib.fills() if f.commissionReport.execId]) >= 2, 5.0)
        report.fees = sum(
            f.commissionReport.commission for f in ib.fills() if f.contract.conId == contract.conId
        )
        report.complete = (
            report.entry_filled
            and report.sibling_cancelled
            and report.final_position == 0
            and report.fees > 0
        )
        return report
    finally:
        ib.disconnect()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4002)
    parser.add_argument("--client-id", type=int, default=21)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    report = run(args.host, args.port, client_id=args.client_id, timeout=args.timeout)
    print(json.dumps(asdict(report), indent=2))
    return 0 if report.complete else 1


if __name__ == "__main__":
    sys.exit(main())
