"""The backtester's closing auction: a DAY entry not filled in continuous trading fills in the CAS at
the reference price of the last continuous bar when that is at or better than its limit and within
+-5 % (catalyst.research.fill_rules.auction_fill, catalyst.market.auction)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from research_fixtures import FixedSignal, bars
from research_fixtures import signal as make_signal

from catalyst.domain import Side
from catalyst.research.backtester import BacktestConfig, run_backtest
from catalyst.research.fill_rules import AUCTION_REASON, BarPath, Fill, auction_fill, bar_reference_price

DAY = "2025-03-03"  # a Monday; Part A pre-Phase-1 ladder: tick 0.5 between 500 and 1000
NEXT = "2025-03-04"
HALF = "2025-12-24"  # Christmas Eve: continuous trading ends at 12:00


def path_of(rows: list[tuple]) -> BarPath:
    frame = bars(rows)
    return BarPath(
        open=frame["open"].to_numpy(),
        high=frame["high"].to_numpy(),
        low=frame["low"].to_numpy(),
        close=frame["close"].to_numpy(),
        day=np.array([t.date().toordinal() - 719163 for t in frame["time"]], dtype=np.int64),
    )


def last_minute(close: float, *, day: str = DAY, at: str = "15:59") -> list[tuple]:
    """A touched-but-not-traded-through 600 in the morning, then the day's last continuous minute."""
    return [
        ("700", f"{day} 10:00", 601, 602, 600, 601),
        ("700", f"{day} {at}", 600, max(close, 600.5), 600, close),
    ]


def buy_600(day: str = DAY) -> FixedSignal:
    return FixedSignal([make_signal("700", f"{day} 10:00", "BUY", 600, 590, 620)])


# --- the rule on a path of bars ----------------------------------------------------------------------


def test_the_reference_price_is_the_median_of_the_close_before_and_the_last_bars_four_prices() -> None:
    p = path_of([("700", f"{DAY} 15:58", 601, 602, 600, 604), ("700", f"{DAY} 15:59", 600, 603, 599, 600.5)])
    # 604 (close before), 600, 603, 599, 600.5 -> 600.5
    assert bar_reference_price(p, 1, first=0, table="A") == Decimal("600.5")


def test_a_buy_at_the_auction_price_fills_there_and_one_tick_under_it_does_not() -> None:
    p = path_of(last_minute(600))
    assert auction_fill(p, Side.BUY, Decimal("600"), 1, first=0, table="A") == Fill(
        1, Decimal("600"), AUCTION_REASON
    )
    assert auction_fill(p, Side.BUY, Decimal("599.5"), 1, first=0, table="A") is None


def test_a_sell_within_five_percent_under_the_reference_fills_and_one_tick_beyond_is_not_carried() -> None:
    p = path_of([("700", f"{DAY} 15:59", 600, 600, 600, 600)])
    assert auction_fill(p, Side.SELL, Decimal("570"), 0, first=0, table="A") == Fill(
        0, Decimal("600"), AUCTION_REASON
    )
    assert auction_fill(p, Side.SELL, Decimal("569.5"), 0, first=0, table="A") is None


# --- whole backtests -----------------------------------------------------------------------------------


def test_a_day_limit_not_reached_in_continuous_trading_fills_in_the_closing_auction() -> None:
    frame = bars([*last_minute(600), ("700", f"{NEXT} 09:30", 605, 611, 604, 610)])
    trade = run_backtest(frame, buy_600()).trades.iloc[0]
    assert (trade["entry_reason"], trade["entry_price"]) == (AUCTION_REASON, Decimal("600"))
    assert trade["entry_time"].strftime("%Y-%m-%d %H:%M") == f"{DAY} 16:00"
    assert trade["entry_fees"] > 0
    assert (trade["exit_reason"], trade["exit_price"]) == ("target", Decimal("610"))  # the next morning


def test_a_day_limit_worse_than_the_auction_price_expires() -> None:
    frame = bars([*last_minute(601), ("700", f"{NEXT} 09:30", 605, 611, 604, 610)])
    trade = run_backtest(frame, buy_600()).trades.iloc[0]
    assert trade["entry_reason"] == "expired" and trade["exit_reason"] is None


def test_without_the_closing_auction_the_same_limit_expires() -> None:
    frame = bars([*last_minute(600), ("700", f"{NEXT} 09:30", 605, 611, 604, 610)])
    trade = run_backtest(frame, buy_600(), BacktestConfig(closing_auction=False)).trades.iloc[0]
    assert trade["entry_reason"] == "expired"


def test_bars_that_stop_before_the_close_show_no_auction() -> None:
    frame = bars([*last_minute(600, at="15:00"), ("700", f"{NEXT} 09:30", 605, 611, 604, 610)])
    assert run_backtest(frame, buy_600()).trades.iloc[0]["entry_reason"] == "expired"


def test_on_a_half_day_the_auction_follows_the_morning() -> None:
    frame = bars(last_minute(600, day=HALF, at="11:59"))
    trade = run_backtest(frame, buy_600(HALF)).trades.iloc[0]
    assert trade["entry_reason"] == AUCTION_REASON
    assert trade["entry_time"].strftime("%H:%M") == "12:00"


def test_max_hold_sessions_counts_from_the_session_after_an_auction_entry() -> None:
    frame = bars(
        [
            *last_minute(600),
            ("700", f"{NEXT} 09:30", 601, 603, 600.5, 602),
            ("700", f"{NEXT} 15:59", 602, 604, 601.5, 603),
        ]
    )
    trade = run_backtest(frame, buy_600(), BacktestConfig(max_hold_sessions=1)).trades.iloc[0]
    assert trade["entry_reason"] == AUCTION_REASON
    assert (trade["exit_reason"], trade["exit_price"]) == ("session_close", Decimal("603"))
    assert trade["exit_time"].strftime("%Y-%m-%d") == NEXT
