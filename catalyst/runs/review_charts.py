"""Plotly figures of the review (frames in, figures out)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from catalyst.cycle.charts import empty_chart
from catalyst.runs.review_report import ReviewData


def equity_chart(data: ReviewData) -> go.Figure:
    """Net realized P&L by day, its running total, and the change in equity with the open positions
    marked at their last price (so a day with open positions does not read as fees only)."""
    curve = data.equity_curve()
    if curve.empty:
        return empty_chart("Equity change", f"no fills and no open positions in {data.period.label}")
    days = [str(d) for d in curve["day"]]
    traces = [
        go.Bar(x=days, y=curve["net"], name="net realized P&L of the day"),
        go.Scatter(x=days, y=curve["cumulative_net"], name="cumulative realized", mode="lines+markers"),
    ]
    if curve["unrealized"].astype(float).abs().sum() > 0:
        traces += [
            go.Bar(x=days, y=curve["unrealized"], name="unrealized (open positions at the last price)"),
            go.Scatter(
                x=days, y=curve["equity_change"], name="equity change incl. unrealized", mode="lines+markers"
            ),
        ]
    fig = go.Figure(traces)
    # one bar per trading day: a category axis (a date axis zooms a single day into milliseconds)
    fig.update_layout(
        title="Equity change: realized after fees, and open positions marked at the last price (HKD)",
        height=360,
        xaxis={"type": "category"},
        barmode="relative",
    )
    return fig


def pnl_by_symbol_chart(data: ReviewData) -> go.Figure:
    by = data.pnl_by_symbol()
    if by.empty:
        return empty_chart("P&L by symbol", f"no fills in {data.period.label}")
    fig = go.Figure(
        [
            go.Bar(x=by["symbol"].astype(str), y=by["realized"], name="realized"),
            go.Bar(x=by["symbol"].astype(str), y=-by["fees"], name="fees"),
        ]
    )
    fig.update_layout(barmode="relative", title="Realized P&L and fees by symbol (HKD)", height=360)
    return fig


def fees_chart(data: ReviewData) -> go.Figure:
    f = data.fills_table()
    if f.empty:
        return empty_chart("Fees", f"no fills in {data.period.label}")
    fees = pd.to_numeric(f["fees"], errors="coerce").fillna(0.0)
    fig = go.Figure(
        go.Scatter(
            x=pd.to_datetime(f["ts"], utc=True),
            y=fees.cumsum(),
            mode="lines+markers",
            text=f["symbol"].astype(str),
            name="cumulative fees",
        )
    )
    fig.update_layout(title="Cumulative fees (commission, stamp duty, levies; HKD)", height=320)
    return fig


def risk_events_chart(data: ReviewData) -> go.Figure:
    ev = data.period_risk_events()
    if ev.empty:
        return empty_chart("Risk events", f"no risk events in {data.period.label}")
    counts = ev.groupby(["kind", "severity"]).size().reset_index(name="n")
    fig = go.Figure([go.Bar(x=g["kind"], y=g["n"], name=str(sev)) for sev, g in counts.groupby("severity")])
    fig.update_layout(barmode="stack", title="Risk events by kind", height=320)
    return fig


def runs_chart(data: ReviewData) -> go.Figure:
    runs = data.runs
    if runs.empty:
        return empty_chart("Archived runs", f"no runs archived in {data.period.label}")
    counts = runs.groupby(["kind", "status"]).size().reset_index(name="n")
    fig = go.Figure([go.Bar(x=g["kind"], y=g["n"], name=str(st)) for st, g in counts.groupby("status")])
    fig.update_layout(barmode="stack", title="Archived runs by kind and status", height=300)
    return fig
