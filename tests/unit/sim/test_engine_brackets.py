"""Brackets as IB handles them: held until transmit, released together, children tied by OCA."""

from __future__ import annotations

from decimal import Decimal

import pytest
from engine_support import changes, errors, fills, make_exchange, order, place_bracket, status_of

from catalyst.sim.engine.behaviour import SimBehaviour
from catalyst.sim.engine.exchange import Exchange
from catalyst.sim.engine.model import FaultFired, OrderRejected


@pytest.fixture
def ex() -> Exchange:
    return make_exchange()


def _levels(ex: Exchange) -> tuple[Decimal, Decimal, Decimal]:
    bid = ex.quote("700").bid
    entry = bid - 5  # ten ticks of 0.5 under the bid: rests
    return entry, entry + 10, entry - 10


def test_untransmitted_legs_produce_nothing_and_are_not_open(ex: Exchange) -> None:
    entry, target, _stop = _levels(ex)
    events = ex.place_order(order(1, "BUY", lmt=entry, transmit=False))
    events += ex.place_order(order(2, "SELL", lmt=target, parent_id=1, transmit=False))
    assert changes(events) == [] and errors(events) == []
    assert ex.open_orders() == []


def test_transmitting_the_last_leg_releases_parent_then_children(ex: Exchange) -> None:
    entry, target, stop = _levels(ex)
    events = place_bracket(ex, entry=entry, target=target, stop=stop)
    assert changes(events) == [
        (1, "Submitted", ""),
        (2, "PreSubmitted", "child"),
        (3, "PreSubmitted", "child,trigger"),
    ]
    parent, tp, sl = sorted(ex.open_orders(), key=lambda o: o.order_id)
    assert parent.perm_id > 0 and tp.parent_id == 1 and sl.parent_id == 1
    assert tp.parent_perm_id == parent.perm_id == sl.parent_perm_id
    assert tp.oca_group == sl.oca_group == str(parent.perm_id)
    assert tp.oca_type == sl.oca_type == 3
    assert (tp.lmt_price, sl.aux_price, sl.order_type) == (target, stop, "STP")


def test_entry_fill_sets_target_working_and_stop_waiting_for_its_trigger(ex: Exchange) -> None:
    entry, target, stop = _levels(ex)
    place_bracket(ex, entry=entry, target=target, stop=stop)
    events = ex.move_price("700", price=entry)
    assert [f.execution.price for f in fills(events, 1)] == [entry]
    assert changes(events, 2) == [(2, "Submitted", "")]
    assert changes(events, 3) == [(3, "PreSubmitted", "trigger")]
    assert ex.positions()[0].quantity == 100


def test_target_fill_cancels_the_stop(ex: Exchange) -> None:
    entry, target, stop = _levels(ex)
    place_bracket(ex, entry=entry, target=target, stop=stop)
    ex.move_price("700", price=entry)
    events = ex.move_price("700", price=target)
    assert [f.execution.price for f in fills(events, 2)] == [target]
    assert (3, 202) in errors(events)
    assert status_of(ex, 2) == "Filled" and status_of(ex, 3) == "Cancelled"
    assert ex.positions()[0].quantity == 0


def test_stop_triggers_on_a_trade_fills_and_cancels_the_target(ex: Exchange) -> None:
    entry, target, stop = _levels(ex)
    place_bracket(ex, entry=entry, target=target, stop=stop)
    ex.move_price("700", price=entry)
    events = ex.move_price("700", price=stop - Decimal("0.5"))
    assert (3, "Submitted", "") in changes(events, 3)  # triggered: sent as a limit
    stop_fills = fills(events, 3)
    assert stop_fills and all(f.execution.price <= stop for f in stop_fills)
    assert status_of(ex, 3) == "Filled" and status_of(ex, 2) == "Cancelled"
    assert ex.positions()[0].quantity == 0


def test_a_stop_does_not_trigger_while_trades_stay_above_it(ex: Exchange) -> None:
    entry, target, stop = _levels(ex)
    place_bracket(ex, entry=entry, target=target, stop=stop)
    ex.move_price("700", price=entry)
    events = ex.move_price("700", price=stop + Decimal("0.5"))
    assert fills(events, 3) == [] and status_of(ex, 3) == "PreSubmitted"


def test_cancelling_the_parent_cancels_the_children_as_ib_reports_it(ex: Exchange) -> None:
    entry, target, stop = _levels(ex)
    place_bracket(ex, entry=entry, target=target, stop=stop)
    events = ex.cancel_order(1, 1)
    sequence = [
        (e.order.order_id, e.order.status) if not isinstance(e, OrderRejected) else (e.order_id, e.code)
        for e in events
        if hasattr(e, "order")
    ]
    assert sequence == [
        (1, "PendingCancel"),
        (2, "PreSubmitted"),
        (3, "PreSubmitted"),
        (1, "Cancelled"),
        (1, 202),
        (2, "Cancelled"),
        (2, 202),
        (3, "Cancelled"),
        (3, 202),
    ]
    assert ex.open_orders() == []


