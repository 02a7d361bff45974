"""The cycle report summarises every stage, also when nothing was sent."""

from __future__ import annotations

from datetime import datetime

from catalyst.cycle.charts import brackets_chart, outcome_chart, positions_chart
from catalyst.cycle.report import CycleReport
from catalyst.market import HK_TZ


def _closed() -> CycleReport:
    return CycleReport(
        run_id="r",
        mode="sim",
        account="DU1",
        server_time=datetime(2026, 11, 24, 12, 30, tzinfo=HK_TZ),
        phase="LUNCH",
        accepts_orders=False,
        status="market_closed",
        message="lunch",
    )


def test_a_closed_market_report_counts_nothing_sent() -> None:
    summary = _closed().stage_summary().set_index("stage")["count"]
    assert summary["brackets sent"] == 0 and summary["market phase"] == "LUNCH"


def test_the_headline_gives_broker_time_and_phase() -> None:
    assert "2026-11-24 12:30:00 HKT broker time, market LUNCH: lunch" in _closed().headline()


def test_charts_of_an_empty_cycle_say_why_they_are_empty() -> None:
    report = _closed()
    for fig in (brackets_chart(report), outcome_chart(report), positions_chart(report.positions_after)):
        assert fig.layout.annotations and fig.layout.annotations[0].text
