"""What the breaker reports about HKEX's windows: held cancels and exits that wait for trading."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from catalyst.broker.global_cancel import WorkingOrder
from catalyst.market import HK_TZ
from catalyst.risk.window_waits import deferral_text, exit_wait, split_survivors

FULL = date(2026, 12, 2)
HALF = date(2026, 12, 24)


def hk(day: date, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=HK_TZ)


def working(ref: str, status: str) -> WorkingOrder:
    return WorkingOrder(
        order_ref=ref, perm_id=abs(hash(ref)) % 10_000, client_id=5, symbol="700", status=status
    )


SURVIVORS = (working("a:TP", "PendingCancel"), working("a:SL", "PendingCancel"), working("b:P", "Submitted"))


@pytest.mark.parametrize(
    ("first", "last", "opens"),
    [
        (hk(FULL, 9, 15), hk(FULL, 9, 29, 59), hk(FULL, 9, 30)),
        (hk(FULL, 12, 0), hk(FULL, 12, 29, 59), hk(FULL, 12, 30)),
        (hk(FULL, 16, 6), hk(FULL, 16, 9, 59), hk(FULL, 16, 10)),
        (hk(HALF, 12, 6), hk(HALF, 12, 9, 59), hk(HALF, 12, 10)),
    ],
    ids=["pre-open", "lunch", "closing-auction", "half-day-auction"],
)
def test_inside_a_no_cancel_window_pending_cancels_are_held_until_it_opens(
    first: datetime, last: datetime, opens: datetime
) -> None:
    for t in (first, last):
        held, failed = split_survivors(SURVIVORS, t)
        assert [o.order_ref for o in held.orders] == ["a:TP", "a:SL"] and held.go_at == opens
        assert [o.order_ref for o in failed] == ["b:P"]  # a cancel that did not even start failed
        assert f"go at {opens:%H:%M:%S} HK" in held.describe()
    held, failed = split_survivors(SURVIVORS, opens)
    assert not held and failed == SURVIVORS  # the window is open: whatever survives failed


def test_an_exit_waits_for_continuous_trading_from_lunch_the_pre_open_and_the_auction() -> None:
    assert exit_wait(hk(FULL, 11, 59, 59)) is None and exit_wait(hk(FULL, 13, 0)) is None
    for t in (hk(FULL, 12, 0), hk(FULL, 12, 10), hk(FULL, 12, 59, 59)):
        wait = exit_wait(t)
        assert wait is not None and wait.trades_at == hk(FULL, 13, 0)
        assert "can trade from 13:00:00 HK" in wait.describe()
    pre = exit_wait(hk(FULL, 9, 29, 59))
    assert pre is not None and pre.trades_at == hk(FULL, 9, 30)
    auction = exit_wait(hk(HALF, 12, 0))
    assert auction is not None and auction.trades_at.date() > HALF


def test_the_deferral_says_when_the_cancels_go_and_when_the_flatten_trades() -> None:
    held, _failed = split_survivors(SURVIVORS[:2], hk(FULL, 12, 10))
    wait = exit_wait(hk(FULL, 12, 10))
    assert wait is not None
    text = deferral_text(held, wait, ["700"], protected=True)
    assert "go at 12:30:00 HK" in text and "the flatten is sent at 13:00:00 HK" in text
    assert "kept protected by a stop and target" in text
    unprotected = deferral_text(held, wait, ["700"], protected=False)
    assert "the flatten was sent now and waits at IB until 13:00:00 HK" in unprotected
