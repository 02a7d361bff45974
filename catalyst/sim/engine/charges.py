"""What each simulated execution costs: IB's fixed commission plus HK levies and stamp duty.

All the rates and rounding live in ``catalyst.market.fees``; this module only decides how a
multi-execution order is charged:

* ``commission_minimum_per_order`` (default True): IB's HK$18 minimum applies once per order, so
  each execution is charged the order's cumulative commission so far minus what earlier executions
  of the order were already charged (the first partial fill pays the minimum, later ones pay the
  excess, if any).
* ``stamp_duty_per_execution`` (default True, [U]): stamp duty is computed and rounded up to the
  dollar on each execution; False charges it on the order's cumulative value instead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from catalyst.market import FIXED, FeeBreakdown, fill_fees, security
from catalyst.market.fees import stamp_duty_for
from catalyst.sim.engine.behaviour import SimBehaviour

ZERO = Decimal("0.00")


@dataclass
class OrderCosts:
    """What an order's executions have been charged so far."""

    value: Decimal = ZERO
    commission: Decimal = ZERO
    stamp: Decimal = ZERO


def execution_charges(
    symbol: str, shares: int, price: Decimal, day: date, costs: OrderCosts, behaviour: SimBehaviour
) -> FeeBreakdown:
    """The charges of one execution of an order that has been charged ``costs`` so far; updates ``costs``."""
    single = fill_fees(symbol, shares, price, plan=FIXED, on=day)
    value = costs.value + price * shares
    commission = single.commission
    if behaviour.commission_minimum_per_order:
        commission = max(FIXED.commission(value) - costs.commission, ZERO)
    stamp = single.stamp_duty
    if not behaviour.stamp_duty_per_execution and security(symbol).stamp_duty:
        stamp = max(stamp_duty_for(value, day) - costs.stamp, ZERO)
    total = single.total - single.commission - single.stamp_duty + commission + stamp
    costs.value = value
    costs.commission += commission
    costs.stamp += stamp
    return replace(single, commission=commission, stamp_duty=stamp, total=total)
