"""What the breaker reads after a global cancel: working orders and the survivors."""

from __future__ import annotations

import pandas as pd

from catalyst.broker.global_cancel import GlobalCancelResult, WorkingOrder, working_orders


def frame(*rows: tuple[str, int, int, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"order_ref": r, "perm_id": p, "client_id": c, "symbol": "700", "status": s} for r, p, c, s in rows]
    )


def test_orders_in_a_terminal_status_are_not_working() -> None:
    orders = frame(("a:P", 1, 5, "Submitted"), ("a:TP", 2, 5, "Cancelled"), ("b:P", 3, 7, "PendingCancel"))
    assert [o.order_ref for o in working_orders(orders)] == ["a:P", "b:P"]


def test_no_open_orders_means_nothing_working() -> None:
    assert working_orders(pd.DataFrame()) == ()


def test_the_cancelled_are_the_orders_working_before_that_did_not_survive() -> None:
    a = WorkingOrder("a:P", 1, 5, "700", "Submitted")
    b = WorkingOrder("b:SL", 2, 5, "700", "PreSubmitted")
    result = GlobalCancelResult(before=(a, b), survivors=(b,), waited_seconds=1.0)
    assert result.cancelled == (a,) and not result.complete
    assert str(b) == "b:SL 700 perm 2 client 5 PreSubmitted"
