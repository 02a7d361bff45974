"""What a backtest produces: trades, the equity curve with drawdown and exposure, and summary figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

#: Columns of ``BacktestResult.trades`` (one row per bracket that was approved and sent).
TRADE_COLUMNS: tuple[str, ...] = (
    "intent_id",
    "symbol",
    "side",
    "quantity",
    "placed_at",
    "entry_limit",
    "stop",
    "target",
    "entry_time",
    "entry_price",
    "entry_reason",
    "entry_fees",
    "exit_time",
    "exit_price",
    "exit_reason",
    "exit_fees",
    "gross_pnl",
    "fees",
    "net_pnl",
    "score",
    "reason",
)


@dataclass(frozen=True)
class BacktestResult:
    """Outcome of one backtest.

    * ``trades``: :data:`TRADE_COLUMNS`; prices, fees and P&L are Decimals (HKD, to the cent).
      An entry that expired unfilled has ``entry_reason == "expired"`` and no exit. A position
      still open when the data ends is marked at the last close with ``exit_reason ==
      "open_at_end"``.
    * ``equity``: indexed by bar end time (HK): ``cash``, ``market_value`` (signed),
      ``gross_exposure``, ``equity``, ``drawdown`` (fraction below the running peak, <= 0).
    * ``rejections``: every intent the pre-trade checks refused, with ``code`` and ``reason``.
    * ``stats``: summary figures (see :func:`summary_stats`).
    """

    trades: pd.DataFrame
    equity: pd.DataFrame
    rejections: pd.DataFrame
    stats: dict[str, Any]
    strategy: dict[str, Any]
    config: dict[str, Any] = field(default_factory=dict)

    def daily_equity(self) -> pd.Series:
        """Equity at each session's last bar."""
        eq = self.equity["equity"]
        return eq.groupby(pd.DatetimeIndex(eq.index).date).last()


def summary_stats(
    trades: pd.DataFrame, equity: pd.DataFrame, initial: Decimal, bars: int, seconds: float
) -> dict[str, Any]:
    """Headline figures: return, drawdown, trade count, win rate, fees, turnover, exposure, Sharpe."""
    filled = trades.loc[trades["entry_reason"] != "expired"] if len(trades) else trades
    eq = equity["equity"] if len(equity) else pd.Series([float(initial)])
    final = float(eq.iloc[-1])
    daily = eq.groupby(pd.DatetimeIndex(eq.index).date).last() if len(equity) else eq
    rets = daily.pct_change().dropna()
    sharpe = float(rets.mean() / rets.std() * np.sqrt(252)) if len(rets) > 1 and rets.std() > 0 else 0.0
    fees = sum((Decimal(x) for x in filled["fees"]), Decimal(0)) if len(filled) else Decimal(0)
    net = sum((Decimal(x) for x in filled["net_pnl"]), Decimal(0)) if len(filled) else Decimal(0)
    traded = Decimal(0)
    for rec in filled.to_dict("records"):
        traded += Decimal(rec["entry_price"]) * int(rec["quantity"])
        if rec["exit_reason"] != "open_at_end":
            traded += Decimal(rec["exit_price"]) * int(rec["quantity"])
    mean_equity = float(eq.mean()) if len(eq) else float(initial)
    wins = int((filled["net_pnl"] > 0).sum()) if len(filled) else 0
    return {
        "initial_capital": initial,
        "final_equity": round(final, 2),
        "total_return": final / float(initial) - 1.0,
        "max_drawdown": float(equity["drawdown"].min()) if len(equity) else 0.0,
        "trades": len(filled),
        "expired_entries": int((trades["entry_reason"] == "expired").sum()) if len(trades) else 0,
        "win_rate": wins / len(filled) if len(filled) else 0.0,
        "net_pnl": net,
        "fees": fees,
        "turnover": float(traded) / mean_equity if mean_equity else 0.0,
        "exposure": float((equity["gross_exposure"] / equity["equity"]).mean()) if len(equity) else 0.0,
        "sharpe": sharpe,
        "bars": bars,
        "seconds": seconds,
        "bars_per_second": bars / seconds if seconds > 0 else float("inf"),
    }
