"""Layer 3 in the backtest (issue 11: the backtester's decision had no risk state): a day whose
loss reaches the daily limit halts that day's new entries, as the live cycle refuses them."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal as D

from research_fixtures import FixedSignal, bars, signal

from catalyst.market import HK_TZ
from catalyst.research.backtester import BacktestConfig, DayBreaker, run_backtest
from catalyst.risk.limits import RiskLimits

MORNING = datetime(2026, 11, 24, 9, 35, tzinfo=HK_TZ)
LIMITS = RiskLimits(daily_loss_fraction=D("0.03"))  # 30,000 HKD on 1,000,000


def test_a_loss_at_the_limit_halts_the_rest_of_the_day_and_the_next_day_starts_clear() -> None:
    breaker = DayBreaker()
    assert not breaker.state(MORNING, D("1000000"), LIMITS).halted
    assert not breaker.state(MORNING + timedelta(minutes=30), D("970000.01"), LIMITS).halted
    tripped = breaker.state(MORNING + timedelta(hours=1), D("970000"), LIMITS)
    assert tripped.halted and "30,000.00 HKD" in tripped.halt_reason
    recovered = breaker.state(MORNING + timedelta(hours=2), D("1010000"), LIMITS)
    assert recovered.halted, "a trip holds for the rest of the day, as live"
    assert not breaker.state(MORNING + timedelta(days=1), D("1010000"), LIMITS).halted


def test_without_a_daily_limit_nothing_halts() -> None:
    breaker = DayBreaker()
    no_limit = RiskLimits(daily_loss_fraction=None)
    breaker.state(MORNING, D("1000000"), no_limit)
    assert not breaker.state(MORNING + timedelta(hours=1), D("1"), no_limit).halted


def test_after_a_stopped_out_loss_beyond_the_daily_limit_the_next_entry_that_day_is_refused() -> None:
    """Parity with the live cycle, which reads the breaker's halt before it decides."""
    day = "2025-03-03"
    frame = bars(
        [
            ("700", f"{day} 10:00", 601, 602, 599.5, 600),  # the 600 entry fills
            ("700", f"{day} 10:01", 600, 600, 585, 586),  # through the 590 stop: about -9,700 HKD
            ("700", f"{day} 10:10", 586, 587, 585, 586),
            ("5", f"{day} 10:10", 61, 61, 59.9, 60),
            ("5", f"{day} 10:11", 60, 61, 59.5, 60),
        ]
    )
    strat = FixedSignal(
        [signal("700", f"{day} 10:00", "BUY", 600, 590, 620), signal("5", f"{day} 10:10", "BUY", 60, 59, 62)]
    )
    limits = RiskLimits(daily_loss_limit=D("5000"), daily_loss_fraction=None)
    result = run_backtest(frame, strat, BacktestConfig(limits=limits))
    assert list(result.trades["symbol"]) == ["700"]
    assert result.trades.iloc[0]["net_pnl"] < -5000
    assert result.rejections[["symbol", "code"]].to_dict("records") == [
        {"symbol": "5", "code": "breaker_halted"}
    ]
