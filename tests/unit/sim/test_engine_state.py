"""The exchange's state survives a restart; --fresh starts over; drift and the clock."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from engine_support import ACCOUNT, MORNING, changes, fills, make_exchange, order, place_bracket

from catalyst.sim.engine import exchange as exchange_module
from catalyst.sim.engine.behaviour import SimBehaviour
from catalyst.sim.engine.errors import SimClockError
from catalyst.sim.engine.exchange import Exchange
from catalyst.sim.engine.model import Executed, FaultFired, PositionChanged


def _busy_exchange(state: Path) -> Exchange:
    """An exchange with a fill, a bracket, an untransmitted order and a fault (caller saves)."""
    ex = make_exchange(state=state)
    q = ex.quote("700")
    ex.place_order(order(1, lmt=q.ask))  # filled
    entry = q.bid - 5
    place_bracket(ex, entry=entry, target=entry + 10, stop=entry - 10)  # ids 1..3: 1 is taken
    ex.place_order(order(10, lmt=q.bid - 5, transmit=False))  # held, untransmitted
    ex.set_fault("latency", True, ms=100)
    ex.advance(30)
    return ex


def test_a_restart_restores_cash_positions_orders_executions_and_the_clock(tmp_path: Path) -> None:
    state = tmp_path / "sim.duckdb"
    before = _busy_exchange(state)
    snapshot = (
        before.account_values(ACCOUNT),
        before.positions(),
        before.all_orders(),
        before.all_executions(),
        before.now(),
        before.faults(),
    )
    before.save()
    after = make_exchange(state=state)
    assert after.account_values(ACCOUNT) == snapshot[0]
    assert after.positions() == snapshot[1]
    assert after.all_orders() == snapshot[2]
    assert after.all_executions() == snapshot[3]
    assert after.now() == snapshot[4]
    assert after.faults() == snapshot[5]


def test_a_restart_keeps_untransmitted_orders_held(tmp_path: Path) -> None:
    state = tmp_path / "sim.duckdb"
    _busy_exchange(state).save()
    after = make_exchange(state=state)
    events = after.place_order(order(11, "SELL", lmt=after.quote("700").ask + 50, parent_id=10))
    assert changes(events) == [(10, "Submitted", ""), (11, "PreSubmitted", "child")]


def test_a_restart_continues_ids_without_reuse(tmp_path: Path) -> None:
    state = tmp_path / "sim.duckdb"
    before = _busy_exchange(state)
    perms = {o.perm_id for o in before.all_orders()}
    execs = {e.exec_id for e in before.all_executions()}
    before.save()
    after = make_exchange(state=state)
    [fill] = fills(after.place_order(order(20, lmt=after.quote("700").ask)))
    assert fill.execution.perm_id not in perms and fill.execution.exec_id not in execs


def test_fresh_starts_over(tmp_path: Path) -> None:
    state = tmp_path / "sim.duckdb"
    _busy_exchange(state)
    fresh = make_exchange(state=state, fresh=True)
    assert fresh.all_orders() == [] and fresh.positions() == [] and fresh.all_executions() == []


def test_a_restart_replays_the_same_prices(tmp_path: Path) -> None:
    state = tmp_path / "sim.duckdb"
    first = make_exchange(state=state)
    first.advance(100)
    quote = first.quote("9988")
    first.save()
    again = make_exchange(state=state)
    assert again.quote("9988") == quote


def test_drift_changes_the_position_without_an_execution() -> None:
    ex = make_exchange()
    events = ex.drift(ACCOUNT, "700", 300)
    assert not any(isinstance(e, Executed) for e in events) and ex.executions() == []
    assert [e.position.quantity for e in events if isinstance(e, PositionChanged)] == [300]
    assert any(isinstance(e, FaultFired) and e.name == "drift" for e in events)
    assert ex.positions(ACCOUNT)[0].quantity == 300


def test_drift_as_a_fault_fires_on_the_next_tick() -> None:
    ex = make_exchange()
    ex.set_fault("drift", True, account=ACCOUNT, symbol="5", quantity="800")
    events = ex.tick()
    assert any(isinstance(e, FaultFired) and e.name == "drift" for e in events)
    assert [(p.symbol, p.quantity) for p in ex.positions()] == [("5", 800)]


def test_the_clock_cannot_go_backwards() -> None:
    ex = make_exchange()
    with pytest.raises(SimClockError, match="cannot go back"):
        ex.set_clock(MORNING - timedelta(minutes=1))


def test_a_frozen_clock_moves_only_when_advanced() -> None:
    ex = make_exchange()
    assert ex.now() == MORNING
    ex.advance(90)
    assert ex.now() == MORNING + timedelta(seconds=90)


def test_advancing_over_days_expires_day_orders_and_keeps_gtc() -> None:
    # Far below the market (beyond the quotation rule, so held by the simulated broker): no fill
    # in three days, whatever the price path does.
    ex = make_exchange(behaviour=SimBehaviour(quotation_rule_breach="hold"))
    far_below = ex.quote("700").bid - 200
    ex.place_order(order(1, lmt=far_below, tif="DAY"))
    ex.place_order(order(2, lmt=far_below, tif="GTC"))
    ex.advance(3 * 86400)
    assert [o.order_id for o in ex.open_orders()] == [2]
    assert (
        ex.positions() == []
        and Decimal(dict((k, v) for k, v, _ in ex.account_values(ACCOUNT))["NetLiquidation"]) == 1_000_000
    )


def test_changes_are_saved_without_an_explicit_save(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exchange_module, "SAVE_INTERVAL", 0.0)  # normally: at most every 0.25 s
    state = tmp_path / "sim.duckdb"
    ex = make_exchange(state=state)
    ex.place_order(order(1, lmt=ex.quote("700").ask))
    assert [o.order_id for o in make_exchange(state=state).all_orders()] == [1]


def test_an_account_added_on_restart_joins_with_the_initial_cash(tmp_path: Path) -> None:
    state = tmp_path / "sim.duckdb"
    make_exchange(state=state).save()
    again = Exchange(accounts=(ACCOUNT, "DU0000002"), start=MORNING, speed=0, state_path=state)
    assert again.accounts == (ACCOUNT, "DU0000002")
    assert dict((k, v) for k, v, _ in again.account_values("DU0000002"))["TotalCashValue"] == "1000000.00"
