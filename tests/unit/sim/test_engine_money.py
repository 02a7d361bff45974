"""Fees, cash, positions and P&L of the simulated IB account."""

from __future__ import annotations

from decimal import Decimal

import pytest
from engine_support import ACCOUNT, fills, make_exchange, order

from catalyst.sim.engine.behaviour import SimBehaviour
from catalyst.sim.engine.exchange import Exchange


@pytest.fixture
def ex() -> Exchange:
    return make_exchange()


def _expected_fees(value: Decimal) -> Decimal:
    """IB fixed plan on SEHK by hand (hkex-rules §4): 0.08% min 18, stamp 0.1% rounded up, SFC, AFRC."""
    cent = Decimal("0.01")
    commission = max((value * Decimal("0.0008")).quantize(cent), Decimal(18))
    stamp = (value * Decimal("0.001")).to_integral_value(rounding="ROUND_CEILING")
    sfc = (value * Decimal("0.000027")).quantize(cent, rounding="ROUND_HALF_UP")
    afrc = (value * Decimal("0.0000015")).quantize(cent, rounding="ROUND_HALF_UP")
    return commission + stamp + sfc + afrc


def test_an_execution_is_charged_commission_and_hk_fees_to_the_cent(ex: Exchange) -> None:
    ask = ex.quote("700").ask
    [fill] = fills(ex.place_order(order(1, lmt=ask)))
    assert fill.execution.commission == _expected_fees(ask * 100)


def test_the_commission_minimum_applies_once_per_order_across_partial_fills() -> None:
    ex = make_exchange()
    ex.set_fault("partial-fills", True, pieces=2)
    price = ex.quote("3988").ask
    executed = fills(ex.place_order(order(1, quantity=2000, lmt=price, symbol="3988")))
    assert len(executed) == 2
    commissions = [f.execution.commission for f in executed]
    assert commissions[0] > commissions[1]  # the second pays no further minimum


def test_etf_fills_pay_no_stamp_duty(ex: Exchange) -> None:
    ask = ex.quote("2800").ask
    [fill] = fills(ex.place_order(order(1, quantity=500, lmt=ask, symbol="2800")))
    value = ask * 500
    assert fill.execution.commission == _expected_fees(value) - (value * Decimal("0.001")).to_integral_value(
        rounding="ROUND_CEILING"
    )


def test_a_round_trip_leaves_cash_reduced_by_the_loss_and_fees(ex: Exchange) -> None:
    q = ex.quote("700")
    [buy] = fills(ex.place_order(order(1, lmt=q.ask)))
    [sell] = fills(ex.place_order(order(2, "SELL", lmt=q.bid)))
    spent = buy.execution.price * 100 + buy.execution.commission
    received = sell.execution.price * 100 - sell.execution.commission
    values = {k: v for k, v, c in ex.account_values(ACCOUNT) if c == "HKD"}
    assert Decimal(values["TotalCashValue"]) == Decimal(1_000_000) - spent + received
    assert ex.positions(ACCOUNT)[0].quantity == 0
    assert sell.execution.realized_pnl == (received - spent).quantize(Decimal("0.01"))
    assert Decimal(values["RealizedPnL"]) == (received - spent).quantize(Decimal("0.01"))


def test_average_cost_includes_the_fees_as_ib_reports_it(ex: Exchange) -> None:
    ask = ex.quote("700").ask
    [buy] = fills(ex.place_order(order(1, lmt=ask)))
    [position] = ex.positions(ACCOUNT)
    assert position.avg_cost == ask + buy.execution.commission / 100
    assert buy.execution.realized_pnl is None


def test_portfolio_values_the_position_at_the_last_price(ex: Exchange) -> None:
    ex.place_order(order(1, lmt=ex.quote("700").ask))
    [item] = ex.portfolio(ACCOUNT)
    last = ex.quote("700").last
    assert item.position == 100 and item.market_price == last
    assert item.market_value == last * 100
    assert item.unrealized_pnl == ((last - item.average_cost) * 100).quantize(Decimal("0.01"))


def test_account_values_carry_ibs_keys(ex: Exchange) -> None:
    keys = {k for k, _v, _c in ex.account_values(ACCOUNT)}
    assert {
        "NetLiquidation",
        "TotalCashValue",
        "BuyingPower",
        "AvailableFunds",
        "ExcessLiquidity",
        "GrossPositionValue",
        "RealizedPnL",
        "UnrealizedPnL",
        "EquityWithLoanValue",
        "AccountType",
        "Currency",
    } <= keys
    values = dict((k, v) for k, v, c in ex.account_values(ACCOUNT) if c == "HKD")
    assert values["NetLiquidation"] == "1000000.00" and values["BuyingPower"] == "1000000.00"


def test_buying_power_of_a_cash_account_is_cash_less_open_buy_orders(ex: Exchange) -> None:
    bid = ex.quote("700").bid
    ex.place_order(order(1, lmt=bid - 5))
    values = dict((k, v) for k, v, c in ex.account_values(ACCOUNT) if c == "HKD")
    assert Decimal(values["BuyingPower"]) == Decimal(1_000_000) - (bid - 5) * 100


def test_stamp_duty_per_order_when_configured() -> None:
    ex = make_exchange(behaviour=SimBehaviour(stamp_duty_per_execution=False))
    ex.set_fault("partial-fills", True, pieces=2)
    price = ex.quote("3988").ask
    executed = fills(ex.place_order(order(1, quantity=2000, lmt=price, symbol="3988")))
    value = price * 2000
    stamp = (value * Decimal("0.001")).to_integral_value(rounding="ROUND_CEILING")
    others = sum(
        (v * Decimal("0.000027")).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
        + (v * Decimal("0.0000015")).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
        for v in (f.execution.price * f.execution.shares for f in executed)
    )
    assert sum(f.execution.commission for f in executed) == Decimal(18) + stamp + others


def test_account_values_are_refreshed_every_few_simulated_minutes_while_holding_stock(ex: Exchange) -> None:
    from catalyst.sim.engine.model import AccountChanged

    assert not any(isinstance(e, AccountChanged) for e in ex.advance(1))  # nothing held yet
    ex.place_order(order(1, lmt=ex.quote("700").ask))
    pushed = [e.account for e in ex.advance(200) if isinstance(e, AccountChanged)]
    assert pushed == [ACCOUNT]
