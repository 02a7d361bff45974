"""Layer 3 arithmetic: the day's P&L, fees included, against the absolute and percentage limits."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from catalyst.risk.circuit_breaker import DayPnl, day_pnl, evaluate_breaker, loss_limit
from catalyst.risk.errors import RiskInputError
from catalyst.risk.limits import RiskLimits

D = Decimal
NO_FILLS = pd.DataFrame(columns=["symbol", "side", "quantity", "price", "fees"])


def fills(*rows: tuple[str, str, int, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["symbol", "side", "quantity", "price", "fees"])


def test_a_position_carried_overnight_is_marked_from_the_previous_close() -> None:
    pnl = day_pnl({"700": 100}, {"700": D("590")}, NO_FILLS, {"700": D("600")})
    assert pnl == DayPnl(trading=D("-1000.00"), fees=D("0.00"), total=D("-1000.00"))


def test_a_round_trip_today_counts_its_realized_loss_and_fees() -> None:
    today = fills(("700", "BUY", 100, "600", "60"), ("700", "SELL", 100, "590", "59"))
    pnl = day_pnl({}, {}, today, {})
    assert pnl.trading == D("-1000.00") and pnl.fees == D("119.00") and pnl.total == D("-1119.00")


def test_a_position_opened_today_is_marked_from_its_fill_price() -> None:
    today = fills(("388", "BUY", 100, "400", "40"))
    pnl = day_pnl({"388": 100}, {"388": D("410")}, today, {"388": D("380")})
    assert pnl.total == D("960.00")  # (410-400)*100 - 40; the previous close plays no part


def test_a_short_gains_when_the_price_falls() -> None:
    today = fills(("5", "SELL", 400, "110", "0"))
    assert day_pnl({"5": -400}, {"5": D("100")}, today, {}).total == D("4000.00")


def test_a_held_symbol_without_a_price_is_refused() -> None:
    with pytest.raises(RiskInputError, match="no current price for 700"):
        day_pnl({"700": 100}, {}, NO_FILLS, {"700": D("600")})


def test_the_binding_limit_is_the_smaller_of_absolute_and_percentage() -> None:
    limits = RiskLimits(daily_loss_limit=D("20000"), daily_loss_fraction=D("0.03"))
    assert loss_limit(D("1000000"), limits) == D("20000")
    assert loss_limit(D("500000"), limits) == D("15000.00")


def test_a_loss_at_the_limit_trips_the_breaker() -> None:
    limits = RiskLimits(daily_loss_limit=D("1000"), daily_loss_fraction=None)
    decision = evaluate_breaker(DayPnl(D("-900"), D("100"), D("-1000")), D("1000000"), limits)
    assert decision.tripped and "1,000.00 HKD" in decision.reason


def test_a_loss_below_the_limit_does_not_trip() -> None:
    limits = RiskLimits(daily_loss_limit=D("1000"), daily_loss_fraction=None)
    assert not evaluate_breaker(DayPnl(D("-999"), D("0"), D("-999")), D("1000000"), limits).tripped


def test_a_profit_never_trips() -> None:
    assert not evaluate_breaker(DayPnl(D("50000"), D("0"), D("50000")), D("100000"), RiskLimits()).tripped
