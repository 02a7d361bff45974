"""Known-answer tests of whole backtests: lot rounding, fees to the cent, DAY expiry, lunch, limits."""

from __future__ import annotations

from decimal import Decimal

import pytest
from research_fixtures import FixedSignal, bars, signal

from catalyst.research.backtester import BacktestConfig, run_backtest
from catalyst.risk.limits import RiskLimits

DAY = "2025-03-03"  # a Monday; Part A pre-Phase-1 ladder: tick 0.5 between 500 and 1000


def day_bars(*rows: tuple) -> list[tuple]:
    return [("700", f"{DAY} {t}", o, h, lo, c) for t, o, h, lo, c in rows]


def winning_trade() -> tuple:
    frame = bars(
        day_bars(
            ("10:00", 601, 602, 599.5, 601),  # trades through the 600 limit: filled at 600
            ("10:01", 601, 605, 600, 604),
            ("10:02", 604, 621, 603, 619),  # trades through the 620 target
            ("10:03", 619, 619, 618, 618),
        )
    )
    strat = FixedSignal([signal("700", f"{DAY} 10:00", "BUY", 600, 590, 620)])
    return frame, strat


def test_quantity_is_whole_board_lots_with_fees_inside_the_risk_limit() -> None:
    frame, strat = winning_trade()
    trade = run_backtest(frame, strat).trades.iloc[0]
    # 1% of 1,000,000 = 10,000 at a 10 HKD stop distance would be 1,000 shares; with the round-trip
    # fees (entry at 600, exit at the 590 stop) 1,000 and 900 shares exceed it, 800 fit (9,740.73).
    assert trade["quantity"] == 800


def test_entry_and_exit_fees_are_hk_fees_to_the_cent() -> None:
    frame, strat = winning_trade()
    trade = run_backtest(frame, strat).trades.iloc[0]
    # 800 x 600 = 480,000: commission 0.08% 384.00, stamp 0.1% 480, SFC 0.0027% 12.96, AFRC 0.00015% 0.72
    assert trade["entry_fees"] == Decimal("877.68")
    # The 620 target is 40 spreads of 0.50 above the 600 entry: pre-trade plans it at 610, 20 spreads
    # (HKEX's quotation rule, catalyst.market.order_rules), live and in the backtest alike.
    # 800 x 610 = 488,000: commission 390.40, stamp 488, SFC 13.176 -> 13.18, AFRC 0.732 -> 0.73
    assert trade["exit_fees"] == Decimal("892.31")
    assert trade["net_pnl"] == Decimal("6230.01")


def test_equity_ends_at_initial_capital_plus_net_pnl() -> None:
    frame, strat = winning_trade()
    result = run_backtest(frame, strat)
    assert result.equity["equity"].iloc[-1] == pytest.approx(1_000_000 + 6230.01)
    assert result.stats["fees"] == Decimal("1769.99")


def test_entry_not_traded_through_by_the_close_expires_and_never_fills_next_day() -> None:
    frame = bars(
        [
            ("700", f"{DAY} 10:00", 601, 602, 600, 601),
            ("700", f"{DAY} 15:59", 601, 602, 600, 601),
            ("700", "2025-03-04 09:30", 590, 592, 585, 591),
        ]
    )
    strat = FixedSignal([signal("700", f"{DAY} 10:00", "BUY", 600, 590, 620)])
    trade = run_backtest(frame, strat).trades.iloc[0]
    assert trade["entry_reason"] == "expired"
    assert trade["exit_reason"] is None


def test_entry_working_over_lunch_fills_on_the_first_afternoon_bar() -> None:
    frame = bars(
        day_bars(
            ("11:30", 601, 602, 600.5, 601),
            ("11:31", 601, 602, 600.5, 601),
            ("11:59", 601, 602, 600.5, 601),
            ("13:00", 599, 600, 598, 599),
        )
    )
    strat = FixedSignal([signal("700", f"{DAY} 11:30", "BUY", 600, 590, 620)])
    trade = run_backtest(frame, strat).trades.iloc[0]
    assert trade["entry_reason"] == "entry_at_open"
    assert trade["entry_price"] == Decimal("599")
    assert trade["entry_time"].strftime("%H:%M") == "13:01"  # end of the 13:00 bar


