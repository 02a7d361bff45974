"""Plotly tear sheets of backtests: equity, drawdown, exposure, trade P&L, and comparisons."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from catalyst.research.backtest_result import BacktestResult


def _daily(result: BacktestResult) -> pd.DataFrame:
    eq = result.equity
    if eq.empty:
        return eq
    daily = eq.groupby(pd.DatetimeIndex(eq.index).date).last()
    daily.index = pd.to_datetime(daily.index)
    return daily


def stats_table(result: BacktestResult) -> pd.DataFrame:
    """The summary figures as a two-column table (figure, value) for display."""
    s = result.stats
    rows = [
        ("total return", f"{s['total_return']:.2%}"),
        ("max drawdown", f"{s['max_drawdown']:.2%}"),
        ("Sharpe (daily, annualised)", f"{s['sharpe']:.2f}"),
        ("trades", f"{s['trades']}"),
        ("expired entries", f"{s['expired_entries']}"),
        ("win rate", f"{s['win_rate']:.1%}"),
        ("net P&L (HKD)", f"{s['net_pnl']:,.2f}"),
        ("fees (HKD)", f"{s['fees']:,.2f}"),
        ("turnover (x mean equity)", f"{s['turnover']:.2f}"),
        ("mean exposure", f"{s['exposure']:.1%}"),
        ("bars", f"{s['bars']:,}"),
        ("bars per second", f"{s['bars_per_second']:,.0f}"),
    ]
    return pd.DataFrame(rows, columns=["figure", "value"])


def tearsheet(result: BacktestResult, *, title: str | None = None) -> go.Figure:
    """Equity, drawdown and exposure by session, trade P&L, and the summary figures."""
    daily = _daily(result)
    fig = make_subplots(
        rows=3,
        cols=2,
        column_widths=[0.68, 0.32],
        vertical_spacing=0.08,
        horizontal_spacing=0.08,
        specs=[[{}, {"type": "table", "rowspan": 2}], [{}, None], [{}, {}]],
        subplot_titles=(
            "Equity (HKD)",
            "Summary",
            "Drawdown",
            "Gross exposure / equity",
            "Net P&L per trade",
        ),
    )
    if not daily.empty:
        fig.add_trace(go.Scatter(x=daily.index, y=daily["equity"], name="equity", line={"width": 1.5}), 1, 1)
        fig.add_trace(
            go.Scatter(
                x=daily.index,
                y=daily["drawdown"],
                name="drawdown",
                fill="tozeroy",
                line={"color": "firebrick", "width": 1},
            ),
            2,
            1,
        )
        fig.add_trace(
            go.Scatter(
                x=daily.index,
                y=daily["gross_exposure"] / daily["equity"],
                name="exposure",
                line={"color": "darkorange", "width": 1},
            ),
            3,
            1,
        )
    filled = result.trades.loc[result.trades["entry_reason"] != "expired"]
    if not filled.empty:
        fig.add_trace(
            go.Histogram(
                x=[float(x) for x in filled["net_pnl"]],
                name="trade P&L",
                nbinsx=30,
                marker={"color": "steelblue"},
            ),
            3,
            2,
        )
    table = stats_table(result)
    fig.add_trace(
        go.Table(header={"values": ["figure", "value"]}, cells={"values": [table["figure"], table["value"]]}),
        1,
        2,
    )
    name = result.strategy.get("strategy", "strategy")
    fig.update_layout(
        title=title or f"{name}: backtest tear sheet", height=800, showlegend=False, template="plotly_white"
    )
    fig.update_yaxes(tickformat=".1%", row=2, col=1)
    fig.update_yaxes(tickformat=".0%", row=3, col=1)
    return fig


def compare_equity(
    results: Mapping[str, BacktestResult], *, title: str = "Equity by parameter set"
) -> go.Figure:
    """One equity line per labelled result (e.g. per parameter set)."""
    fig = go.Figure()
    for label, result in results.items():
        daily = _daily(result)
        if not daily.empty:
            fig.add_trace(go.Scatter(x=daily.index, y=daily["equity"], name=str(label)))
    fig.update_layout(title=title, template="plotly_white", height=450, yaxis_title="HKD")
    return fig


def write_tearsheet(result: BacktestResult, path: Path | str) -> Path:
    """The tear sheet as a standalone HTML file (plotly.js from the CDN keeps it small)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tearsheet(result).write_html(out, include_plotlyjs="cdn")
    return out
