"""One session of IB's official Python client (``ibapi``, any release) against the simulated gateway.

Run with the client's install directory first on ``PYTHONPATH``:

    python ibapi_session.py HOST PORT CLIENT_ID SYMBOL QUANTITY REPORT.json [MAX_VERSION]

It connects (the handshake), asks for contract details (and for an unknown stock: an error), the
market rule and a quote snapshot, places a bracket whose parent fills (an execution and its
commission report), asks for the executions, open and completed orders, positions, account values and
bars, cancels the two children and disconnects. Every frame goes through the client's own decoder,
watched: a field the decoder left unread, a field it missed, an exception or a decoder error log is a
problem in the report. The report also lists every callback and every frame (for the reference check).
``MAX_VERSION`` lowers the newest version the client offers (as a client, or a gateway, that old would).
"""

from __future__ import annotations

import inspect
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from client_checks import Recorder, plain, ticks_away, watch_decoder_logs, write_report
from ibapi import client as ib_client
from ibapi import decoder as ib_decoder
from ibapi.client import EClient
from ibapi.contract import Contract
from ibapi.execution import ExecutionFilter
from ibapi.order import Order
from ibapi.wrapper import EWrapper

#: Callbacks recorded (name -> what the report keeps); any other callback is still decoded.
CALLBACKS = [
    *("nextValidId", "managedAccounts", "error", "contractDetails", "contractDetailsEnd", "marketRule"),
    *("tickPrice", "tickSize", "tickString", "tickGeneric", "tickSnapshotEnd", "tickReqParams"),
    *("marketDataType", "openOrder", "openOrderEnd", "orderStatus", "execDetails", "execDetailsEnd"),
    *("commissionReport", "commissionAndFeesReport", "position", "positionEnd", "accountSummary"),
    *("accountSummaryEnd", "updateAccountValue", "updatePortfolio", "updateAccountTime"),
    *("accountDownloadEnd", "completedOrder", "completedOrdersEnd", "historicalData"),
    *("historicalDataEnd", "currentTime"),
]


class Wrapper(EWrapper):
    def __init__(self, recorder: Recorder) -> None:
        EWrapper.__init__(self)
        self.recorder = recorder


def _recording(name: str) -> Any:
    def callback(self: Wrapper, *args: Any) -> None:
        self.recorder.add(name, [plain(a) for a in args])

    callback.__name__ = name
    return callback


for _name in CALLBACKS:
    setattr(Wrapper, _name, _recording(_name))


class WatchedDecoder(ib_decoder.Decoder):
    """The client's own decoder, with every frame's fields counted as they are read."""

    frames: list[list[str]]
    problems: list[str]

    def interpret(self, fields: Any, *rest: Any) -> Any:  # 9.81: (fields); 10.x: (fields, msgId)
        msg_id = int(rest[0]) if rest else int(fields[0])
        text = [f.decode("utf-8", "backslashreplace") for f in fields]
        if rest:  # 10.x hands the decoder the fields after the message id
            text = [str(msg_id), *text]
        self.frames.append(text)
        info = self.msgId2handleInfo.get(msg_id)
        if info is None:
            self.problems.append(f"message {msg_id}: the client has no handler for it")
            return None
        if info.processMeth is None:
            return self._interpret_plain(fields, rest, msg_id)
        cursor = iter(fields)
        try:
            info.processMeth(self, cursor)
        except Exception as exc:
            self.problems.append(f"message {msg_id}: {type(exc).__name__}: {exc} in {text[:60]}")
            return None
        left = list(cursor)
        if left:
            self.problems.append(
                f"message {msg_id}: {len(left)} field(s) left unread {left[:8]} in {text[:60]}"
            )
        return None

    def _interpret_plain(self, fields: Any, rest: Any, msg_id: int) -> Any:
        try:
            return super().interpret(fields, *rest)
        except Exception as exc:
            self.problems.append(f"message {msg_id}: {type(exc).__name__}: {exc}")
            return None


def stock(symbol: str) -> Contract:
    c = Contract()
    c.symbol, c.secType, c.exchange, c.currency = symbol, "STK", "SEHK", "HKD"
    return c


def order(action: str, quantity: int, order_type: str, **fields: Any) -> Order:
    o = Order()
    o.action, o.totalQuantity, o.orderType, o.tif = action, quantity, order_type, "DAY"
    for name in ("eTradeOnly", "firmQuoteOnly"):  # old releases default these to True; IB refuses them
        if hasattr(o, name):
            setattr(o, name, False)
    for name, value in fields.items():
        setattr(o, name, value)
    return o


def cancel(client: EClient, order_id: int) -> None:
    if len(inspect.signature(client.cancelOrder).parameters) == 1:
        client.cancelOrder(order_id)
        return
    from ibapi.order_cancel import OrderCancel

    client.cancelOrder(order_id, OrderCancel())


def error_codes(rec: Recorder, req_id: int) -> list[int]:
    """Error codes for ``req_id``: 9.81 calls error(reqId, code, text), 10.x error(reqId, time, code, ...)."""
    out = []
    for args in rec.named("error"):
        if args[0] == req_id:
            out.append(int(args[1] if len(args) == 2 or isinstance(args[2], str) else args[2]))
    return out


