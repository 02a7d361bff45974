"""What a fill on SEHK costs: IB commission plus the Hong Kong levies and stamp duty, in HKD.

Source: ``hkex-rules.md`` §4. Every item is a Decimal rounded as the rules say: stamp duty is
rounded **up** to the whole dollar; every other item to the cent, half up (the rules say "nearest
cent"; half-up is assumed [U]). Rules that changed are dated and chosen by ``on=`` (default: today
in Hong Kong):

* stamp duty 0.10% from 2023-11-17, 0.13% from 2021-08-01, 0.10% before that; none for ETFs
  (the security's ``stamp_duty`` flag);
* HKEX trading fee 0.00565% from 2023-01-01; before, 0.005% plus a HK$0.50 trading tariff per trade;
* AFRC levy 0.00015% from 2022-01-01 (none before); SFC levy 0.0027%;
* HKSCC settlement fee 0.0042% (no minimum or maximum) from 2025-06-30; before, 0.002% with a
  minimum of HK$2 and a maximum of HK$100.

IB commission plans (§4, S-IBcomm):

* **fixed**: 0.08% of trade value, minimum HK$18; it *includes* the exchange (trading) and clearing
  (settlement) fees, so those two lines are zero in the breakdown and only the SFC/AFRC levies and
  stamp duty are added;
* **tiered**: a rate and minimum chosen by the month's traded value so far; exchange, clearing and
  regulatory fees and stamp duty are all passed through.

Simplifications: the minimum commission is applied per call (IB applies it per order, so several
partial fills of one order overstate it); stamp duty is computed per fill (per contract note is [U]).
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Literal

from catalyst.market.errors import BoardLotError, PriceOutOfRangeError
from catalyst.market.hk_timezone import as_hk_date
from catalyst.market.spread_table import as_price
from catalyst.market.universe import security

D = Decimal
ZERO = D(0)
CENT = D("0.01")
DOLLAR = D("1")

#: Tiered plan: (monthly traded value up to and including, rate, minimum per order); last tier open.
TIERS: tuple[tuple[Decimal | None, Decimal, Decimal], ...] = (
    (D("15000000"), D("0.0005"), D("18.00")),
    (D("300000000"), D("0.0005"), D("12.00")),
    (D("900000000"), D("0.0003"), D("8.00")),
    (D("2000000000"), D("0.0002"), D("6.00")),
    (None, D("0.00015"), D("4.00")),
)
FIXED_RATE = D("0.0008")
FIXED_MINIMUM = D("18.00")

SFC_LEVY_RATE = D("0.000027")
AFRC_LEVY_RATE = D("0.0000015")
AFRC_LEVY_FROM = date(2022, 1, 1)
TRADING_FEE_RATE = D("0.0000565")
TRADING_FEE_FROM = date(2023, 1, 1)
OLD_TRADING_FEE_RATE = D("0.00005")
OLD_TRADING_TARIFF = D("0.50")
SETTLEMENT_FEE_RATE = D("0.000042")
SETTLEMENT_FEE_FROM = date(2025, 6, 30)
OLD_SETTLEMENT_RATE = D("0.00002")
OLD_SETTLEMENT_MIN = D("2.00")
OLD_SETTLEMENT_MAX = D("100.00")
STAMP_DUTY_RATES: tuple[tuple[date, Decimal], ...] = (  # (from, rate), latest first
    (date(2023, 11, 17), D("0.001")),
    (date(2021, 8, 1), D("0.0013")),
    (date(1900, 1, 1), D("0.001")),
)

_CTX = decimal.Context(prec=40)


def _cents(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP, context=_CTX)


@dataclass(frozen=True)
class CommissionPlan:
    """An IB commission plan for SEHK stocks; ``monthly_value`` picks the tier of a tiered plan."""

    kind: Literal["fixed", "tiered"] = "fixed"
    monthly_value: Decimal = ZERO

    def __post_init__(self) -> None:
        if self.kind not in ("fixed", "tiered"):
            raise ValueError(f"commission plan must be 'fixed' or 'tiered', got {self.kind!r}")
        value = as_price(self.monthly_value)
        if value < 0:
            raise ValueError(f"monthly traded value {value} must not be negative")
        object.__setattr__(self, "monthly_value", value)

    @classmethod
    def tiered(cls, monthly_value: Decimal = ZERO) -> CommissionPlan:
        """A tiered plan at the tier for ``monthly_value`` HKD already traded this month."""
        return cls("tiered", monthly_value)

    @property
    def includes_exchange_fees(self) -> bool:
        """Fixed pricing bundles the HKEX trading fee and HKSCC settlement fee into the commission."""
        return self.kind == "fixed"

    def rate_and_minimum(self) -> tuple[Decimal, Decimal]:
        """(rate on trade value, minimum per order) of this plan."""
        if self.kind == "fixed":
            return FIXED_RATE, FIXED_MINIMUM
        for upto, rate, minimum in TIERS:
            if upto is None or self.monthly_value <= upto:
                return rate, minimum
        raise AssertionError("the last tier is open-ended")  # pragma: no cover

    def commission(self, trade_value: Decimal) -> Decimal:
        """IB commission on one order of ``trade_value`` HKD, to the cent."""
        rate, minimum = self.rate_and_minimum()
        return max(_cents(as_price(trade_value) * rate), minimum)


FIXED = CommissionPlan("fixed")
TIERED = CommissionPlan("tiered")


@dataclass(frozen=True)
class FeeBreakdown:
    """The cost of one fill, item by item, in HKD; ``total`` is their sum."""

    commission: Decimal
    stamp_duty: Decimal
    sfc_levy: Decimal
    afrc_levy: Decimal
    trading_fee: Decimal
    settlement_fee: Decimal
    total: Decimal


def stamp_duty_rate(on: date) -> Decimal:
    """Stamp duty rate per side on ``on``."""
    for since, rate in STAMP_DUTY_RATES:
        if on >= since:
            return rate
    raise AssertionError("the first rate has no start")  # pragma: no cover


def stamp_duty_for(consideration: Decimal, on: date) -> Decimal:
    """Stamp duty on ``consideration``: rounded up to the next whole dollar."""
    duty = (consideration * stamp_duty_rate(on)).quantize(DOLLAR, rounding=ROUND_CEILING, context=_CTX)
    return duty.quantize(CENT)


def trading_fee_for(consideration: Decimal, on: date) -> Decimal:
    """HKEX trading fee (plus the per-trade tariff before 2023)."""
    if on >= TRADING_FEE_FROM:
        return _cents(consideration * TRADING_FEE_RATE)
    return _cents(consideration * OLD_TRADING_FEE_RATE) + OLD_TRADING_TARIFF


def settlement_fee_for(consideration: Decimal, on: date) -> Decimal:
    """HKSCC stock settlement fee."""
    if on >= SETTLEMENT_FEE_FROM:
        return _cents(consideration * SETTLEMENT_FEE_RATE)
    fee = _cents(consideration * OLD_SETTLEMENT_RATE)
    return min(max(fee, OLD_SETTLEMENT_MIN), OLD_SETTLEMENT_MAX)


def fill_fees(
    symbol: str,
    quantity: int,
    price: Decimal,
    *,
    plan: CommissionPlan = FIXED,
    stamp_duty: bool | None = None,
    on: date | datetime | None = None,
) -> FeeBreakdown:
    """Every charge on a fill of ``quantity`` shares of ``symbol`` at ``price`` (either side pays alike).

    ``stamp_duty=None`` takes the security's flag from the universe (so a symbol outside the
    universe needs an explicit True/False). ``on`` picks the dated rates (default: today in HK).
    """
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise BoardLotError(f"fill quantity must be a positive whole number of shares, got {quantity!r}")
    p = as_price(price)
    if p <= 0:
        raise PriceOutOfRangeError(f"fill price {p} must be above zero")
    if stamp_duty is None:
        stamp_duty = security(symbol).stamp_duty
    day = as_hk_date(on)
    consideration = p * quantity
    commission = plan.commission(consideration)
    stamp = stamp_duty_for(consideration, day) if stamp_duty else D("0.00")
    sfc = _cents(consideration * SFC_LEVY_RATE)
    afrc = _cents(consideration * AFRC_LEVY_RATE) if day >= AFRC_LEVY_FROM else D("0.00")
    if plan.includes_exchange_fees:
        trading = settlement = D("0.00")
    else:
        trading = trading_fee_for(consideration, day)
        settlement = settlement_fee_for(consideration, day)
    total = commission + stamp + sfc + afrc + trading + settlement
    return FeeBreakdown(commission, stamp, sfc, afrc, trading, settlement, total)
