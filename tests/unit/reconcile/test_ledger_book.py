"""The ledger's view of the book: position rows rolled forward by later fills, levels from intents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from catalyst.ledger import Ledger
from catalyst.reconcile.ledger_book import ledger_positions

ACC = "DU1"
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def fill(ledger: Ledger, exec_id: str, symbol: str, side: str, qty: int, ts: datetime, ref: str = "") -> None:
    ledger.append(
        "fills",
        {
            "exec_id": exec_id,
            "ts": ts,
            "account": ACC,
            "symbol": symbol,
            "side": side,
            "quantity": qty,
            "price": Decimal("600"),
            "order_ref": ref or None,
        },
    )


def test_a_position_is_built_from_fills_with_levels_from_its_intent(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.upsert(
        "intents",
        {
            "intent_id": "abc-700-B-0",
            "created_at": T0,
            "symbol": "700",
            "side": "BUY",
            "quantity": 100,
            "entry_price": Decimal("600"),
            "stop_price": Decimal("590"),
            "target_price": Decimal("620"),
            "status": "proven",
        },
    )
    fill(ledger, "e1", "700", "BUY", 100, T0, "abc-700-B-0:P")
    book = ledger_positions(ledger, ACC)
    row = book.iloc[0]
    assert (row["symbol"], int(row["quantity"]), row["stop_price"], row["target_price"]) == (
        "700",
        100,
        Decimal("590"),
        Decimal("620"),
    )


def test_fills_after_a_checkpoint_move_it_on_and_earlier_ones_do_not(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    fill(ledger, "e0", "700", "BUY", 100, T0 - timedelta(minutes=1))
    ledger.upsert("positions", {"account": ACC, "symbol": "700", "quantity": 100, "updated_at": T0})
    fill(ledger, "e1", "700", "SELL", 100, T0 + timedelta(minutes=1))
    assert ledger_positions(ledger, ACC).empty


def test_flat_and_other_account_positions_are_left_out(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.upsert("positions", {"account": ACC, "symbol": "5", "quantity": 0, "updated_at": T0})
    ledger.upsert("positions", {"account": "DU2", "symbol": "700", "quantity": 100, "updated_at": T0})
    assert ledger_positions(ledger, ACC).empty
