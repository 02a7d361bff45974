"""The review's P&L: average-cost realized P&L per fill, fees subtracted, by day and symbol."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from catalyst.runs.review_report import realized_pnl, review_period
from catalyst.runs.errors import BadRunParameterError


def _fills(rows: list[tuple[str, str, int, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "ts": pd.Timestamp(ts, tz="UTC"),
                "account": "DU1",
                "symbol": "700",
                "side": side,
                "quantity": q,
                "price": p,
                "fees": f,
                "exec_id": f"e{i}",
            }
            for i, (ts, side, q, p, f) in enumerate(rows)
        ]
    )


def test_a_round_trip_realizes_the_price_difference_times_quantity() -> None:
    out = realized_pnl(
        _fills([("2026-11-24 02:00", "BUY", 200, 10.0, 5.0), ("2026-11-24 03:00", "SELL", 200, 10.5, 6.0)])
    )
    assert out["realized"].tolist() == [0.0, 100.0]
    assert out["net"].tolist() == [-5.0, 94.0]


def test_cost_basis_is_the_average_of_the_buys() -> None:
    out = realized_pnl(
        _fills(
            [
                ("2026-11-24 02:00", "BUY", 100, 10.0, 0.0),
                ("2026-11-24 02:30", "BUY", 100, 12.0, 0.0),
                ("2026-11-24 03:00", "SELL", 100, 12.0, 0.0),
            ]
        )
    )
    assert out["realized"].tolist()[-1] == pytest.approx(100.0)


def test_a_short_round_trip_gains_when_the_price_falls() -> None:
    out = realized_pnl(
        _fills([("2026-11-24 02:00", "SELL", 100, 10.0, 0.0), ("2026-11-24 03:00", "BUY", 100, 9.0, 0.0)])
    )
    assert out["realized"].tolist()[-1] == pytest.approx(100.0)


def test_a_period_is_the_days_ending_on_the_given_day() -> None:
    period = review_period("2026-11-24", 3)
    assert (period.start, period.end, period.label) == (
        date(2026, 11, 22),
        date(2026, 11, 24),
        "2026-11-22 to 2026-11-24",
    )


def test_a_bad_day_is_named() -> None:
    with pytest.raises(BadRunParameterError, match="2026-13-01"):
        review_period("2026-13-01")