def session(host: str, port: int, client_id: int, symbol: str, quantity: int) -> dict[str, Any]:
    rec = Recorder()
    problems: list[str] = []
    steps: dict[str, bool] = {}
    watch_decoder_logs(["ibapi.decoder", "ibapi.orderdecoder", "ibapi.utils", "ibapi.client"], problems)
    client = EClient(Wrapper(rec))
    client.connect(host, port, client_id)
    version = client.serverVersion()
    report: dict[str, Any] = {"server_version": version, "steps": steps, "problems": problems}
    if not client.isConnected() or version is None:
        steps["handshake"] = False
        return report
    watched = client.decoder
    watched.__class__ = WatchedDecoder
    watched.frames, watched.problems = [], problems  # type: ignore[attr-defined]
    report["frames"] = watched.frames  # type: ignore[attr-defined]
    thread = threading.Thread(target=client.run, name="ibapi-reader", daemon=True)
    thread.start()
    try:
        run_steps(client, rec, steps, symbol, quantity)
    except Exception:
        problems.append("session script failed: " + traceback.format_exc()[-800:])
    finally:
        time.sleep(0.3)  # the last answers (cancels) are decoded before the socket closes
        client.disconnect()
        thread.join(5)
    report["callbacks"] = rec.calls
    return report


def run_steps(client: EClient, rec: Recorder, steps: dict[str, bool], symbol: str, quantity: int) -> None:
    steps["handshake"] = rec.wait(
        lambda: bool(rec.named("nextValidId")) and bool(rec.named("managedAccounts"))
    )
    next_id = int(rec.named("nextValidId")[-1][0])

    client.reqContractDetails(1, stock(symbol))
    steps["contract_details"] = rec.wait(lambda: [1] in rec.named("contractDetailsEnd"))
    details = rec.named("contractDetails")[0][1]
    client.reqContractDetails(2, stock("99999"))
    steps["error_200"] = rec.wait(lambda: 200 in error_codes(rec, 2))

    rule_id = int(str(details["marketRuleIds"]).split(",")[0])
    client.reqMarketRule(rule_id)
    steps["market_rule"] = rec.wait(lambda: bool(rec.named("marketRule")))
    increments = [(float(i["lowEdge"]), float(i["increment"])) for i in rec.named("marketRule")[0][1]]

    client.reqMktData(3, stock(symbol), "", True, False, [])
    steps["snapshot"] = rec.wait(lambda: [3] in rec.named("tickSnapshotEnd"))
    quote = {int(a[1]): float(a[2]) for a in rec.named("tickPrice") if a[0] == 3}
    bid, ask = quote[1], quote[2]

    parent, stop, target = next_id, next_id + 1, next_id + 2
    legs = [
        (parent, order("BUY", quantity, "LMT", lmtPrice=ticks_away(ask, increments, 2), transmit=False)),
        (stop, order("SELL", quantity, "STP", auxPrice=ticks_away(bid, increments, -20), transmit=False)),
        (target, order("SELL", quantity, "LMT", lmtPrice=ticks_away(ask, increments, 10), transmit=True)),
    ]
    for order_id, leg in legs:
        leg.parentId = 0 if order_id == parent else parent
        leg.orderRef = f"bracket:{order_id - parent}"
        client.placeOrder(order_id, stock(symbol), leg)
    steps["bracket_parent_filled"] = rec.wait(
        lambda: any(a[0] == parent and a[1] == "Filled" for a in rec.named("orderStatus"))
    )
    steps["bracket_children_working"] = rec.wait(
        lambda: (
            {stop, target}
            <= {a[0] for a in rec.named("orderStatus") if a[1] in ("PreSubmitted", "Submitted")}
        )
    )
    steps["execution"] = rec.wait(
        lambda: (
            any(a[0] == -1 for a in rec.named("execDetails"))
            and bool(rec.named("commissionReport") or rec.named("commissionAndFeesReport"))
        )
    )

    client.reqExecutions(4, ExecutionFilter())
    steps["executions"] = rec.wait(lambda: [4] in rec.named("execDetailsEnd"))
    client.reqOpenOrders()
    steps["open_orders"] = rec.wait(lambda: bool(rec.named("openOrderEnd")))
    client.reqPositions()
    steps["positions"] = rec.wait(lambda: bool(rec.named("positionEnd")))
    client.reqAccountSummary(5, "All", "NetLiquidation,TotalCashValue,BuyingPower")
    steps["account_summary"] = rec.wait(lambda: [5] in rec.named("accountSummaryEnd"))
    client.reqAccountUpdates(True, "")
    steps["account_updates"] = rec.wait(lambda: bool(rec.named("accountDownloadEnd")))
    client.reqHistoricalData(6, stock(symbol), "", "1 D", "1 hour", "TRADES", 1, 1, False, [])
    steps["historical_data"] = rec.wait(lambda: any(a[0] == 6 for a in rec.named("historicalDataEnd")))
    client.reqCurrentTime()
    steps["current_time"] = rec.wait(lambda: bool(rec.named("currentTime")))

    cancel(client, stop)
    cancel(client, target)
    steps["children_cancelled"] = rec.wait(
        lambda: {stop, target} <= {a[0] for a in rec.named("orderStatus") if a[1] == "Cancelled"}
    )
    client.reqCompletedOrders(False)
    steps["completed_orders"] = rec.wait(lambda: bool(rec.named("completedOrdersEnd")))


def main(argv: list[str]) -> int:
    host, port, client_id, symbol, quantity, out, *rest = argv
    if rest:
        ib_client.MAX_CLIENT_VER = int(rest[0])  # the handshake offers v100..MAX_VERSION
    report = session(host, int(port), int(client_id), symbol, int(quantity))
    write_report(Path(out), report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
