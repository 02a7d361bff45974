"""Layer 3: the daily circuit breaker's arithmetic. Pure; the monitor does the cancelling.

Day P&L for the HKEX trading day, fees included, realized and unrealized together:

    P&L = sum over symbols of (value now - value at start of day - net cash paid for today's fills)
          - today's fees

where value now = quantity now x current price, value at start of day = (quantity now - net
quantity bought today) x previous close. This needs no average-cost bookkeeping and counts a
position carried overnight from the previous close, as a broker's daily P&L does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from catalyst.risk.errors import RiskInputError
from catalyst.risk.limits import RiskLimits

_SIGN = {"BUY": 1, "BOT": 1, "SELL": -1, "SLD": -1}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class DayPnl:
    trading: Decimal  # mark-to-market of positions and today's fills, before fees
    fees: Decimal
    total: Decimal  # trading - fees

    def __str__(self) -> str:
        return f"{self.total:,.2f} HKD (trading {self.trading:,.2f}, fees {self.fees:,.2f})"


def day_pnl(
    positions: Mapping[str, int],
    prices: Mapping[str, Decimal],
    fills_today: pd.DataFrame,
    previous_close: Mapping[str, Decimal],
) -> DayPnl:
    """P&L since the start of the trading day.

    ``positions``: signed quantity per symbol now; ``prices``: current price per symbol (every
    held symbol needs one); ``fills_today``: columns symbol, side, quantity, price, fees;
    ``previous_close``: reference price of quantities held at the start of the day.
    """
    fills = fills_today if fills_today is not None else pd.DataFrame()
    bought: dict[str, int] = {}
    cash: dict[str, Decimal] = {}
    fees = Decimal(0)
    row: Any
    for row in fills.itertuples(index=False):
        sign = _SIGN.get(str(row.side).upper())
        if sign is None:
            raise RiskInputError(f"fill with unknown side {row.side!r}; expected BUY or SELL")
        qty = int(row.quantity)
        sym = str(row.symbol)
        bought[sym] = bought.get(sym, 0) + sign * qty
        cash[sym] = cash.get(sym, Decimal(0)) + sign * qty * Decimal(str(row.price))
        fee = getattr(row, "fees", None)
        if fee is not None and not pd.isna(fee):
            fees += Decimal(str(fee))
    trading = Decimal(0)
    for sym in set(positions) | set(bought):
        now_qty = int(positions.get(sym, 0))
        start_qty = now_qty - bought.get(sym, 0)
        value_now = Decimal(0)
        if now_qty:
            if sym not in prices:
                raise RiskInputError(f"no current price for {sym}; cannot value the position for the breaker")
            value_now = now_qty * Decimal(prices[sym])
        value_start = Decimal(0)
        if start_qty:
            ref = previous_close.get(sym, prices.get(sym))
            if ref is None:
                raise RiskInputError(f"no previous close for {sym}; cannot value the start-of-day position")
            value_start = start_qty * Decimal(ref)
        trading += value_now - value_start - cash.get(sym, Decimal(0))
    trading = trading.quantize(CENT)
    fees = fees.quantize(CENT)
    return DayPnl(trading=trading, fees=fees, total=trading - fees)


@dataclass(frozen=True)
class BreakerDecision:
    tripped: bool
    reason: str
    loss_limit: Decimal | None  # the binding limit in HKD (the smaller one), None if no limit set


def loss_limit(start_equity: Decimal, limits: RiskLimits) -> Decimal | None:
    """The day's allowed loss in HKD: the smaller of the absolute and the percentage limit."""
    candidates = []
    if limits.daily_loss_limit is not None:
        candidates.append(limits.daily_loss_limit)
    if limits.daily_loss_fraction is not None:
        if start_equity <= 0:
            raise RiskInputError(f"start-of-day equity must be positive, got {start_equity}")
        candidates.append((limits.daily_loss_fraction * start_equity).quantize(CENT))
    return min(candidates) if candidates else None


def evaluate_breaker(pnl: DayPnl, start_equity: Decimal, limits: RiskLimits) -> BreakerDecision:
    """Trip when the day's loss reaches the limit (a loss equal to the limit trips)."""
    limit = loss_limit(start_equity, limits)
    if limit is None:
        return BreakerDecision(False, "no daily loss limit configured", None)
    if -pnl.total >= limit:
        return BreakerDecision(
            True, f"day P&L {pnl} breached the daily loss limit of {limit:,.2f} HKD", limit
        )
    return BreakerDecision(False, f"day P&L {pnl}; limit {limit:,.2f} HKD", limit)
