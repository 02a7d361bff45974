"""Continuous-session filtering (half days, holidays) and sizing in whole board lots."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pandas as pd
from research_fixtures import hk

from catalyst.domain import Candidate, Side
from catalyst.market import FIXED, TIERED
from catalyst.research.backtester import BacktestConfig
from catalyst.research.continuous_session import continuous_mask
from catalyst.risk.limits import RiskLimits
from catalyst.risk.position_sizing import size_candidate


def mask_of(*stamps: str) -> list[bool]:
    times = pd.Series([pd.Timestamp(hk(s)) for s in stamps]).dt.as_unit("ns")
    return continuous_mask(times, 60).tolist()


def test_a_full_day_trades_morning_and_afternoon_but_not_lunch_or_auctions() -> None:
    assert mask_of(
        "2025-03-03 09:29",
        "2025-03-03 09:30",
        "2025-03-03 11:59",
        "2025-03-03 12:00",
        "2025-03-03 13:00",
        "2025-03-03 15:59",
        "2025-03-03 16:00",
    ) == [False, True, True, False, True, True, False]


def test_a_half_day_has_no_afternoon_session() -> None:
    assert mask_of("2024-12-24 11:59", "2024-12-24 12:00", "2024-12-24 13:30") == [True, False, False]


def test_a_holiday_has_no_bars() -> None:
    assert mask_of("2025-12-25 10:00", "2025-01-29 10:00") == [False, False]


def candidate(entry: str, stop: str, target: str) -> Candidate:
    return Candidate(
        symbol="700",
        side=Side.BUY,
        entry=Decimal(entry),
        stop=Decimal(stop),
        target=Decimal(target),
        score=1.0,
        reason="test",
        at=hk("2025-03-03 10:00"),
    )


def test_sizing_stops_at_the_budget_in_whole_lots() -> None:
    intent = size_candidate(
        candidate("600", "590", "620"),
        equity=Decimal("1000000"),
        budget=Decimal("130000"),
        limits=RiskLimits(),
        intent_id="t-700-B-0",
    )
    assert intent is not None and intent.quantity == 200  # 130,000 buys 216 shares: 2 lots of 100


def test_sizing_skips_a_candidate_when_not_even_one_lot_fits_the_risk() -> None:
    intent = size_candidate(
        candidate("600", "500", "800"),
        equity=Decimal("100000"),
        budget=Decimal("100000"),
        limits=RiskLimits(),
        intent_id="t-700-B-0",
    )
    assert intent is None  # one lot risks 10,000 + fees, the limit is 1,000


def test_backtest_config_from_settings_takes_the_live_limits_and_commission_plan() -> None:
    risk = SimpleNamespace(max_positions=3, max_risk_per_trade_pct=Decimal("0.5"), commission_plan="tiered")
    config = BacktestConfig.from_settings(SimpleNamespace(risk=risk))
    assert (config.limits.max_positions, config.limits.max_risk_fraction, config.commission) == (
        3,
        Decimal("0.005"),
        TIERED,
    )
    assert BacktestConfig().commission == FIXED
