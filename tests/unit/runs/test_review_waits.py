"""The review shows the orders that waited for an HKEX window, with how long, from the ledger."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from catalyst.ledger import Ledger
from catalyst.market import HK_TZ
from catalyst.runs.review_report import load_review, review_period
from catalyst.runs.review_waits import order_waits

DAY = "2026-11-24"


def hk(hh: int, mm: int, ss: int = 0, ms: int = 0) -> datetime:
    return datetime(2026, 11, 24, hh, mm, ss, ms * 1000, tzinfo=HK_TZ)


def status(ledger: Ledger, ref: str, perm: int, ts: datetime, value: str, **extra: object) -> None:
    event = {"event_id": f"{ref}-{value}-{ts:%H%M%S%f}", "ts": ts, "order_ref": ref, "perm_id": perm}
    ledger.append("order_events", {**event, "status": value, "source": "orderStatus", **extra})


def test_the_review_lists_the_cancels_held_until_1230_and_the_exit_held_until_1300_with_how_long(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "ledger.duckdb")
    for ref, perm in (("b-700:TP", 11), ("b-700:SL", 12)):  # the breaker's cancels at 12:10
        status(ledger, ref, perm, hk(11, 0), "Submitted")
        status(ledger, ref, perm, hk(12, 10), "PendingCancel")
        status(ledger, ref, perm, hk(12, 30), "Cancelled")
    flat = "m:700:FLAT:1"  # an exit sent at 12:10, held by IB until the market reopened
    message = (
        "Order Message:\nSELL 100 700 SEHK.700\nWarning: your order will not be placed at the exchange "
        f"until {DAY} 13:00:00 Asia/Hong_Kong"
    )
    ledger.append(
        "order_events",
        {
            "event_id": "flat-399",
            "ts": hk(12, 10, 1),
            "order_ref": flat,
            "status": "error",
            "error_code": 399,
            "error_message": message,
        },
    )
    status(ledger, flat, 13, hk(12, 10, 1, 5), "PreSubmitted")
    status(ledger, flat, 13, hk(13, 0, 0, 200), "Submitted")
    status(ledger, flat, 13, hk(13, 0, 1), "Filled")
    status(ledger, "quick:P", 14, hk(10, 0), "PendingCancel")  # an ordinary cancel: no wait
    status(ledger, "quick:P", 14, hk(10, 0, 0, 40), "Cancelled")
    status(ledger, "late:P", 15, hk(16, 7), "PendingCancel")  # the closing auction: still waiting

    review = load_review(ledger, tmp_path / "runs", review_period(DAY))
    waits = review.waits()

    assert list(waits["order_ref"]) == ["b-700:TP", "b-700:SL", flat, "late:P"]
    held = waits.set_index("order_ref")
    assert list(held.loc[["b-700:TP", "b-700:SL"], "seconds"]) == [1200.0, 1200.0]
    assert set(held.loc[["b-700:TP", "b-700:SL"], "window"]) == {"no-cancel window until 12:30:00 HK"}
    assert (
        held.loc[flat, "waited"] == "held PreSubmitted"
        and held.loc[flat, "window"] == "held by IB until 13:00:00 HK"
    )
    assert held.loc[flat, "seconds"] == 2999.2 and held.loc[flat, "until"] == pd.Timestamp(hk(13, 0, 0, 200))
    assert held.loc["late:P", "window"] == "no-cancel window until 16:10:00 HK; still waiting"
    assert pd.isna(held.loc["late:P", "seconds"])
    summary = dict(zip(review.summary()["item"], review.summary()["value"], strict=True))
    assert summary["orders that waited for an HKEX window"] == "4"


def test_no_order_events_no_waits() -> None:
    assert order_waits(pd.DataFrame()).empty
    one = pd.DataFrame(
        [
            {"ts": hk(10, 0) + timedelta(seconds=s), "order_ref": "x", "perm_id": 1, "status": st}
            for s, st in ((0, "Submitted"), (5, "Filled"))
        ]
    )
    assert order_waits(one).empty
