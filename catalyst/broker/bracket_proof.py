"""Rule 1 as pure functions: does what the broker reports match what we intended?

Everything compared here comes from the broker's own messages (:mod:`broker_reports`), never
from ib_async's local order copies: the action, the account and the parent link in particular
are read from openOrder/completedOrder fields and orderStatus.parentId.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from catalyst.broker.bracket_plan import LegPlan
from catalyst.broker.order_mapping import ORDER_TYPE_TO_IB, SIDE_TO_IB_ACTION
from catalyst.broker.report_log import ReportedOrder, ReportedStatus
from catalyst.domain.order_status import ACKNOWLEDGED, DONE_AT_BROKER


def broker_status(order: ReportedOrder | None, status: ReportedStatus | None) -> str | None:
    """The newest status the broker gave (openOrder's order state or orderStatus)."""
    candidates: list[tuple[datetime, str]] = []
    if order is not None and order.status:
        candidates.append((order.received_at, order.status))
    if status is not None and status.status:
        candidates.append((status.received_at, status.status))
    return max(candidates)[1] if candidates else None


def is_acknowledged(order: ReportedOrder | None, status: ReportedStatus | None) -> bool:
    """Non-zero permId and a broker status of PreSubmitted, Submitted or Filled."""
    perm = (order.perm_id if order else 0) or (status.perm_id if status else 0)
    return bool(perm) and broker_status(order, status) in ACKNOWLEDGED


def _same_price(reported: Decimal | None, intended: Decimal | None) -> bool:
    if intended is None:
        return reported is None or reported == 0
    return reported is not None and reported == intended


@dataclass(frozen=True)
class LegReport:
    """One leg: intended values, the broker's values, and what differs."""

    role: str
    order_ref: str
    intended: dict[str, Any]
    reported: dict[str, Any] | None
    status: str | None
    order_id: int
    perm_id: int
    problems: tuple[str, ...] = field(default_factory=tuple)


def _intended(plan: LegPlan, account: str) -> dict[str, Any]:
    return {
        "order_ref": plan.order_ref,
        "symbol": plan.symbol,
        "action": SIDE_TO_IB_ACTION[plan.side],
        "order_type": ORDER_TYPE_TO_IB[plan.order_type],
        "quantity": plan.quantity,
        "limit_price": str(plan.limit_price) if plan.limit_price is not None else None,
        "stop_price": str(plan.stop_price) if plan.stop_price is not None else None,
        "tif": plan.tif,
        "account": account,
        "child": plan.is_child,
    }


def _reported(order: ReportedOrder, status: ReportedStatus | None) -> dict[str, Any]:
    return {
        "source": order.source,
        "order_ref": order.order_ref,
        "symbol": order.symbol,
        "con_id": order.con_id,
        "action": order.action,
        "order_type": order.order_type,
        "quantity": str(order.quantity),
        "limit_price": str(order.limit_price) if order.limit_price is not None else None,
        "stop_price": str(order.stop_price) if order.stop_price is not None else None,
        "tif": order.tif,
        "account": order.account,
        "order_id": order.order_id,
        "client_id": order.client_id,
        "perm_id": order.perm_id,
        "parent_id": order.parent_id,
        "parent_perm_id": order.parent_perm_id,
        "status_parent_id": status.parent_id if status else None,
        "oca_group": order.oca_group,
        "status": broker_status(order, status),
        "filled": str(status.filled) if status else None,
    }


def check_leg(
    plan: LegPlan,
    order: ReportedOrder | None,
    status: ReportedStatus | None,
    *,
    account: str,
    con_id: int,
    parent: ReportedOrder | None,
    allow_done: bool = False,
) -> LegReport:
    """Compare one leg; ``parent`` is the broker's report of the entry (for children)."""
    problems: list[str] = []
    if order is None:
        problems.append("the broker reports no such order")
        return LegReport(
            plan.role,
            plan.order_ref,
            _intended(plan, account),
            None,
            broker_status(None, status),
            0,
            status.perm_id if status else 0,
            tuple(problems),
        )
    want_action = SIDE_TO_IB_ACTION[plan.side]
    want_type = ORDER_TYPE_TO_IB[plan.order_type]
    if order.order_ref != plan.order_ref:
        problems.append(f"orderRef {order.order_ref!r} != {plan.order_ref!r}")
    if order.action != want_action:
        problems.append(f"action {order.action} != {want_action}")
    if order.order_type != want_type:
        problems.append(f"order type {order.order_type} != {want_type}")
    if order.quantity != plan.quantity:
        problems.append(f"quantity {order.quantity} != {plan.quantity}")
    if not _same_price(order.limit_price, plan.limit_price):
        problems.append(f"limit price {order.limit_price} != {plan.limit_price}")
    if plan.stop_price is not None and order.stop_price != plan.stop_price:
        problems.append(f"stop price {order.stop_price} != {plan.stop_price}")
    if order.account != account:
        problems.append(f"account {order.account!r} != {account!r}")
    if con_id and order.con_id and order.con_id != con_id:
        problems.append(f"contract {order.con_id} != {con_id}")
    if order.tif and order.tif != plan.tif:
        problems.append(f"TIF {order.tif} != {plan.tif}")
    if plan.is_child:
        if parent is None:
            problems.append("parent not reported by the broker")
        else:
            linked = (
                order.parent_id and order.parent_id == parent.order_id and order.client_id == parent.client_id
            ) or (order.parent_perm_id and order.parent_perm_id == parent.perm_id)
            if not linked:
                problems.append(
                    f"parent link: reported parentId {order.parent_id} / parentPermId "
                    f"{order.parent_perm_id}, entry is orderId {parent.order_id} permId {parent.perm_id}"
                )
            if status is not None and status.parent_id and status.parent_id != parent.order_id:
                problems.append(f"orderStatus parentId {status.parent_id} != entry orderId {parent.order_id}")
        if not order.oca_group:
            problems.append("child has no OCA group")
    elif order.parent_id or order.parent_perm_id:
        problems.append(f"entry reports a parent ({order.parent_id}/{order.parent_perm_id})")
    if allow_done and broker_status(order, status) in DONE_AT_BROKER and order.perm_id:
        pass  # an adopted leg that already finished (filled, or cancelled by its OCA sibling)
    elif not is_acknowledged(order, status):
        problems.append(f"not acknowledged: permId {order.perm_id}, status {broker_status(order, status)}")
    return LegReport(
        plan.role,
        plan.order_ref,
        _intended(plan, account),
        _reported(order, status),
        broker_status(order, status),
        order.order_id,
        order.perm_id or (status.perm_id if status else 0),
        tuple(problems),
    )


def bracket_problems(legs: Sequence[LegReport]) -> list[str]:
    """Every problem of every leg, plus the cross-leg checks (children share one OCA group)."""
    out = [f"{leg.role}: {p}" for leg in legs for p in leg.problems]
    children = [leg for leg in legs if leg.intended.get("child") and leg.reported]
    groups = {leg.reported["oca_group"] for leg in children if leg.reported}
    if len(children) == 2 and len(groups) != 1:
        out.append(f"children are in different OCA groups: {sorted(groups)}")
    return out
