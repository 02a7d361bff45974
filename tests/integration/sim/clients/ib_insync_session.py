"""One session of ``ib_insync`` 0.9.86 against the simulated gateway.

Run with the client's install directory first on ``PYTHONPATH``:

    python ib_insync_session.py HOST PORT CLIENT_ID SYMBOL QUANTITY REPORT.json [MAX_VERSION]

The same steps as ``ibapi_session.py``, through ib_insync's own calls (its connect also asks for
positions, open and completed orders, executions and account values). ib_insync's decoder catches
and logs what it cannot read ("Error handling fields"): every such log is a problem in the report.
It unpacks the tail of a message into a list it never looks at, so fields it leaves unread are found
by the reference check on the frames this report lists. ``MAX_VERSION`` lowers the newest version
the client offers (a client as old as that, or a gateway whose newest is that).
"""

from __future__ import annotations

import math
import sys
import traceback
from pathlib import Path
from typing import Any

from client_checks import plain, ticks_away, watch_decoder_logs, write_report
from ib_insync import IB, ExecutionFilter, Stock


def session(host: str, port: int, client_id: int, symbol: str, quantity: int, max_version: int | None
            ) -> dict[str, Any]:  # fmt: skip
    problems: list[str] = []
    steps: dict[str, bool] = {}
    errors: list[list[Any]] = []
    frames: list[list[str]] = []
    watch_decoder_logs(["ib_insync.Decoder"], problems)
    ib = IB()
    if max_version is not None:
        ib.client.MaxClientVersion = max_version
    decoder = ib.client.decoder
    interpret = decoder.interpret

    def watched(fields: list[str]) -> None:
        frames.append(list(fields))
        interpret(fields)

    decoder.interpret = watched  # type: ignore[method-assign]
    ib.errorEvent += lambda req_id, code, text, contract: errors.append([req_id, code, text])
    report: dict[str, Any] = {"steps": steps, "problems": problems, "frames": frames, "errors": errors}
    try:
        ib.connect(host, port, clientId=client_id, timeout=15)
        report["server_version"] = ib.client.serverVersion()
        steps["handshake"] = ib.isConnected() and bool(ib.managedAccounts())
        run_steps(ib, steps, errors, symbol, quantity, report)
    except Exception:
        problems.append("session script failed: " + traceback.format_exc()[-800:])
    finally:
        ib.sleep(0.3)
        ib.disconnect()
    return report


def wait(ib: IB, condition: Any, timeout: float = 15.0) -> bool:
    waited = 0.0
    while not condition():
        if waited >= timeout:
            return False
        ib.sleep(0.05)
        waited += 0.05
    return True


def run_steps(ib: IB, steps: dict[str, bool], errors: list[list[Any]], symbol: str, quantity: int,
              report: dict[str, Any]) -> None:  # fmt: skip
    contract = Stock(symbol, "SEHK", "HKD")
    details = ib.reqContractDetails(contract)
    steps["contract_details"] = len(details) == 1 and details[0].contract.conId > 0
    report["contract_details"] = plain(details[0]) if details else None
    steps["error_200"] = ib.reqContractDetails(Stock("99999", "SEHK", "HKD")) == [] and any(
        e[1] == 200 for e in errors
    )
    rule = ib.reqMarketRule(int(details[0].marketRuleIds.split(",")[0]))
    steps["market_rule"] = bool(rule)
    increments = [(float(r.lowEdge), float(r.increment)) for r in rule]
    [ticker] = ib.reqTickers(contract)
    steps["snapshot"] = not math.isnan(ticker.bid) and not math.isnan(ticker.ask)

    bracket = ib.bracketOrder("BUY", quantity, ticks_away(ticker.ask, increments, 2),
                              takeProfitPrice=ticks_away(ticker.ask, increments, 10),
                              stopLossPrice=ticks_away(ticker.bid, increments, -20))  # fmt: skip
    contract = details[0].contract
    trades = [ib.placeOrder(contract, o) for o in bracket]
    parent, target, stop = trades
    steps["bracket_parent_filled"] = wait(ib, lambda: parent.orderStatus.status == "Filled")
    steps["bracket_children_working"] = wait(
        ib, lambda: {target.orderStatus.status, stop.orderStatus.status} <= {"PreSubmitted", "Submitted"}
    )
    steps["execution"] = wait(
        ib, lambda: bool(parent.fills) and parent.fills[0].commissionReport.execId != ""
    )
    steps["executions"] = bool(ib.reqExecutions(ExecutionFilter()))
    steps["open_orders"] = len(ib.reqOpenOrders()) >= 2
    steps["positions"] = any(p.contract.symbol == symbol for p in ib.reqPositions())
    steps["account_summary"] = bool(ib.accountSummary())
    bars = ib.reqHistoricalData(contract, "", "1 D", "1 hour", "TRADES", True)
    steps["historical_data"] = bool(bars)
    steps["current_time"] = ib.reqCurrentTime() is not None
    ib.cancelOrder(target.order)
    ib.cancelOrder(stop.order)
    steps["children_cancelled"] = wait(
        ib, lambda: target.orderStatus.status == "Cancelled" and stop.orderStatus.status == "Cancelled"
    )
    steps["completed_orders"] = bool(ib.reqCompletedOrders(False))
    report["trades"] = [
        {"orderId": t.order.orderId, "parentId": t.order.parentId, "type": t.order.orderType,
         "status": t.orderStatus.status} for t in trades
    ]  # fmt: skip


def main(argv: list[str]) -> int:
    host, port, client_id, symbol, quantity, out, *rest = argv
    max_version = int(rest[0]) if rest else None
    report = session(host, int(port), int(client_id), symbol, int(quantity), max_version)
    write_report(Path(out), report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
