"""Plotly figures of the review (frames in, figures out)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from catalyst.cycle.cycle_charts import empty_chart
from catalyst.runs.review_report import ReviewData


def equity_chart(data: ReviewData) -> go.Figure:
    curve = data.equity_curve()
    if curve.empty:
        return empty_chart("Equity change from closed trades", f"no fills in {data.period.label}")
    fig = go.Figure(
        [
            go.Bar(x=[str(d) for d in curve["day"]], y=curve["net"], name="net realized P&L of the day"),
            go.Scatter(
                x=[str(d) for d in curve["day"]],
                y=curve["cumulative_net"],
                name="cumulative",
                mode="lines+markers",
            ),
        ]
    )
    # one bar per trading day: a category axis (a date axis zooms a single day into milliseconds)
    fig.update_layout(
        title="Equity change from closed trades (HKD, after fees)", height=360, xaxis={"type": "category"}
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
