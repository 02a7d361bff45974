"""The broker's contract details against catalyst.market: disagreement locks the symbol."""

from __future__ import annotations

from decimal import Decimal

from catalyst.broker.contracts_cache import contract_disagreements, normalise_ladder
from catalyst.market import ladder


def test_the_same_lot_and_ladder_agree() -> None:
    broker = normalise_ladder([(float(lo), float(inc)) for lo, inc in ladder(table="A")])
    assert contract_disagreements(symbol="700", broker_lot=100, broker_ladder=broker) == []


def test_a_different_board_lot_is_a_disagreement() -> None:
    broker = normalise_ladder(ladder(table="A"))
    problems = contract_disagreements(symbol="1211", broker_lot=500, broker_ladder=broker)
    assert problems == ["board lot: broker reports 500, catalyst.market has 100"]


def test_a_ladder_from_an_older_spread_table_is_a_disagreement() -> None:
    old = normalise_ladder([(0, 0.001), (0.25, 0.005), (0.5, 0.01), (10, 0.02), (20, 0.05)])
    problems = contract_disagreements(symbol="700", broker_lot=None, broker_ladder=old)
    assert len(problems) == 1 and problems[0].startswith("tick ladder")


def test_a_missing_market_rule_cannot_be_checked_and_is_refused() -> None:
    assert contract_disagreements(symbol="700", broker_lot=100, broker_ladder=None)


def test_ladders_compare_without_float_noise() -> None:
    assert normalise_ladder([(10.0, 0.01)]) == ((Decimal(10), Decimal("0.01")),)
