"""The review's open positions carry their average cost and their unrealized P&L at the last price,
and the equity chart includes it: a day that leaves positions open does not read as fees only."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pandas as pd
import pytest

from catalyst.runs.review_charts import equity_chart
from catalyst.runs.review_marks import mark_price, mark_source
from catalyst.runs.review_report import MARK_COLUMNS, ReviewData, ReviewPeriod, cost_basis

DAY = date(2026, 11, 24)


def _fills(rows: list[tuple[str, str, int, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "ts": pd.Timestamp(f"2026-11-24 {hhmm}", tz="UTC"),
                "account": "DU1",
                "symbol": symbol,
                "side": side,
                "quantity": qty,
                "price": price,
                "fees": 20.0,
                "exec_id": f"e{i}",
                "order_ref": f"r{i}",
            }
            for i, (hhmm, symbol, side, qty, price) in enumerate(rows)
        ]
    )


def _review(fills: pd.DataFrame, positions: list[dict[str, object]], marks: dict[str, float]) -> ReviewData:
    empty = pd.DataFrame()
    return ReviewData(
        period=ReviewPeriod(DAY, DAY),
        fills=fills,
        orders=pd.DataFrame(columns=["symbol", "role", "status", "order_ref"]),
        positions=pd.DataFrame(positions),
        risk_events=empty,
        alerts=empty,
        reconciliations=pd.DataFrame(columns=["status", "ts"]),
        runs=pd.DataFrame(columns=["run", "kind", "mode", "status", "verifies", "failure"]),
    ).with_marks(
        pd.DataFrame(
            [(s, Decimal(str(p)), "2026-11-24T08:00:00+00:00", "broker last") for s, p in marks.items()],
            columns=MARK_COLUMNS,
        )
    )


#: Two buys of 700 (average 101) and a short of 5, all still open at the end of the day.
FILLS = _fills(
    [
        ("02:00", "700", "BUY", 100, 100.0),
        ("02:30", "700", "BUY", 100, 102.0),
        ("03:00", "5", "SELL", 400, 60.0),
    ]
)
BOOK = [
    {
        "account": "DU1",
        "symbol": "700",
        "quantity": 200,
        "avg_cost": None,
        "stop_price": 95,
        "target_price": 110,
    },
    {
        "account": "DU1",
        "symbol": "5",
        "quantity": -400,
        "avg_cost": None,
        "stop_price": 63,
        "target_price": 55,
    },
]


def test_cost_basis_is_what_the_fills_leave_open_at_their_average_price() -> None:
    basis = cost_basis(FILLS).set_index("symbol")
    assert basis.loc["700", "quantity"] == 200 and basis.loc["700", "avg_cost"] == pytest.approx(101.0)
    assert basis.loc["5", "quantity"] == -400 and basis.loc["5", "avg_cost"] == pytest.approx(60.0)


def test_open_positions_show_average_cost_from_the_fills_when_the_ledger_has_none() -> None:
    opened = _review(FILLS, BOOK, {"700": 104.0, "5": 59.5}).open_positions().set_index("symbol")
    assert opened.loc["700", "avg_cost"] == pytest.approx(101.0)
    assert opened.loc["5", "avg_cost"] == pytest.approx(60.0)


def test_unrealized_pnl_is_the_last_price_less_the_average_cost_times_the_signed_quantity() -> None:
    review = _review(FILLS, BOOK, {"700": 104.0, "5": 59.5})
    opened = review.open_positions().set_index("symbol")
    assert opened.loc["700", "unrealized"] == pytest.approx(600.0)  # (104 - 101) x 200
    assert opened.loc["5", "unrealized"] == pytest.approx(200.0)  # (59.5 - 60) x -400
    assert review.unrealized_total() == pytest.approx(800.0)
    summary = dict(review.summary().itertuples(index=False))
    assert summary["unrealized P&L at the last price (HKD)"] == "800.0"


def test_the_equity_curve_and_chart_include_the_unrealized_pnl_on_the_last_day() -> None:
    review = _review(FILLS, BOOK, {"700": 104.0, "5": 59.5})
    curve = review.equity_curve()
    assert curve["cumulative_net"].iloc[-1] == pytest.approx(-60.0)  # fees only: nothing closed
    assert curve["equity_change"].iloc[-1] == pytest.approx(740.0)
    names = [trace.name for trace in equity_chart(review).data]
    assert "equity change incl. unrealized" in names


def test_without_a_price_a_position_is_not_marked_and_the_summary_says_so() -> None:
    review = _review(FILLS, BOOK, {})
    opened = review.open_positions()
    assert opened["unrealized"].isna().all() and opened["avg_cost"].notna().all()
    summary = dict(review.summary().itertuples(index=False))
    assert summary["unrealized P&L at the last price (HKD)"].startswith("not marked")


def test_a_position_is_marked_at_the_last_trade_else_the_close_else_the_midpoint() -> None:
    def quote(last: str | None, close: str | None, bid: str, ask: str) -> SimpleNamespace:
        d = {
            k: Decimal(v) if v else None
            for k, v in {"last": last, "close": close, "bid": bid, "ask": ask}.items()
        }
        return SimpleNamespace(**d)

    assert mark_price(quote("10.2", "10", "10.1", "10.3")) == (Decimal("10.2"), "last")
    assert mark_price(quote(None, "10", "10.1", "10.3")) == (Decimal("10"), "close")
    assert mark_price(quote(None, None, "10.1", "10.3")) == (Decimal("10.2"), "mid")


def test_a_mark_from_delayed_or_frozen_data_says_so() -> None:
    assert mark_source(SimpleNamespace(data_type="live"), "last") == "broker last"
    assert mark_source(SimpleNamespace(data_type="delayed"), "last") == "broker last (delayed)"
    frozen = SimpleNamespace(data_type="delayed-frozen")
    assert mark_source(frozen, "close") == "broker close (delayed-frozen)"
