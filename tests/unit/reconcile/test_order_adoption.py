"""Reconciliation adopts every broker order with a Catalyst orderRef the ledger lacks, linked to its
intent, and closes out what a dead process left (real DuckDB ledger, real processes for liveness)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from catalyst.domain import BracketIntent, Side
from catalyst.ledger import Ledger
from catalyst.ledger.lease import Lease, account_lease_name
from catalyst.ledger.run_process import this_process
from catalyst.reconcile.engine import BrokerView, reconcile_view

ACC = "DU111"
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
NO_POSITIONS = pd.DataFrame(columns=["account", "symbol", "quantity", "avg_cost"])
NO_EXECS = pd.DataFrame(
    columns=["exec_id", "ts", "account", "symbol", "side", "quantity", "price", "commission"]
)
INTENT = "abcdef0123-261124-700-B-0"


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.duckdb")


def leg(
    code: str, *, status: str = "Submitted", open_: bool = True, client_id: int = 7, perm: int = 0
) -> dict[str, Any]:
    side, otype, lmt, stp = {
        "P": ("BUY", "LMT", Decimal("600"), None),
        "TP": ("SELL", "LMT", Decimal("620"), None),
        "SL": ("SELL", "STP LMT", Decimal("589"), Decimal("590")),
    }[code]
    return {
        "order_ref": f"{INTENT}:{code}",
        "perm_id": perm or {"P": 101, "TP": 102, "SL": 103}[code],
        "order_id": {"P": 11, "TP": 12, "SL": 13}[code],
        "client_id": client_id,
        "account": ACC,
        "symbol": "700",
        "side": side,
        "order_type": otype,
        "quantity": 100,
        "limit_price": lmt,
        "stop_price": stp,
        "tif": "DAY" if code == "P" else "GTC",
        "oca_group": "" if code == "P" else f"{INTENT}:OCA",
        "status": status,
        "filled": 0,
        "open": open_,
    }


def view(orders: list[dict[str, Any]]) -> BrokerView:
    return BrokerView(positions=NO_POSITIONS, executions=NO_EXECS, orders=pd.DataFrame(orders))


def record_intent(ledger: Ledger, status: str, run_id: str) -> None:
    intent = BracketIntent(
        INTENT, "700", Side.BUY, 100, Decimal("600"), Decimal("590"), Decimal("620"),
        run_id=run_id, account=ACC, created_at=T0,
    )  # fmt: skip
    ledger.upsert("intents", intent.ledger_row(status))


def record_run(ledger: Ledger, run_id: str, process: dict[str, Any]) -> None:
    ledger.upsert(
        "runs",
        {"run_id": run_id, "kind": "cycle", "mode": "sim", "account": None, "started_at": T0,
         "status": "running", **process},
    )  # fmt: skip


def dead_process() -> dict[str, Any]:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return {"pid": proc.pid, "host": this_process().host, "pid_started": None}


def test_broker_orders_of_any_client_the_ledger_lacks_are_adopted_with_a_rebuilt_intent(
    ledger: Ledger,
) -> None:
    report = reconcile_view(
        ledger,
        view([leg("P", status="Filled", open_=False, client_id=0), leg("TP", client_id=3),
              leg("SL", client_id=3), {**leg("P"), "order_ref": "manual-order-1", "perm_id": 999}]),
        account=ACC,
        now=T0,
    )  # fmt: skip
    rows = ledger.query(
        "SELECT order_ref, intent_id, role, status, perm_id, client_id FROM orders ORDER BY order_ref"
    )
    assert rows["order_ref"].tolist() == [f"{INTENT}:P", f"{INTENT}:SL", f"{INTENT}:TP"]  # not the manual one
    assert set(rows["intent_id"]) == {INTENT}
    assert rows.set_index("order_ref").loc[f"{INTENT}:P", "status"] == "Filled"
    intent = ledger.query("SELECT * FROM intents").iloc[0]
    assert (intent["status"], intent["side"], int(intent["quantity"])) == ("adopted", "BUY", 100)
    assert (intent["entry_price"], intent["stop_price"], intent["target_price"]) == (
        Decimal("600"), Decimal("590"), Decimal("620"),
    )  # fmt: skip
    assert json.loads(intent["detail"])["adopted"] is True
    found = ledger.query("SELECT kind, correction FROM discrepancies ORDER BY correction")
    assert found["kind"].tolist() == ["unknown_order"] * 3 and INTENT in found["correction"].iloc[0]
    assert ledger.scalar("SELECT count(*) FROM risk_events WHERE kind = 'orders_adopted'") == 1
    assert report.status == "corrected" and len(report.adoption.adopted) == 3


def test_a_second_reconciliation_adopts_nothing_again(ledger: Ledger) -> None:
    orders = [leg("P"), leg("TP"), leg("SL")]
    reconcile_view(ledger, view(orders), account=ACC, now=T0)
    again = reconcile_view(ledger, view(orders), account=ACC, now=T0)
    assert again.adoption.adopted == () and again.status == "clean"
    assert ledger.scalar("SELECT count(*) FROM orders") == 3


def test_rows_a_dead_process_left_pending_take_the_brokers_status_and_its_intent_is_interrupted(
    ledger: Ledger, tmp_path: Path
) -> None:
    record_run(ledger, "run-dead", dead_process())
    record_intent(ledger, "submitted", "run-dead")
    for code in ("P", "TP", "SL"):
        row = {k: v for k, v in leg(code).items() if k != "open"}
        ledger.upsert("orders", {**row, "intent_id": INTENT, "run_id": "run-dead", "perm_id": None,
                                 "role": code, "status": "pending_submit"})  # fmt: skip
    report = reconcile_view(
        ledger, view([leg("P"), leg("TP"), leg("SL")]), account=ACC, now=T0, state_dir=tmp_path
    )
    statuses = ledger.query("SELECT status, perm_id FROM orders ORDER BY order_ref")
    assert statuses["status"].tolist() == ["Submitted"] * 3
    assert sorted(statuses["perm_id"].astype(int)) == [101, 102, 103]
    assert ledger.scalar("SELECT status FROM intents") == "interrupted"
    assert ledger.scalar("SELECT status FROM runs WHERE run_id = 'run-dead'") == "crashed"
    kinds = ledger.query("SELECT kind, severity FROM risk_events ORDER BY kind")
    assert kinds.to_dict("records") == [
        {"kind": "intent_interrupted", "severity": "critical"},
        {"kind": "run_crashed", "severity": "warning"},
    ]
    assert report.closeout.interrupted == (INTENT,) and report.closeout.crashed_runs == ("run-dead",)


def test_an_intent_whose_orders_never_reached_the_broker_is_abandoned(ledger: Ledger, tmp_path: Path) -> None:
    record_run(ledger, "run-dead", dead_process())
    record_intent(ledger, "submitted", "run-dead")
    row = {k: v for k, v in leg("P").items() if k != "open"}
    ledger.upsert("orders", {**row, "intent_id": INTENT, "role": "entry", "status": "pending_submit"})
    reconcile_view(ledger, view([]), account=ACC, now=T0, state_dir=tmp_path)
    assert ledger.scalar("SELECT status FROM intents") == "abandoned"
    assert ledger.scalar("SELECT status FROM orders") == "not_sent"


def test_an_interrupted_intent_whose_legs_all_finished_is_completed(ledger: Ledger, tmp_path: Path) -> None:
    record_intent(ledger, "interrupted", "run-gone")  # its run row is long gone: nobody holds the lease
    done = [leg("P", status="Filled", open_=False), leg("TP", status="Filled", open_=False),
            leg("SL", status="Cancelled", open_=False)]  # fmt: skip
    reconcile_view(ledger, view(done), account=ACC, now=T0, state_dir=tmp_path)
    assert ledger.scalar("SELECT status FROM intents") == "completed"


def test_a_live_submission_is_never_closed_out(ledger: Ledger, tmp_path: Path) -> None:
    # the run's process is alive (this one) and another process holds the account's lease
    record_run(ledger, "run-live", this_process().as_row())
    record_intent(ledger, "submitted", "run-live")
    orders = [leg("P"), leg("TP"), leg("SL")]
    reconcile_view(ledger, view(orders), account=ACC, now=T0, state_dir=tmp_path)
    assert ledger.scalar("SELECT status FROM intents") == "submitted"
    assert ledger.scalar("SELECT status FROM runs") == "running"

    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from catalyst.ledger.lease import acquire_lease\n"
         f"l = acquire_lease({str(tmp_path)!r}, {account_lease_name(ACC)!r}, purpose='cycle', "
         "run_id='other')\n"
         "print('held', flush=True)\nsys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        record_intent(ledger, "submitted", "run-not-recorded")  # no run row: only the lease can tell
        reconcile_view(ledger, view(orders), account=ACC, now=T0, state_dir=tmp_path)
        assert ledger.scalar("SELECT status FROM intents") == "submitted"
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    reconcile_view(ledger, view(orders), account=ACC, now=T0, state_dir=tmp_path)  # the holder is gone
    assert ledger.scalar("SELECT status FROM intents") == "interrupted"


def test_the_reconciling_cycle_holding_the_lease_itself_closes_out_a_dead_runs_intents(
    ledger: Ledger, tmp_path: Path
) -> None:
    record_intent(ledger, "submitted", "run-crashed")
    lease = Lease(tmp_path, account_lease_name(ACC), purpose="cycle", run_id="run-rerun")
    assert lease.try_acquire()
    try:
        reconcile_view(ledger, view([leg("P"), leg("TP"), leg("SL")]), account=ACC, now=T0,
                       run_id="run-rerun", state_dir=tmp_path)  # fmt: skip
    finally:
        lease.release()
    assert ledger.scalar("SELECT status FROM intents") == "interrupted"


def test_flatten_and_protection_orders_are_adopted_too(ledger: Ledger) -> None:
    flatten = {**leg("P"), "order_ref": f"{INTENT}:FLAT", "side": "SELL", "perm_id": 201}
    protect = {**leg("SL"), "order_ref": "run-m:700:PROT1:SL", "perm_id": 202}
    manual = {**leg("TP"), "order_ref": "my own order", "perm_id": 203}
    reconcile_view(ledger, view([flatten, protect, manual]), account=ACC, now=T0)
    rows = ledger.query(
        "SELECT order_ref, coalesce(intent_id, '-') AS intent, role FROM orders ORDER BY order_ref"
    )
    assert rows.to_dict("records") == [
        {"order_ref": f"{INTENT}:FLAT", "intent": INTENT, "role": "flatten"},
        {"order_ref": "run-m:700:PROT1:SL", "intent": "-", "role": "protect"},
    ]
    assert ledger.scalar("SELECT count(*) FROM intents") == 0  # a flatten alone rebuilds no bracket
