"""IB's historical-data pacing, kept on our side."""

from __future__ import annotations

from catalyst.broker.historical_pacing import HistoricalPacer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_identical_request_within_fifteen_seconds_is_served_from_cache() -> None:
    clock = Clock()
    pacer = HistoricalPacer(clock=clock)
    pacer.record("k", "c")
    pacer.remember("k", "bars")
    clock.now += 14
    assert pacer.cached("k") == "bars"
    clock.now += 2
    assert pacer.cached("k") is None


def test_the_sixty_first_request_in_ten_minutes_waits_for_the_window() -> None:
    clock = Clock()
    pacer = HistoricalPacer(clock=clock)
    for i in range(60):
        pacer.record(("k", i), ("c", i))
        clock.now += 1
    assert pacer.delay(("k", 99), ("c", 99)) == 600 - 60


def test_a_seventh_request_for_one_contract_within_two_seconds_waits() -> None:
    clock = Clock()
    pacer = HistoricalPacer(clock=clock)
    for i in range(6):
        pacer.record(("k", i), "c")
    assert pacer.delay(("k", 9), "c") == 2.0
    assert pacer.delay(("k", 9), "other") == 0.0
