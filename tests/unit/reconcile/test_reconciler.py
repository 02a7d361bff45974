"""Reconciliation against a real DuckDB ledger: corrections to the broker, records, locks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from catalyst.ledger import Ledger
from catalyst.reconcile.engine import BrokerView, reconcile_view

ACC = "DU111"
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
NO_EXECS = pd.DataFrame(
    columns=["exec_id", "ts", "account", "symbol", "side", "quantity", "price", "commission"]
)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.duckdb")


def hold(ledger: Ledger, symbol: str, qty: int, stop: str = "590", target: str = "620") -> None:
    ledger.upsert(
        "positions",
        {
            "account": ACC,
            "symbol": symbol,
            "quantity": qty,
            "avg_cost": Decimal("600"),
            "stop_price": Decimal(stop),
            "target_price": Decimal(target),
            "source": "fill",
            "updated_at": T0,
        },
    )


def view(positions: list[tuple[str, int]], execs: pd.DataFrame = NO_EXECS) -> BrokerView:
    frame = pd.DataFrame(
        [(ACC, s, q, 600.0) for s, q in positions], columns=["account", "symbol", "quantity", "avg_cost"]
    )
    return BrokerView(positions=frame, executions=execs)


def ledger_qty(ledger: Ledger, symbol: str) -> int:
    return int(
        ledger.scalar("SELECT quantity FROM positions WHERE account = ? AND symbol = ?", [ACC, symbol])
    )


def locks(ledger: Ledger) -> list[tuple[str, str]]:
    ev = ledger.query("SELECT symbol, kind FROM risk_events WHERE kind LIKE 'symbol_%' ORDER BY ts, kind")
    return list(zip(ev["symbol"], ev["kind"], strict=True))


def test_agreeing_books_give_a_clean_record(ledger: Ledger) -> None:
    hold(ledger, "700", 100)
    report = reconcile_view(ledger, view([("700", 100)]), account=ACC, now=T0)
    assert report.clean
    rec = ledger.query("SELECT status, discrepancies, broker_positions FROM reconciliations")
    assert rec.to_dict("records") == [{"status": "clean", "discrepancies": 0, "broker_positions": 1}]


def test_a_phantom_is_closed_out_in_the_ledger_keeping_its_levels(ledger: Ledger) -> None:
    hold(ledger, "700", 100)
    report = reconcile_view(ledger, view([]), account=ACC, now=T0)
    row = ledger.query("SELECT quantity, source, stop_price FROM positions WHERE symbol = '700'").iloc[0]
    assert (int(row["quantity"]), row["source"], row["stop_price"]) == (0, "reconcile-close", Decimal("590"))
    assert report.status == "corrected"
    d = ledger.query(
        "SELECT kind, ledger_quantity, broker_quantity, correction, explained FROM discrepancies"
    )
    assert d.iloc[0]["kind"] == "phantom" and "closed out" in d.iloc[0]["correction"]
    assert not bool(d.iloc[0]["explained"])


def test_an_orphan_is_adopted_with_a_risk_event_an_alert_and_a_lock(ledger: Ledger) -> None:
    alerts: list[tuple[str, str, str, str]] = []
    reconcile_view(ledger, view([("5", 400)]), account=ACC, now=T0, alert=lambda *a: alerts.append(a))
    assert ledger_qty(ledger, "5") == 400
    kinds = set(ledger.query("SELECT kind FROM risk_events")["kind"])
    assert {"orphan_adopted", "symbol_locked"} <= kinds
    assert alerts and alerts[0][0] == "critical" and "orphan in 5" in alerts[0][1]


def test_a_quantity_mismatch_is_corrected_to_the_broker_and_locked(ledger: Ledger) -> None:
    hold(ledger, "700", 100)
    report = reconcile_view(ledger, view([("700", 300)]), account=ACC, now=T0)
    assert ledger_qty(ledger, "700") == 300 and report.locked == ("700",)
    assert locks(ledger) == [("700", "symbol_locked")]


def test_a_clean_reconciliation_releases_the_locks(ledger: Ledger) -> None:
    hold(ledger, "700", 100)
    reconcile_view(ledger, view([("700", 300)]), account=ACC, now=T0)
    report = reconcile_view(ledger, view([("700", 300)]), account=ACC, now=T0 + timedelta(hours=1))
    assert report.clean and report.unlocked == ("700",)
    assert locks(ledger) == [("700", "symbol_locked"), ("700", "symbol_unlocked")]


def test_missing_fills_are_backfilled_and_explain_the_difference(ledger: Ledger) -> None:
    hold(ledger, "700", 100)
    execs = pd.DataFrame(
        [
            {
                "exec_id": "0001.01",
                "ts": T0,
                "account": ACC,
                "symbol": "700",
                "side": "BOT",
                "quantity": 200,
                "price": 601.0,
                "commission": 97.5,
                "order_ref": "x:P",
            }
        ]
    )
    report = reconcile_view(ledger, view([("700", 300)], execs), account=ACC, now=T0)
    fill = ledger.query("SELECT side, quantity, price, source FROM fills").iloc[0]
    assert (fill["side"], int(fill["quantity"]), fill["price"], fill["source"]) == (
        "BUY",
        200,
        Decimal("601"),
        "backfill",
    )
    assert report.backfilled == 1 and report.locked == ()
    assert ledger_qty(ledger, "700") == 300


def test_a_second_run_does_not_backfill_the_same_execution_again(ledger: Ledger) -> None:
    execs = pd.DataFrame(
        [
            {
                "exec_id": "e1",
                "ts": T0,
                "account": ACC,
                "symbol": "700",
                "side": "BOT",
                "quantity": 100,
                "price": 600.0,
                "commission": 50.0,
            }
        ]
    )
    reconcile_view(ledger, view([("700", 100)], execs), account=ACC, now=T0)
    second = reconcile_view(ledger, view([("700", 100)], execs), account=ACC, now=T0 + timedelta(hours=1))
    assert second.backfilled == 0 and second.clean
    assert int(ledger.scalar("SELECT count(*) FROM fills")) == 1


def test_other_accounts_are_left_alone(ledger: Ledger) -> None:
    frame = pd.DataFrame(
        [("DU999", "700", 100, 600.0)], columns=["account", "symbol", "quantity", "avg_cost"]
    )
    report = reconcile_view(ledger, BrokerView(frame, NO_EXECS), account=ACC, now=T0)
    assert report.clean and report.broker_positions == 0


def test_every_run_snapshots_both_books(ledger: Ledger) -> None:
    hold(ledger, "700", 100)
    reconcile_view(ledger, view([("700", 100)]), account=ACC, now=T0)
    snaps = ledger.query("SELECT source, symbol, quantity FROM position_snapshots ORDER BY source")
    assert snaps.to_dict("records") == [
        {"source": "broker", "symbol": "700", "quantity": 100},
        {"source": "ledger", "symbol": "700", "quantity": 100},
    ]


def test_a_clean_reconciliation_leaves_locks_it_did_not_make(ledger: Ledger) -> None:
    ledger.append(
        "risk_events",
        {
            "event_id": "broker-lock-1",
            "ts": T0,
            "account": ACC,
            "kind": "symbol_locked",
            "severity": "critical",
            "symbol": "1211",
            "message": "board lot 500 vs 100",
            "detail": "{}",
        },
    )
    report = reconcile_view(ledger, view([]), account=ACC, now=T0 + timedelta(minutes=1))
    assert report.clean and report.unlocked == ()
    assert locks(ledger) == [("1211", "symbol_locked")]
