"""The reconciliation diff: each kind of disagreement, and when missing fills explain it."""

from __future__ import annotations

import pandas as pd
import pytest

from catalyst.reconcile.errors import ReconcileInputError
from catalyst.reconcile.recon_diff import diff_orders, diff_positions, missing_executions

ACC = "DU1"


def pos(*rows: tuple[str, int]) -> pd.DataFrame:
    return pd.DataFrame([(ACC, s, q) for s, q in rows], columns=["account", "symbol", "quantity"])


def execs(*rows: tuple[str, str, str, int]) -> pd.DataFrame:
    return pd.DataFrame(
        [(e, ACC, s, side, q) for e, s, side, q in rows],
        columns=["exec_id", "account", "symbol", "side", "quantity"],
    )


def kinds(findings: pd.DataFrame) -> dict[str, str]:
    return dict(zip(findings["symbol"], findings["kind"], strict=True))


def test_agreeing_books_give_no_findings() -> None:
    assert diff_positions(pos(("700", 100)), pos(("700", 100))).empty


def test_a_ledger_only_position_is_a_phantom() -> None:
    assert kinds(diff_positions(pos(), pos(("700", 100)))) == {"700": "phantom"}


def test_a_broker_only_position_is_an_orphan() -> None:
    assert kinds(diff_positions(pos(("5", 400)), pos())) == {"5": "orphan"}


def test_different_quantities_are_a_mismatch() -> None:
    f = diff_positions(pos(("700", 300)), pos(("700", 100)))
    assert kinds(f) == {"700": "quantity_mismatch"}
    assert (f.loc[0, "ledger_quantity"], f.loc[0, "broker_quantity"]) == (100, 300)


def test_flat_rows_are_ignored() -> None:
    assert diff_positions(pos(("700", 0)), pos()).empty


def test_missing_fills_that_account_for_the_difference_explain_it() -> None:
    missing = execs(("e1", "700", "BUY", 200))
    f = diff_positions(pos(("700", 300)), pos(("700", 100)), missing)
    assert bool(f.loc[0, "explained"]) and f.loc[0, "missing_fill_quantity"] == 200


def test_a_difference_the_missing_fills_do_not_cover_is_unexplained() -> None:
    missing = execs(("e1", "700", "BUY", 100))
    f = diff_positions(pos(("700", 300)), pos(("700", 100)), missing)
    assert not bool(f.loc[0, "explained"])


def test_a_phantom_closed_by_a_missing_sell_is_explained() -> None:
    f = diff_positions(pos(), pos(("700", 100)), execs(("e9", "700", "SLD", 100)))
    assert kinds(f) == {"700": "phantom"} and bool(f.loc[0, "explained"])


def test_missing_fills_on_an_agreeing_symbol_are_reported_as_missing_fill() -> None:
    f = diff_positions(
        pos(("700", 100)), pos(("700", 100)), execs(("a", "700", "BUY", 100), ("b", "700", "SELL", 100))
    )
    assert kinds(f) == {"700": "missing_fill"} and bool(f.loc[0, "explained"])


def test_missing_executions_are_those_the_ledger_lacks() -> None:
    broker = execs(("e1", "700", "BUY", 100), ("e2", "700", "SELL", 100))
    assert list(missing_executions(broker, pd.Series(["e1"]))["exec_id"]) == ["e2"]


def test_an_unknown_execution_side_raises() -> None:
    with pytest.raises(ReconcileInputError, match="unknown side"):
        diff_positions(pos(("700", 100)), pos(), execs(("e1", "700", "LONG", 100)))


def test_a_frame_without_the_needed_columns_raises_naming_them() -> None:
    with pytest.raises(ReconcileInputError, match="quantity"):
        diff_positions(pd.DataFrame({"account": [ACC], "symbol": ["700"]}), pos())


def test_orders_unknown_to_the_ledger_and_stale_ledger_orders_are_found() -> None:
    broker = pd.DataFrame({"order_ref": ["a:SL", "manual"], "symbol": ["700", "5"]})
    ledger = pd.DataFrame(
        {
            "order_ref": ["a:SL", "b:P", "c:P"],
            "symbol": ["700", "388", "16"],
            "status": ["Submitted", "Submitted", "Filled"],
        }
    )
    found = diff_orders(broker, ledger)
    assert sorted(zip(found["order_ref"], found["kind"], strict=True)) == [
        ("b:P", "stale_order"),
        ("manual", "unknown_order"),
    ]


def test_an_expired_day_order_is_not_a_stale_open_order() -> None:
    """The diff once kept its own list of final statuses, without ``expired``: every DAY order that
    lapsed at the close was reported stale by the next reconciliation."""
    broker = pd.DataFrame({"order_ref": ["a:SL"], "symbol": ["700"]})
    ledger = pd.DataFrame(
        {
            "order_ref": ["a:SL", "b:P", "c:P"],
            "symbol": ["700", "388", "16"],
            "status": ["Submitted", "expired", "not_sent"],
        }
    )
    assert diff_orders(broker, ledger).empty