def test_a_child_of_an_unknown_parent_gets_ibs_135_and_no_order(ex: Exchange) -> None:
    events = ex.place_order(order(9, "SELL", lmt=Decimal("700"), parent_id=4242))
    assert errors(events) == [(9, 135)]
    rejected = next(e for e in events if isinstance(e, OrderRejected))
    assert rejected.message == "Can't find order with id = 4242" and rejected.order is None
    assert ex.open_orders() == []


def test_children_attached_after_the_parent_was_transmitted_are_accepted(ex: Exchange) -> None:
    entry, target, _stop = _levels(ex)
    ex.place_order(order(1, "BUY", lmt=entry))
    events = ex.place_order(order(2, "SELL", lmt=target, parent_id=1))
    assert changes(events) == [(2, "PreSubmitted", "child")]


def test_partial_parent_fill_lets_children_cover_only_the_filled_shares() -> None:
    ex = make_exchange(behaviour=SimBehaviour(children_size_on_partial_parent="filled"), cash=Decimal("1e9"))
    q = ex.quote("700")
    entry = q.bid - 5
    qty = 3000 * 100  # far beyond what one print offers
    place_bracket(ex, entry=entry, target=entry + 10, stop=entry - 10, qty=qty)
    ex.move_price("700", price=entry)
    parent = next(o for o in ex.open_orders() if o.order_id == 1)
    assert 0 < parent.filled < qty
    ex.move_price("700", price=entry + 10)
    tp = next(o for o in ex.all_orders() if o.order_id == 2)
    assert tp.filled == parent.filled  # never more than the parent bought
    assert ex.positions()[0].quantity == 0


def test_full_policy_holds_children_until_the_parent_is_completely_filled() -> None:
    ex = make_exchange(behaviour=SimBehaviour(children_size_on_partial_parent="full"), cash=Decimal("1e9"))
    entry = ex.quote("700").bid - 5
    place_bracket(ex, entry=entry, target=entry + 10, stop=entry - 10, qty=300_000)
    events = ex.move_price("700", price=entry)
    assert fills(events, 1) and changes(events, 2) == []
    assert status_of(ex, 2) == "PreSubmitted"


def test_drop_children_fault_acknowledges_the_parent_and_silently_drops_the_legs(ex: Exchange) -> None:
    ex.set_fault("drop-children", True)
    entry, target, stop = _levels(ex)
    events = place_bracket(ex, entry=entry, target=target, stop=stop)
    assert changes(events) == [(1, "Submitted", "")]
    assert errors(events) == []
    assert [e.name for e in events if isinstance(e, FaultFired)] == ["drop-children", "drop-children"]
    assert [o.order_id for o in ex.open_orders()] == [1]


def test_reject_children_fault_rejects_each_leg_with_201_and_inactive(ex: Exchange) -> None:
    ex.set_fault("reject-children", True)
    entry, target, stop = _levels(ex)
    events = place_bracket(ex, entry=entry, target=target, stop=stop)
    rejections = [e for e in events if isinstance(e, OrderRejected)]
    assert [(r.order_id, r.code, r.status_after) for r in rejections] == [
        (2, 201, "Inactive"),
        (3, 201, "Inactive"),
    ]
    assert [o.order_id for o in ex.open_orders()] == [1]
    assert any(isinstance(e, FaultFired) and e.name == "reject-children" for e in events)


def test_oca_type_3_reduces_the_sibling_by_a_partial_fill(ex: Exchange) -> None:
    bid = ex.quote("700").bid
    ex.drift("DU0000001", "700", 300_000)
    ex.place_order(order(1, "SELL", 300_000, lmt=bid + 5, oca_group="G", oca_type=3))
    ex.place_order(order(2, "SELL", 300_000, lmt=bid + 10, oca_group="G", oca_type=3))
    events = ex.move_price("700", price=bid + 5)
    sold = sum(f.execution.shares for f in fills(events, 1))
    assert 0 < sold < 300_000
    sibling = next(o for o in ex.open_orders() if o.order_id == 2)
    assert sibling.total_quantity == 300_000 - sold


def test_cancelling_a_partly_filled_parent_leaves_children_protecting_the_filled_shares() -> None:
    ex = make_exchange(cash=Decimal("1e9"))
    entry = ex.quote("700").bid - 5
    place_bracket(ex, entry=entry, target=entry + 10, stop=entry - 10, qty=300_000)
    ex.move_price("700", price=entry)
    filled = next(o for o in ex.open_orders() if o.order_id == 1).filled
    events = ex.cancel_order(1, 1)
    assert (1, 202) in errors(events) and (2, 202) not in errors(events)
    children = {o.order_id: o for o in ex.open_orders()}
    assert set(children) == {2, 3}
    assert children[2].total_quantity == children[3].total_quantity == filled
