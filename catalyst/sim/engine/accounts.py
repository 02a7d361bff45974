"""Per-account HKD cash, positions, average cost and P&L, the way IB reports them.

* Cash moves by the consideration of every fill and by everything charged on it.
* Average cost includes the charges, as IB's does: a buy of 100 at 600 with HK$110.71 of fees has
  an average cost of 601.1071; a short's average cost is its proceeds net of fees per share.
* Realized P&L is booked when a position shrinks: (price - average cost) x shares closed, less
  the share of this fill's charges that belongs to the closing part. A fill that goes through zero
  closes the old position and opens the new one at the fill price.
* Values (NetLiquidation, BuyingPower, ...) are computed from the last trade prices handed in.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from catalyst.sim.engine.model import PortfolioItem, Position

_CTX = decimal.Context(prec=34)
AVG_QUANTUM = Decimal("0.00000001")
CENT = Decimal("0.01")


def money(x: Decimal) -> str:
    """A value as IB prints account values: two decimals, no grouping."""
    return str(x.quantize(CENT, context=_CTX))


@dataclass
class Holding:
    symbol: str
    con_id: int
    quantity: int = 0  # signed
    avg_cost: Decimal = Decimal(0)
    realized: Decimal = Decimal(0)


@dataclass
class AccountBook:
    """One account's cash and holdings."""

    account: str
    cash: Decimal
    realized: Decimal = Decimal(0)
    holdings: dict[str, Holding] = field(default_factory=dict)

    def position(self, symbol: str) -> int:
        h = self.holdings.get(symbol)
        return h.quantity if h else 0

    def apply_fill(
        self, symbol: str, con_id: int, sign: int, shares: int, price: Decimal, fees: Decimal
    ) -> Decimal | None:
        """Book a fill (sign +1 buy, -1 sell); returns the realized P&L, or None if nothing closed."""
        if shares <= 0 or sign not in (1, -1):
            raise ValueError(f"a fill needs shares > 0 and sign +-1, got {shares} and {sign}")
        self.cash -= sign * shares * price + fees
        h = self.holdings.setdefault(symbol, Holding(symbol, con_id))
        q0 = h.quantity
        if q0 == 0 or (q0 > 0) == (sign > 0):
            h.avg_cost = self._blend(abs(q0), h.avg_cost, shares, price, sign * fees)
            h.quantity = q0 + sign * shares
            return None
        closing = min(shares, abs(q0))
        closing_fees = _CTX.divide(fees * closing, Decimal(shares))
        direction = 1 if q0 > 0 else -1
        realized = (price - h.avg_cost) * closing * direction - closing_fees
        h.realized += realized
        self.realized += realized
        h.quantity = q0 + sign * shares
        opening = shares - closing
        if opening:
            h.avg_cost = self._blend(0, Decimal(0), opening, price, sign * (fees - closing_fees))
        elif h.quantity == 0:
            h.avg_cost = Decimal(0)
        return realized.quantize(CENT, context=_CTX)

    @staticmethod
    def _blend(q0: int, a0: Decimal, shares: int, price: Decimal, signed_fees: Decimal) -> Decimal:
        total = a0 * q0 + price * shares + signed_fees
        return _CTX.divide(total, Decimal(q0 + shares)).quantize(AVG_QUANTUM, context=_CTX)

    def set_position(self, symbol: str, con_id: int, quantity: int, price: Decimal) -> None:
        """Make the position ``quantity`` without a trade (the drift fault); cash does not move."""
        h = self.holdings.setdefault(symbol, Holding(symbol, con_id))
        if quantity == 0:
            h.avg_cost = Decimal(0)
        elif h.quantity == 0 or (h.quantity > 0) != (quantity > 0):
            h.avg_cost = price
        h.quantity = quantity

    # --- views --------------------------------------------------------------------------------

    def positions(self) -> list[Position]:
        return [
            Position(self.account, h.con_id, h.symbol, h.quantity, h.avg_cost)
            for h in sorted(self.holdings.values(), key=lambda h: h.con_id)
        ]

    def portfolio(self, last: Callable[[str], Decimal]) -> list[PortfolioItem]:
        out: list[PortfolioItem] = []
        for h in sorted(self.holdings.values(), key=lambda h: h.con_id):
            price = last(h.symbol)
            value = price * h.quantity
            unrealized = (price - h.avg_cost) * h.quantity if h.quantity else Decimal(0)
            out.append(
                PortfolioItem(
                    account=self.account,
                    con_id=h.con_id,
                    symbol=h.symbol,
                    position=h.quantity,
                    market_price=price,
                    market_value=value.quantize(CENT, context=_CTX),
                    average_cost=h.avg_cost,
                    unrealized_pnl=unrealized.quantize(CENT, context=_CTX),
                    realized_pnl=h.realized.quantize(CENT, context=_CTX),
                )
            )
        return out

    def values(
        self, last: Callable[[str], Decimal], *, cash_account: bool, leverage: int, reserved: Decimal
    ) -> list[tuple[str, str, str]]:
        """(key, value, currency) rows as IB's updateAccountValue carries them."""
        items = self.portfolio(last)
        long_short = sum((i.market_value for i in items), Decimal(0))
        gross = sum((abs(i.market_value) for i in items), Decimal(0))
        unrealized = sum((i.unrealized_pnl for i in items), Decimal(0))
        net_liq = self.cash + long_short
        buying_power = self.cash - reserved if cash_account else net_liq * leverage - gross - reserved
        available = buying_power if cash_account else net_liq - gross / leverage - reserved
        rows: Mapping[str, Decimal] = {
            "NetLiquidation": net_liq,
            "TotalCashValue": self.cash,
            "CashBalance": self.cash,
            "SettledCash": self.cash,
            "BuyingPower": max(buying_power, Decimal(0)),
            "AvailableFunds": available,
            "ExcessLiquidity": available,
            "EquityWithLoanValue": net_liq,
            "GrossPositionValue": gross,
            "StockMarketValue": long_short,
            "RealizedPnL": self.realized,
            "UnrealizedPnL": unrealized,
            "InitMarginReq": Decimal(0) if cash_account else gross / leverage,
            "MaintMarginReq": Decimal(0) if cash_account else gross / leverage,
        }
        out = [
            ("AccountCode", self.account, ""),
            ("AccountType", "INDIVIDUAL", ""),
            ("Currency", "HKD", "HKD"),
        ]
        out += [(k, money(v), "HKD") for k, v in rows.items()]
        out += [("CashBalance", money(self.cash), "BASE"), ("TotalCashBalance", money(self.cash), "BASE")]
        return out