def test_no_entry_is_sent_during_lunch() -> None:
    frame = bars(day_bars(("11:59", 601, 602, 600.5, 601), ("13:00", 599, 600, 598, 599)))
    strat = FixedSignal([signal("700", f"{DAY} 12:30", "BUY", 600, 590, 620)])
    result = run_backtest(frame, strat)
    assert result.trades.empty
    assert list(result.rejections["code"]) == ["market_phase"]


def test_position_limit_refuses_the_second_symbol() -> None:
    frame = bars([*day_bars(("10:00", 601, 602, 599.5, 601)), ("5", f"{DAY} 10:00", 80, 80.5, 79.5, 80)])
    strat = FixedSignal(
        [
            signal("700", f"{DAY} 10:00", "BUY", 600, 590, 620),
            signal("5", f"{DAY} 10:00", "BUY", 80, 78, 84),
        ]
    )
    result = run_backtest(frame, strat, BacktestConfig(limits=RiskLimits(max_positions=1)))
    assert list(result.trades["symbol"]) == ["700"]
    assert list(result.rejections["code"]) == ["max_positions"]


def test_shorts_are_refused_when_the_limits_disable_them() -> None:
    frame, _ = winning_trade()
    strat = FixedSignal([signal("700", f"{DAY} 10:00", "SELL", 600, 610, 580)])
    result = run_backtest(frame, strat)
    assert list(result.rejections["code"]) == ["shorts_disabled"]


def test_max_hold_sessions_exits_at_the_last_continuous_bar_of_the_session() -> None:
    frame = bars(
        [
            *day_bars(("10:00", 601, 602, 599.5, 601), ("15:59", 603, 604, 602, 603.5)),
            ("700", "2025-03-04 09:30", 640, 641, 639, 640),
        ]
    )
    strat = FixedSignal([signal("700", f"{DAY} 10:00", "BUY", 600, 590, 620)])
    trade = run_backtest(frame, strat, BacktestConfig(max_hold_sessions=1)).trades.iloc[0]
    assert (trade["exit_reason"], trade["exit_price"]) == ("session_close", Decimal("603.5"))


def test_position_still_open_at_the_end_is_marked_at_the_last_close() -> None:
    frame = bars(day_bars(("10:00", 601, 602, 599.5, 601), ("10:01", 601, 603, 600.5, 602)))
    strat = FixedSignal([signal("700", f"{DAY} 10:00", "BUY", 600, 590, 620)])
    result = run_backtest(frame, strat)
    trade = result.trades.iloc[0]
    assert (trade["exit_reason"], trade["exit_price"], trade["exit_fees"]) == (
        "open_at_end",
        Decimal("602"),
        Decimal(0),
    )
    assert result.equity["equity"].iloc[-1] == pytest.approx(1_000_000 - 877.68 + 2 * 800)


def test_no_order_is_placed_before_trade_from() -> None:
    from datetime import date

    frame, strat = winning_trade()
    result = run_backtest(frame, strat, BacktestConfig(trade_from=date(2025, 3, 4)))
    assert result.trades.empty


def test_a_stop_at_one_ninth_of_the_price_is_refused_as_hkex_would_live_and_in_the_backtest() -> None:
    frame = bars(day_bars(("10:00", 601, 602, 599.5, 601), ("10:01", 601, 605, 600, 604)))
    strat = FixedSignal([signal("700", f"{DAY} 10:00", "BUY", 600, 66.5, 610)])  # one-ninth of 601 ~ 66.8
    config = BacktestConfig(limits=RiskLimits(max_risk_fraction=Decimal("1")))
    result = run_backtest(frame, strat, config)
    assert result.trades.empty
    assert result.rejections["code"].tolist() == ["hkex_order_rule"]
    assert "stop: price 66.5" in result.rejections["reason"].iloc[0]
