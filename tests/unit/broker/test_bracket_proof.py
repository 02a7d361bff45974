"""The proof compares the broker's own report of each leg with the plan (rule 1)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from catalyst.broker.bracket_plan import LegPlan, plan_bracket
from catalyst.broker.bracket_proof import LegReport, bracket_problems, check_leg, is_acknowledged
from catalyst.broker.report_log import ReportedOrder, ReportedStatus
from catalyst.domain import BracketIntent, Side

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def reported(
    plan: LegPlan, *, order_id: int, perm_id: int, parent_id: int = 0, **changes: object
) -> ReportedOrder:
    base = ReportedOrder(
        received_at=T0,
        source="openOrder",
        order_id=order_id,
        client_id=7,
        perm_id=perm_id,
        parent_id=parent_id,
        parent_perm_id=0,
        con_id=700,
        symbol="700",
        exchange="SEHK",
        action="BUY" if plan.side is Side.BUY else "SELL",
        quantity=Decimal(plan.quantity),
        order_type={"LMT": "LMT", "STP LMT": "STP LMT"}[plan.order_type.value],
        limit_price=plan.limit_price,
        stop_price=plan.stop_price,
        tif=plan.tif,
        oca_group=plan.oca_group,
        oca_type=plan.oca_type,
        account="DU1",
        order_ref=plan.order_ref,
        status="PreSubmitted",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def legs() -> tuple[LegPlan, LegPlan, LegPlan]:
    return plan_bracket(
        BracketIntent("p-1", "700", Side.BUY, 100, Decimal("400"), Decimal("380"), Decimal("440"))
    )


def reports(**child_changes: Any) -> list[LegReport]:
    entry, tp, sl = legs()
    parent = reported(entry, order_id=1, perm_id=101)
    child_changes.setdefault("parent_id", 1)
    return [
        check_leg(entry, parent, None, account="DU1", con_id=700, parent=None),
        check_leg(
            tp,
            reported(tp, order_id=2, perm_id=102, **child_changes),
            None,
            account="DU1",
            con_id=700,
            parent=parent,
        ),
        check_leg(
            sl,
            reported(sl, order_id=3, perm_id=103, parent_id=1),
            None,
            account="DU1",
            con_id=700,
            parent=parent,
        ),
    ]


def test_a_bracket_reported_exactly_as_planned_has_no_problems() -> None:
    assert bracket_problems(reports()) == []


def test_a_child_reported_on_the_wrong_side_is_a_problem() -> None:
    problems = bracket_problems(reports(action="BUY"))
    assert problems == ["take_profit: action BUY != SELL"]


def test_a_child_without_its_parent_link_is_a_problem() -> None:
    assert any("parent link" in p for p in bracket_problems(reports(parent_id=0)))


def test_a_child_linked_only_by_parent_perm_id_is_accepted() -> None:
    assert bracket_problems(reports(parent_id=0, parent_perm_id=101)) == []


def test_a_different_price_quantity_or_account_is_a_problem() -> None:
    problems = bracket_problems(reports(limit_price=Decimal("441"), quantity=Decimal(200), account="DU2"))
    assert len(problems) == 3


def test_a_leg_the_broker_never_reported_is_a_problem() -> None:
    entry, _tp, _sl = legs()
    report = check_leg(entry, None, None, account="DU1", con_id=700, parent=None)
    assert report.problems == ("the broker reports no such order",)


def test_acknowledgement_needs_a_perm_id_and_a_broker_status() -> None:
    entry, _tp, _sl = legs()
    order = reported(entry, order_id=1, perm_id=0, status="PendingSubmit")
    assert not is_acknowledged(order, None)
    status = ReportedStatus(T0, 1, 7, 101, 0, "Submitted", Decimal(0), Decimal(100), None, None, "")
    assert is_acknowledged(order, status)
