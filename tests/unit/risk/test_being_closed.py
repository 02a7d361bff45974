"""A position a working flatten already closes is not an unprotected one: the monitor must not
re-protect or flatten it a second time (that would double the exit and open a reverse position)."""

from __future__ import annotations

import pandas as pd

from catalyst.risk.position_monitor import being_closed

COLUMNS = ["order_ref", "symbol", "side", "order_type", "remaining", "status", "client_id"]


def orders(*rows: tuple[str, str, str, str, int, str]) -> pd.DataFrame:
    return pd.DataFrame([(*r, 1) for r in rows], columns=COLUMNS)


def test_a_working_flatten_for_the_whole_long_closes_it() -> None:
    book = orders(("i-941-1:FLAT", "941", "SELL", "LMT", 3000, "Submitted"))
    assert being_closed("941", 3000, book)


def test_a_flatten_for_part_of_the_position_does_not() -> None:
    book = orders(("i-941-1:FLAT", "941", "SELL", "LMT", 1000, "Submitted"))
    assert not being_closed("941", 3000, book)


def test_a_target_limit_is_not_a_flatten_and_a_done_flatten_closes_nothing() -> None:
    book = orders(
        ("i-941-1:TP", "941", "SELL", "LMT", 3000, "Submitted"),
        ("i-941-1:FLAT", "941", "SELL", "LMT", 3000, "Cancelled"),
    )
    assert not being_closed("941", 3000, book)


def test_a_short_is_closed_by_a_buy_flatten_only() -> None:
    assert being_closed("5", -400, orders(("m:5:FLAT:1", "5", "BUY", "LMT", 400, "PreSubmitted")))
    assert not being_closed("5", -400, orders(("m:5:FLAT:1", "5", "SELL", "LMT", 400, "Submitted")))


def test_another_symbols_flatten_or_no_orders_close_nothing() -> None:
    assert not being_closed("941", 3000, orders(("i-700-1:FLAT", "700", "SELL", "LMT", 3000, "Submitted")))
    assert not being_closed("941", 3000, pd.DataFrame(columns=COLUMNS))
