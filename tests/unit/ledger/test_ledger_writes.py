"""Appends, upserts and queries: exact values, idempotent retries, names checked against the schema."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from catalyst.ledger import Ledger, LedgerError, new_id

NOW = dt.datetime(2026, 3, 2, 2, 30, tzinfo=dt.UTC)


def fill(exec_id: str | None = "x1", **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "exec_id": exec_id,
        "ts": NOW,
        "run_id": "r1",
        "order_ref": "i1:P",
        "symbol": "700",
        "side": "BUY",
        "quantity": 100,
        "price": Decimal("388.20"),
        "fees": Decimal("62.35"),
    }
    row.update(over)
    return row


def intent(**over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "intent_id": "i1",
        "run_id": "r1",
        "created_at": NOW,
        "symbol": "700",
        "side": "BUY",
        "quantity": 100,
        "entry_price": Decimal("9.05"),
        "stop_price": Decimal("8.90"),
        "target_price": Decimal("9.40"),
        "status": "approved",
    }
    row.update(over)
    return row


def test_append_returns_the_number_of_new_rows(ledger: Ledger) -> None:
    assert ledger.append("fills", [fill("a"), fill("b")]) == 2


def test_a_retried_append_never_duplicates_the_event(ledger: Ledger) -> None:
    ledger.append("fills", fill("a"))
    # journaled: the call records both rows without asking the file; "a" is dropped at ingest
    assert ledger.append("fills", [fill("a"), fill("b")]) == 2
    ledger.append("fills", fill("a"))
    assert sorted(ledger.query("SELECT exec_id FROM fills")["exec_id"]) == ["a", "b"]


def test_inside_a_transaction_append_counts_only_the_rows_that_were_new(ledger: Ledger) -> None:
    ledger.append("fills", fill("a"))
    with ledger.transaction():
        assert ledger.append("fills", [fill("a"), fill("b")]) == 1
        assert ledger.append("fills", fill("a")) == 0
    assert sorted(ledger.query("SELECT exec_id FROM fills")["exec_id"]) == ["a", "b"]


def test_duplicate_ids_inside_one_batch_are_stored_once(ledger: Ledger) -> None:
    assert ledger.append("fills", [fill("a"), fill("a")]) == 1


def test_decimal_prices_come_back_as_the_same_decimals(ledger: Ledger) -> None:
    ledger.append("fills", fill(price=Decimal("9.05")))
    price = ledger.query("SELECT price FROM fills")["price"][0]
    assert isinstance(price, Decimal)
    assert price == Decimal("9.05")


def test_a_float_price_is_stored_by_its_shortest_repr_not_its_binary_value(ledger: Ledger) -> None:
    ledger.append("fills", fill(price=9.05))
    assert ledger.scalar("SELECT price FROM fills") == Decimal("9.05")


def test_a_price_with_more_places_than_the_column_is_refused_not_rounded(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match=r"fills\.price.*9\.050000190734863"):
        ledger.append("fills", fill(price=9.050000190734863))


def test_dicts_are_stored_as_json_with_exact_decimals(ledger: Ledger) -> None:
    ledger.append("fills", fill(raw={"price": Decimal("9.05"), "ids": [1, 2]}))
    assert json.loads(ledger.scalar("SELECT raw FROM fills")) == {"ids": [1, 2], "price": "9.05"}


def test_naive_timestamps_are_refused(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match=r"fills\.ts needs a timezone-aware datetime"):
        ledger.append("fills", fill(ts=dt.datetime(2026, 3, 2, 10, 30)))


def test_timestamps_are_stored_as_instants(ledger: Ledger) -> None:
    hk = dt.timezone(dt.timedelta(hours=8))
    ledger.append("fills", fill(ts=dt.datetime(2026, 3, 2, 10, 30, tzinfo=hk)))
    stored = ledger.query("SELECT ts FROM fills")["ts"][0]
    assert stored == NOW


def test_an_unknown_table_is_refused_by_name(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match="unknown ledger table 'fill'"):
        ledger.append("fill", fill())


def test_an_unknown_column_is_refused_by_name(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match=r"unknown column.*'prize'.*'fills'"):
        ledger.append("fills", fill(prize=1))


def test_a_row_without_its_key_is_refused(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match=r"lacks its key column.*exec_id"):
        ledger.append("fills", fill(exec_id=None))


def test_a_missing_required_value_is_a_ledger_error_naming_the_table(ledger: Ledger) -> None:
    row = fill()
    del row["symbol"]
    with pytest.raises(LedgerError, match="fills"):
        ledger.append("fills", row)


def test_upsert_inserts_then_updates_only_the_given_columns(ledger: Ledger) -> None:
    ledger.upsert("intents", intent())
    ledger.upsert("intents", {"intent_id": "i1", "status": "proven"})
    row = ledger.query("SELECT status, entry_price FROM intents").iloc[0]
    assert (row["status"], row["entry_price"]) == ("proven", Decimal("9.05"))


def test_upsert_by_composite_key_keeps_one_row_per_account_and_symbol(ledger: Ledger) -> None:
    ledger.upsert("positions", {"account": "DU1", "symbol": "700", "quantity": 100})
    ledger.upsert("positions", {"account": "DU1", "symbol": "700", "quantity": 300})
    assert ledger.query("SELECT quantity FROM positions")["quantity"].tolist() == [300]


def test_event_tables_cannot_be_upserted(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match="append-only"):
        ledger.upsert("fills", fill())


def test_a_transaction_commits_its_writes_together(ledger: Ledger) -> None:
    with ledger.transaction():
        ledger.upsert("intents", intent())
        ledger.append("fills", fill())
    assert ledger.scalar("SELECT count(*) FROM intents") + ledger.scalar("SELECT count(*) FROM fills") == 2


def test_a_failing_transaction_leaves_nothing_behind(ledger: Ledger) -> None:
    with pytest.raises(RuntimeError), ledger.transaction():
        ledger.append("fills", fill())
        raise RuntimeError("crash between writes")
    assert ledger.scalar("SELECT count(*) FROM fills") == 0


def test_execute_many_is_all_or_nothing(ledger: Ledger) -> None:
    ledger.upsert("intents", intent())
    with pytest.raises(LedgerError):
        ledger.execute_many(
            [("UPDATE intents SET status = ? WHERE intent_id = ?", ["sent", "i1"]), "SELECT * FROM nowhere"]
        )
    assert ledger.scalar("SELECT status FROM intents") == "approved"


def test_query_parameters_are_bound_not_interpolated(ledger: Ledger) -> None:
    ledger.append("fills", [fill("a"), fill("b", symbol="5")])
    assert ledger.query("SELECT exec_id FROM fills WHERE symbol = ?", ["5"])["exec_id"].tolist() == ["b"]


def test_a_bad_query_raises_a_ledger_error_with_the_sql(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match="SELECT nope"):
        ledger.query("SELECT nope FROM fills")


def test_new_ids_are_unique_and_sort_by_creation() -> None:
    ids = [new_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)


def test_the_ledger_refuses_an_in_memory_database() -> None:
    with pytest.raises(LedgerError, match="file path"):
        Ledger(":memory:")


def test_a_fractional_quantity_is_refused_not_rounded(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match=r"fills\.quantity holds whole numbers"):
        ledger.append("fills", fill(quantity=100.5))


def test_an_integral_float_quantity_is_stored_as_an_integer(ledger: Ledger) -> None:
    ledger.append("fills", fill(quantity=300.0))
    assert ledger.scalar("SELECT quantity FROM fills") == 300
