"""Known-answer tests of the backtester's fill rules (entry trading through, OCA, gaps, lunch)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from research_fixtures import bars

from catalyst.domain import Side
from catalyst.research.fill_rules import BarPath, Fill, entry_fill, exit_fill


def path_of(rows: list[tuple]) -> BarPath:
    frame = bars(rows)
    day = frame["time"].dt.tz_localize(None).astype("datetime64[ns]").astype("int64") // 86_400_000_000_000
    return BarPath(
        open=frame["open"].to_numpy(),
        high=frame["high"].to_numpy(),
        low=frame["low"].to_numpy(),
        close=frame["close"].to_numpy(),
        day=day.to_numpy(np.int64),
    )


def test_buy_limit_touched_but_not_traded_through_does_not_fill() -> None:
    p = path_of([("700", "2025-03-03 10:00", 601, 602, 600, 601)])
    assert entry_fill(p, Side.BUY, Decimal("600"), 0, 1, table="A") is None


def test_buy_limit_traded_through_fills_at_the_limit() -> None:
    p = path_of([("700", "2025-03-03 10:00", 601, 602, 599.5, 601)])
    assert entry_fill(p, Side.BUY, Decimal("600"), 0, 1, table="A") == Fill(0, Decimal("600"), "entry")


def test_buy_limit_below_an_opening_price_fills_at_the_open() -> None:
    p = path_of([("700", "2025-03-03 10:00", 598, 602, 597, 601)])
    assert entry_fill(p, Side.BUY, Decimal("600"), 0, 1, table="A") == Fill(
        0, Decimal("598"), "entry_at_open"
    )


def test_sell_limit_fills_only_when_the_high_trades_above_it() -> None:
    p = path_of(
        [("700", "2025-03-03 10:00", 599, 600, 598, 599), ("700", "2025-03-03 10:01", 599, 600.5, 598, 600)]
    )
    assert entry_fill(p, Side.SELL, Decimal("600"), 0, 2, table="A") == Fill(1, Decimal("600"), "entry")


def test_gap_through_a_stop_overnight_fills_at_the_next_sessions_open() -> None:
    p = path_of(
        [
            ("700", "2025-03-03 15:59", 600, 600.5, 599.5, 600),
            ("700", "2025-03-04 09:30", 590, 592, 588, 591),
        ]
    )
    entry = Fill(0, Decimal("600"), "entry")
    out = exit_fill(p, Side.BUY, Decimal("595"), Decimal("610"), entry, 2, table="A")
    assert out == Fill(1, Decimal("590"), "stop_gap")


def test_gap_through_a_stop_over_lunch_fills_at_the_afternoon_open() -> None:
    p = path_of(
        [
            ("700", "2025-03-03 11:58", 600, 600.5, 599.5, 600),
            ("700", "2025-03-03 11:59", 600, 600.5, 599.5, 600),
            ("700", "2025-03-03 13:00", 593, 594, 592, 593),
        ]
    )
    entry = Fill(0, Decimal("600"), "entry")
    out = exit_fill(p, Side.BUY, Decimal("595"), Decimal("610"), entry, 3, table="A")
    assert out == Fill(2, Decimal("593"), "stop_gap")


def test_short_gap_up_through_the_stop_fills_at_the_open() -> None:
    p = path_of(
        [("700", "2025-03-03 10:00", 600, 600, 599, 600), ("700", "2025-03-03 10:01", 607, 608, 606, 607)]
    )
    entry = Fill(0, Decimal("600"), "entry")
    out = exit_fill(p, Side.SELL, Decimal("605"), Decimal("590"), entry, 2, table="A")
    assert out == Fill(1, Decimal("607"), "stop_gap")


def test_bar_reaching_stop_and_target_fills_only_the_stop_oca() -> None:
    p = path_of(
        [("700", "2025-03-03 10:00", 600, 600, 599.5, 600), ("700", "2025-03-03 10:01", 600, 611, 594, 600)]
    )
    entry = Fill(0, Decimal("600"), "entry")
    out = exit_fill(p, Side.BUY, Decimal("595"), Decimal("610"), entry, 2, table="A")
    assert out == Fill(1, Decimal("595"), "stop")


def test_target_touched_but_not_traded_through_stays_open() -> None:
    p = path_of(
        [("700", "2025-03-03 10:00", 600, 600, 599.5, 600), ("700", "2025-03-03 10:01", 600, 610, 599, 609)]
    )
    entry = Fill(0, Decimal("600"), "entry")
    assert exit_fill(p, Side.BUY, Decimal("595"), Decimal("610"), entry, 2, table="A") is None


def test_target_traded_through_fills_at_the_target_price() -> None:
    p = path_of(
        [("700", "2025-03-03 10:00", 600, 600, 599.5, 600), ("700", "2025-03-03 10:01", 600, 611, 599, 609)]
    )
    entry = Fill(0, Decimal("600"), "entry")
    assert exit_fill(p, Side.BUY, Decimal("595"), Decimal("610"), entry, 2, table="A") == Fill(
        1, Decimal("610"), "target"
    )


def test_stop_in_the_entry_bar_fills_at_the_stop_and_the_target_waits() -> None:
    p = path_of([("700", "2025-03-03 10:00", 601, 612, 594, 600)])
    entry = Fill(0, Decimal("600"), "entry")
    assert exit_fill(p, Side.BUY, Decimal("595"), Decimal("610"), entry, 1, table="A") == Fill(
        0, Decimal("595"), "stop"
    )


def test_stop_slippage_moves_the_fill_whole_ticks_against_the_position() -> None:
    p = path_of(
        [("700", "2025-03-03 10:00", 600, 600, 599.5, 600), ("700", "2025-03-03 10:01", 599, 599, 594, 595)]
    )
    entry = Fill(0, Decimal("600"), "entry")
    out = exit_fill(p, Side.BUY, Decimal("595"), Decimal("610"), entry, 2, table="A", slippage_ticks=2)
    assert out == Fill(1, Decimal("594"), "stop")  # tick 0.5 at 595 (Part A, 500-1000)
