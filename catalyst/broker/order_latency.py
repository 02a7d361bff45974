"""Placement-to-acknowledgement and placement-to-fill latencies, from ledger timestamps."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from catalyst.ledger import Ledger


@dataclass(frozen=True)
class LatencyReport:
    """Milliseconds; None when there is nothing to measure."""

    orders: int
    acknowledged: int
    filled: int
    ack_p50_ms: float | None
    ack_p95_ms: float | None
    fill_p50_ms: float | None
    fill_p95_ms: float | None


def _quantiles(series: pd.Series) -> tuple[float | None, float | None]:
    s = series.dropna()
    if s.empty:
        return None, None
    return float(s.quantile(0.5)), float(s.quantile(0.95))


def latency_report(ledger: Ledger, *, run_id: str | None = None, account: str | None = None) -> LatencyReport:
    """p50/p95 of acknowledged_at - placed_at and first_fill_at - placed_at over the orders we placed."""
    where = ["placed_at IS NOT NULL"]
    params: list[object] = []
    if run_id is not None:
        where.append("run_id = ?")
        params.append(run_id)
    if account is not None:
        where.append("account = ?")
        params.append(account)
    df = ledger.query(
        "SELECT epoch_ms(acknowledged_at) - epoch_ms(placed_at) AS ack_ms, "
        "epoch_ms(first_fill_at) - epoch_ms(placed_at) AS fill_ms FROM orders WHERE " + " AND ".join(where),
        params,
    )
    if df.empty:
        return LatencyReport(0, 0, 0, None, None, None, None)
    ack = pd.to_numeric(df["ack_ms"], errors="coerce")
    fill = pd.to_numeric(df["fill_ms"], errors="coerce")
    a50, a95 = _quantiles(ack)
    f50, f95 = _quantiles(fill)
    return LatencyReport(
        orders=len(df),
        acknowledged=int(ack.notna().sum()),
        filled=int(fill.notna().sum()),
        ack_p50_ms=a50,
        ack_p95_ms=a95,
        fill_p50_ms=f50,
        fill_p95_ms=f95,
    )
