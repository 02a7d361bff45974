"""Live intents beside the backtester's: every row says whether they match and why not."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from catalyst.cycle.backtest_compare import compare_intents


def _frame(rows: list[tuple[str, str, int, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "symbol": s,
                "side": side,
                "quantity": q,
                "entry": Decimal(e),
                "stop": Decimal("1"),
                "target": Decimal("9"),
            }
            for s, side, q, e in rows
        ]
    )


def test_identical_orders_match() -> None:
    live = _frame([("700", "BUY", 100, "5")]).assign(status="proven")
    out = compare_intents("r", "t", live, _frame([("700", "BUY", 100, "5")]))
    assert out["match"].tolist() == [True]
    assert out["explanation"].tolist() == ["same order"]


def test_a_quantity_difference_is_named() -> None:
    live = _frame([("700", "BUY", 200, "5")]).assign(status="proven")
    out = compare_intents("r", "t", live, _frame([("700", "BUY", 100, "5")]))
    assert out["explanation"].tolist() == ["differs in quantity"]


def test_orders_on_one_side_only_are_explained() -> None:
    live = _frame([("700", "BUY", 100, "5")]).assign(status="proven")
    out = compare_intents("r", "t", live, _frame([("5", "BUY", 400, "5")])).sort_values("symbol")
    assert [e.split(":")[0] for e in out["explanation"]] == ["backtest only", "live only"]
    assert not out["match"].any()
