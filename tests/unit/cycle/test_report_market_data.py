"""The cycle report says which market data the cycle decided on (``broker.market_data_type``)."""

from __future__ import annotations

from datetime import datetime

from catalyst.cycle.report import CycleReport
from catalyst.market import HK_TZ


def report(**extra: object) -> CycleReport:
    return CycleReport(
        run_id="r1",
        mode="sim",
        account="DU0000001",
        server_time=datetime(2026, 11, 24, 10, 0, tzinfo=HK_TZ),
        phase="continuous",
        accepts_orders=True,
        status="nothing_to_send",
        message="no candidates",
        **extra,  # type: ignore[arg-type]
    )


def row(r: CycleReport) -> str:
    table = r.context_table()
    return str(table.loc[table["item"] == "market data (broker.market_data_type)", "value"].item())


def test_live_data_is_the_default_and_is_said() -> None:
    assert row(report()) == "live"


def test_delayed_data_is_said_in_capitals_with_its_age() -> None:
    assert row(report(market_data="delayed")) == "DELAYED: 15+ min old unless subscribed"
    assert row(report(market_data="delayed-frozen")).startswith("DELAYED-FROZEN: 15+ min old")
