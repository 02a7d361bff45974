"""Latencies come from the ledger's timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from catalyst.broker.order_latency import latency_report
from catalyst.ledger import Ledger

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def test_p50_and_p95_of_ack_and_fill_latency(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    for i in range(1, 21):
        ledger.upsert(
            "orders",
            {
                "order_ref": f"r{i}",
                "role": "entry",
                "symbol": "700",
                "side": "BUY",
                "order_type": "LMT",
                "quantity": 100,
                "status": "Filled",
                "run_id": "x",
                "placed_at": T0,
                "acknowledged_at": T0 + timedelta(milliseconds=10 * i),
                "first_fill_at": T0 + timedelta(milliseconds=100 * i) if i <= 10 else None,
            },
        )
    report = latency_report(ledger, run_id="x")
    assert (report.orders, report.acknowledged, report.filled) == (20, 20, 10)
    assert report.ack_p50_ms == 105.0 and report.ack_p95_ms == 190.5
    assert report.fill_p50_ms == 550.0


def test_an_empty_ledger_reports_nothing(tmp_path: Path) -> None:
    report = latency_report(Ledger(tmp_path / "l.duckdb"))
    assert report.orders == 0 and report.ack_p50_ms is None
