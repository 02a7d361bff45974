"""The engine's hot paths look at the orders still live, never at every order it has ever held."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from engine_support import deep_bid, make_exchange, order

from catalyst.sim.engine.exchange import Exchange
from catalyst.sim.engine.model import TERMINAL_STATUSES, SimOrder


@pytest.fixture
def done_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts how often the engine asks an order whether it is done (its unit of scanning work)."""
    calls = [0]

    def is_done(self: SimOrder) -> bool:
        calls[0] += 1
        return self.status in TERMINAL_STATUSES

    monkeypatch.setattr(SimOrder, "is_done", property(is_done))
    yield calls


def _place_and_cancel(ex: Exchange, first_id: int, n: int) -> None:
    for oid in range(first_id, first_id + n):
        ex.place_order(order(oid, lmt=deep_bid(ex)))
        ex.cancel_order(1, oid)


def _work_of_one_place_and_cancel(ex: Exchange, order_id: int, calls: list[int]) -> int:
    before = calls[0]
    _place_and_cancel(ex, order_id, 1)
    return calls[0] - before


def test_place_and_cancel_cost_does_not_grow_with_finished_orders(done_checks: list[int]) -> None:
    ex = make_exchange()
    _place_and_cancel(ex, 1, 10)
    early = _work_of_one_place_and_cancel(ex, 11, done_checks)
    _place_and_cancel(ex, 12, 400)
    late = _work_of_one_place_and_cancel(ex, 412, done_checks)
    assert late <= early + 2  # O(live orders): 400 more finished orders add no work


def test_live_orders_stay_visible_among_many_finished_ones() -> None:
    ex = make_exchange()
    _place_and_cancel(ex, 1, 50)
    ex.place_order(order(51, lmt=deep_bid(ex)))
    _place_and_cancel(ex, 52, 50)
    assert [o.order_id for o in ex.open_orders()] == [51]
    assert len(ex.all_orders()) == 101


def test_highest_order_id_counts_finished_orders_per_client() -> None:
    ex = make_exchange()
    _place_and_cancel(ex, 7, 3)
    ex.place_order(order(4, lmt=deep_bid(ex), client_id=2))
    assert ex.highest_order_id(1) == 9
    assert ex.highest_order_id(2) == 4
    assert ex.highest_order_id(3) == 0
