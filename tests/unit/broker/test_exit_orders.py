"""Flattening prices: marketable, capped, on the ladder."""

from __future__ import annotations

from decimal import Decimal

from catalyst.broker.exit_orders import marketable_limit
from catalyst.domain import Side


def test_a_sell_starts_at_the_bid_and_goes_five_ticks_lower() -> None:
    price, ref = marketable_limit(
        Side.SELL, symbol="700", bid=Decimal("400"), ask=Decimal("400.2"), last=None, fallback=Decimal("1")
    )
    assert (price, ref) == (Decimal("399.0"), Decimal("400"))


def test_a_buy_starts_at_the_ask_and_goes_five_ticks_higher() -> None:
    price, _ = marketable_limit(
        Side.BUY, symbol="700", bid=None, ask=Decimal("400.2"), last=None, fallback=Decimal("1")
    )
    assert price == Decimal("401.2")


def test_without_a_book_the_last_trade_then_the_fallback_is_used() -> None:
    _, ref = marketable_limit(
        Side.SELL, symbol="700", bid=None, ask=None, last=Decimal("399"), fallback=Decimal("1")
    )
    assert ref == Decimal("399")
    _, ref = marketable_limit(Side.SELL, symbol="700", bid=None, ask=None, last=None, fallback=Decimal("398"))
    assert ref == Decimal("398")
