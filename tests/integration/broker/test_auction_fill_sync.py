"""A DAY entry that fills in the closing auction, through Catalyst's own broker layer.

The bracket's entry rests at 15:59:59 at the price the simulator's closing auction will set; the
auction fills it at the random close (16:08-16:10). The broker session sees the fill, the ledger
records it with its HKEX fees, the status sync keeps the entry ``Filled`` (not ``expired``), the
children wait ``PreSubmitted`` for the next session, and a reconciliation right after finds the
broker and the ledger agreeing. This module moves the simulated clock, so it has its own gateway.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from broker_harness import GatewayTarget, run_session, tick_down, tick_up

from catalyst.broker import BrokerSession
from catalyst.domain import BracketIntent, Side
from catalyst.ledger import Ledger
from catalyst.market import FIXED, fill_fees, session_for
from catalyst.reconcile.engine import reconcile
from catalyst.sim.engine.auction_book import cas_close_at, cas_crowd_price, cas_reference
from catalyst.sim.engine.contracts import LISTINGS
from catalyst.sim.engine.prices import PriceModel

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("broker_auction_fill")]

DAY = date(2026, 11, 24)
SEED = 7  # the harness's gateway runs with the default seed


def resting_buy_at_the_close(control: Any) -> tuple[str, Decimal]:
    """A symbol whose closing-auction price is at or under its bid at 15:59:59, and that price."""
    prices = PriceModel(SEED)
    td = session_for(DAY)
    assert td is not None
    for symbol in list(LISTINGS)[:20]:
        crowd = cas_crowd_price(prices, symbol, td, cas_reference(prices, symbol, td))
        if crowd <= Decimal(control.quote(symbol)["bid"]):
            return symbol, crowd
    raise AssertionError("no listed symbol closes at or under its bid on this day")


def test_a_day_entry_filled_in_the_closing_auction_is_recorded_and_synced_as_filled(
    gateway: GatewayTarget, ledger: Ledger, tmp_path: Path
) -> None:
    control = gateway.require_control()
    control.set_speed(0)
    control.set_clock("2026-11-24T15:59:59+08:00")
    symbol, price = resting_buy_at_the_close(control)
    lot = LISTINGS[symbol].board_lot

    async def scenario(s: BrokerSession) -> Any:
        intent = BracketIntent.snapped(
            "it-cas-1", symbol, Side.BUY, lot, price, tick_down(price, 20, symbol), tick_up(price, 10, symbol)
        )
        await s.submit_bracket(intent)
        control.set_clock("2026-11-24T16:11:00+08:00")  # past the random close and the auction's end
        assert await s.wait_for_order("it-cas-1:P", {"Filled"}, timeout=10) == "Filled"
        await s.sync_order_status()
        return await reconcile(s, ledger, account=gateway.account, run_id="it", state_dir=tmp_path)

    report = run_session(gateway, ledger, scenario)
    assert report.clean, report.findings.to_string()
    orders = ledger.query("SELECT order_ref, status FROM orders WHERE intent_id = 'it-cas-1' ORDER BY 1")
    status = dict(zip(orders.order_ref, orders.status, strict=True))
    assert status["it-cas-1:P"] == "Filled"
    assert {status["it-cas-1:TP"], status["it-cas-1:SL"]} == {"PreSubmitted"}  # until the next session
    fills = ledger.query("SELECT ts, quantity, price, commission FROM fills WHERE order_ref = 'it-cas-1:P'")
    assert list(fills.quantity) == [lot] and [Decimal(str(p)) for p in fills.price] == [price]
    td = session_for(DAY)
    assert td is not None
    assert fills.ts.iloc[0].timestamp() == cas_close_at(SEED, td).timestamp()
    expected = fill_fees(symbol, lot, price, plan=FIXED, on=DAY).total
    assert Decimal(str(fills.commission.iloc[0])) == expected
