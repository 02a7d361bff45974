"""Plotly figures of a cycle and a reconciliation (values in, figures out)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from catalyst.cycle.report import CycleReport


def empty_chart(title: str, note: str) -> go.Figure:
    """A titled, axis-less figure that says why there is nothing to plot (a chart never just vanishes)."""
    fig = go.Figure()
    fig.update_layout(
        title=title,
        xaxis={"visible": False},
        yaxis={"visible": False},
        height=260,
        annotations=[{"text": note, "showarrow": False, "font": {"size": 15}}],
    )
    return fig


def brackets_chart(report: CycleReport) -> go.Figure:
    """Entry, stop and target of every sized intent (sent, dry-run or refused), per symbol."""
    frame = report.verdicts
    if frame is None or frame.empty:
        return empty_chart("Brackets", f"no brackets this cycle ({report.status})")
    fig = go.Figure()
    labels = [f"{s} {side}" for s, side in zip(frame["symbol"], frame["side"], strict=True)]
    for col, color in (("stop", "#d62728"), ("entry", "#1f77b4"), ("target", "#2ca02c")):
        fig.add_trace(
            go.Scatter(
                x=labels,
                y=[float(v) for v in frame[col]],
                mode="markers",
                name=col,
                marker={
                    "size": 12,
                    "color": color,
                    "symbol": "line-ew-open",
                    "line": {"width": 3, "color": color},
                },
            )
        )
    fig.update_layout(
        title="Brackets: stop / entry / target (HKD) per intent",
        height=380,
        xaxis_title="intent",
        yaxis_title="price (HKD)",
    )
    return fig


def outcome_chart(report: CycleReport) -> go.Figure:
    """How many intents ended in each outcome: proven, not proven, refused by stage, dry run."""
    counts: dict[str, int] = {}
    if len(report.sent):
        for outcome, n in report.sent["outcome"].value_counts().items():
            counts[str(outcome)] = int(n)
    if len(report.refused):
        for stage, n in report.refused["stage"].value_counts().items():
            if stage == "pre-trade":
                counts["refused: pre-trade"] = int(n)
    if not counts:
        return empty_chart("Outcomes", f"nothing sent or refused ({report.status})")
    fig = go.Figure(
        go.Bar(
            x=list(counts),
            y=list(counts.values()),
            marker_color=["#2ca02c" if k == "proven" else "#ff7f0e" for k in counts],
        )
    )
    fig.update_layout(title="Outcome of each intent", height=320, yaxis_title="intents")
    return fig


def positions_chart(positions: pd.DataFrame, title: str = "Positions after the cycle") -> go.Figure:
    if positions is None or positions.empty:
        return empty_chart(title, "no open positions")
    qty = positions.groupby(positions["symbol"].astype(str))["quantity"].sum()
    fig = go.Figure(go.Bar(x=list(qty.index), y=[int(v) for v in qty.values], marker_color="#1f77b4"))
    fig.update_layout(title=title, height=320, xaxis_title="symbol", yaxis_title="shares (signed)")
    return fig


def broker_vs_ledger_chart(broker_positions: pd.DataFrame, ledger_positions: pd.DataFrame) -> go.Figure:
    """Quantities per symbol as the broker and the ledger hold them (after corrections)."""

    def by_symbol(frame: pd.DataFrame) -> Any:
        if frame is None or frame.empty:
            return pd.Series(dtype="int64")
        return frame.groupby(frame["symbol"].astype(str))["quantity"].sum()

    b, led = by_symbol(broker_positions), by_symbol(ledger_positions)
    symbols = sorted(set(b.index) | set(led.index))
    if not symbols:
        return empty_chart("Broker vs ledger", "no positions on either side")
    fig = go.Figure(
        [
            go.Bar(name="broker", x=symbols, y=[int(b.get(s, 0)) for s in symbols]),
            go.Bar(name="ledger", x=symbols, y=[int(led.get(s, 0)) for s in symbols]),
        ]
    )
    fig.update_layout(barmode="group", title="Positions: broker vs ledger", height=340, yaxis_title="shares")
    return fig


def reconciliation_history_chart(history: pd.DataFrame) -> go.Figure:
    if history is None or history.empty:
        return empty_chart("Reconciliation history", "no reconciliations on record")
    h = history.sort_values("ts")
    fig = go.Figure(
        go.Scatter(
            x=h["ts"],
            y=h["discrepancies"].fillna(0),
            mode="lines+markers",
            text=h["status"],
            name="discrepancies",
        )
    )
    fig.update_layout(title="Discrepancies found per reconciliation", height=320, yaxis_title="discrepancies")
    return fig
