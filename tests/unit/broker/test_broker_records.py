"""How broker reports become ledger rows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from catalyst.broker.order_recorder import LedgerRecorder
from catalyst.broker.report_log import (
    BrokerReports,
    ReportedCommission,
    ReportedError,
    ReportedExecution,
    ReportedStatus,
)
from catalyst.ledger import Ledger

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def recorder(tmp_path: Path) -> tuple[LedgerRecorder, Ledger]:
    ledger = Ledger(tmp_path / "l.duckdb")
    rec = LedgerRecorder(ledger, run_id="r", account="DU1", client_id=7)
    rec.track_order(
        {
            "order_ref": "i:TP",
            "intent_id": "i",
            "role": "take_profit",
            "account": "DU1",
            "symbol": "700",
            "side": "SELL",
            "order_type": "LMT",
            "quantity": 100,
            "limit_price": Decimal("440"),
            "tif": "GTC",
            "client_id": 7,
            "order_id": 12,
            "status": "sent",
            "placed_at": T0,
        }
    )
    return rec, ledger


def status(s: str, filled: int = 0) -> ReportedStatus:
    return ReportedStatus(T0, 12, 7, 555, 11, s, Decimal(filled), Decimal(100 - filled), None, None, "")


def test_an_order_error_then_a_cancel_is_recorded_as_a_rejection_with_its_code(tmp_path: Path) -> None:
    rec, ledger = recorder(tmp_path)
    rec.on_report(ReportedError(T0, 12, 201, "Order rejected - reason: parent not found"))
    rec.on_report(status("Cancelled"))
    asyncio.run(rec.flush())
    row = ledger.query("SELECT status, error_code, error_message FROM orders").iloc[0]
    assert (row.status, int(row.error_code)) == ("rejected", 201)


def test_an_inactive_status_is_a_rejection(tmp_path: Path) -> None:
    rec, ledger = recorder(tmp_path)
    rec.on_report(status("Inactive"))
    asyncio.run(rec.flush())
    assert list(ledger.query("SELECT status FROM orders").status) == ["rejected"]


def test_repeated_identical_status_echoes_are_stored_once(tmp_path: Path) -> None:
    rec, ledger = recorder(tmp_path)
    for _ in range(3):
        rec.on_report(status("PreSubmitted"))
    rec.on_report(status("Submitted"))
    asyncio.run(rec.flush())
    events = ledger.query("SELECT status FROM order_events WHERE source = 'orderStatus' ORDER BY ts")
    assert list(events.status) == ["PreSubmitted", "Submitted"]
    row = ledger.query("SELECT perm_id, acknowledged_at FROM orders").iloc[0]
    assert int(row.perm_id) == 555 and row.acknowledged_at is not None


def test_a_fill_is_written_with_its_commission_once(tmp_path: Path) -> None:
    rec, ledger = recorder(tmp_path)
    execution = ReportedExecution(
        T0,
        -1,
        "e1",
        T0,
        "DU1",
        700,
        "700",
        "SLD",
        Decimal(100),
        Decimal("440"),
        555,
        7,
        12,
        Decimal(100),
        Decimal("440"),
        "i:TP",
    )
    rec.on_report(execution)
    rec.on_report(ReportedCommission(T0, "e1", Decimal("80.50"), "HKD", None))
    rec.on_report(execution)
    asyncio.run(rec.flush())
    fills = ledger.query("SELECT exec_id, side, quantity, commission, fees FROM fills")
    assert list(fills.exec_id) == ["e1"] and list(fills.side) == ["SELL"]
    assert fills.commission.iloc[0] == Decimal("80.50") == fills.fees.iloc[0]


def test_waiting_on_reports_wakes_on_the_next_message() -> None:
    reports = BrokerReports()

    async def main() -> str | None:
        async def later() -> None:
            await asyncio.sleep(0)
            reports.notify()
            reports.add(ReportedError(T0, 5, 201, "x"))

        task = asyncio.ensure_future(later())
        out = await reports.wait_for(lambda: "seen" if reports.errors_for_order(5) else None, 2)
        await task
        return out

    assert asyncio.run(main()) == "seen"
