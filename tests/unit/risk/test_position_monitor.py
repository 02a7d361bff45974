"""Layer 2 judgements: breaches of recorded levels and positions without live protection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd

from catalyst.risk.position_monitor import (
    BreachTracker,
    GuardedPosition,
    PriceView,
    guarded_positions,
    level_breaches,
    protection_gaps,
)

D = Decimal
LONG = GuardedPosition("700", 100, stop=D("590"), target=D("620"))
SHORT = GuardedPosition("5", -400, stop=D("115"), target=D("100"))
T0 = datetime(2026, 11, 24, 2, 30, tzinfo=UTC)


def quote(bid: str, ask: str) -> PriceView:
    return PriceView(D(bid), D(ask), None)


def test_a_long_whose_bid_reaches_the_stop_is_a_stop_breach() -> None:
    [b] = level_breaches([LONG], {"700": quote("590", "590.5")})
    assert (b.level_kind, b.price) == ("stop", D("590"))


def test_a_long_whose_bid_reaches_the_target_is_a_target_breach() -> None:
    [b] = level_breaches([LONG], {"700": quote("620", "620.5")})
    assert b.level_kind == "target"


def test_a_long_between_its_levels_is_left_alone() -> None:
    assert level_breaches([LONG], {"700": quote("600", "600.5")}) == []


def test_a_short_is_judged_on_the_ask() -> None:
    [b] = level_breaches([SHORT], {"5": quote("114.9", "115")})
    assert (b.level_kind, b.symbol) == ("stop", "5")


def test_a_position_without_a_quote_is_skipped() -> None:
    assert level_breaches([LONG], {}) == []


def test_a_breach_is_due_only_after_the_grace_period() -> None:
    tracker = BreachTracker(grace=timedelta(seconds=2))
    breaches = level_breaches([LONG], {"700": quote("589", "589.5")})
    assert tracker.due(breaches, T0) == []
    assert tracker.due(breaches, T0 + timedelta(seconds=2)) == breaches


def test_a_breach_that_recovers_starts_its_grace_again() -> None:
    tracker = BreachTracker(grace=timedelta(seconds=2))
    breaches = level_breaches([LONG], {"700": quote("589", "589.5")})
    tracker.due(breaches, T0)
    tracker.due([], T0 + timedelta(seconds=1))
    assert tracker.due(breaches, T0 + timedelta(seconds=2)) == []


def orders(*rows: tuple[str, str, str, int]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["symbol", "side", "order_type", "remaining"])
    frame["status"] = "Submitted"
    return frame


def test_a_position_with_stop_and_target_for_its_whole_quantity_is_protected() -> None:
    assert (
        protection_gaps({"700": 100}, orders(("700", "SELL", "STP", 100), ("700", "SELL", "LMT", 100))) == []
    )


def test_a_position_with_no_orders_misses_stop_and_target() -> None:
    [gap] = protection_gaps({"700": 100}, orders())
    assert gap.missing == ("stop", "target")


def test_a_stop_on_the_wrong_side_does_not_protect() -> None:
    [gap] = protection_gaps({"700": 100}, orders(("700", "BUY", "STP", 100), ("700", "SELL", "LMT", 100)))
    assert gap.missing == ("stop",)


def test_a_stop_for_part_of_the_quantity_is_a_gap() -> None:
    [gap] = protection_gaps({"700": 200}, orders(("700", "SELL", "STP", 100), ("700", "SELL", "LMT", 200)))
    assert gap.missing == ("stop",) and gap.stop_covered == 100


def test_cancelled_orders_do_not_protect() -> None:
    frame = orders(("700", "SELL", "STP", 100), ("700", "SELL", "LMT", 100))
    frame["status"] = "Cancelled"
    [gap] = protection_gaps({"700": 100}, frame)
    assert gap.missing == ("stop", "target")


def test_a_short_is_protected_by_buy_orders() -> None:
    assert protection_gaps({"5": -400}, orders(("5", "BUY", "STP LMT", 400), ("5", "BUY", "LMT", 400))) == []


def test_guarded_positions_take_levels_from_the_ledger_and_quantity_from_the_broker() -> None:
    ledger = pd.DataFrame(
        {"symbol": ["700"], "stop_price": [D("590")], "target_price": [D("620")], "intent_id": ["i1"]}
    )
    [g] = guarded_positions({"700": 200, "5": 0}, ledger)
    assert g == GuardedPosition("700", 200, D("590"), D("620"), intent_id="i1")
