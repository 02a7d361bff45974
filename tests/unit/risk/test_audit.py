"""The invariant audit: one account's positions, orders, ledger and halts judged now (pure).

The frames are shaped like the broker session's (``positions()``, ``open_orders()`` of every
client, ``executions()``) so the same function serves `catalyst broker audit` and the monitor.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from catalyst.broker.queries import EXECUTION_COLUMNS, OPEN_ORDER_COLUMNS, POSITION_COLUMNS
from catalyst.ledger import Ledger
from catalyst.risk.audit import (
    DUPLICATE_ENTRY,
    ENTRY_WHILE_HALTED,
    NAKED_EXIT,
    OVER_COVERAGE,
    OVER_LIMIT,
    UNKNOWN_CATALYST_ORDER,
    UNPROTECTED_POSITION,
    AuditInputs,
    HaltWindow,
    Violation,
    audit,
    halt_windows,
    ledger_facts,
    order_role,
)
from catalyst.risk.errors import RiskInputError
from catalyst.risk.limits import RiskLimits
from catalyst.risk.state import reset_breaker, trip_breaker

ACCOUNT = "DU0000001"
NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 11:00 HKT
_perm = iter(range(1000, 10_000))


def position(symbol: str, qty: int, avg_cost: str = "100", account: str = ACCOUNT) -> dict[str, Any]:
    return {"account": account, "symbol": symbol, "con_id": 1, "quantity": qty, "avg_cost": Decimal(avg_cost)}


def order(
    ref: str,
    symbol: str,
    side: str,
    order_type: str,
    qty: int,
    *,
    order_id: int = 0,
    parent_id: int = 0,
    client_id: int = 1,
    status: str = "Submitted",
    filled: int = 0,
    account: str = ACCOUNT,
) -> dict[str, Any]:
    return {
        "order_ref": ref,
        "perm_id": next(_perm),
        "order_id": order_id,
        "client_id": client_id,
        "parent_id": parent_id,
        "parent_perm_id": None,
        "account": account,
        "symbol": symbol,
        "side": side,
        "order_type": order_type,
        "quantity": qty,
        "limit_price": None,
        "stop_price": None,
        "tif": "DAY",
        "oca_group": "",
        "status": status,
        "filled": filled,
        "remaining": qty - filled,
    }


def protected(intent: str, symbol: str, qty: int) -> list[dict[str, Any]]:
    """The two working children of a filled long bracket."""
    return [
        order(f"{intent}:TP", symbol, "SELL", "LMT", qty),
        order(f"{intent}:SL", symbol, "SELL", "STP LMT", qty),
    ]


def fill(ref: str, symbol: str, side: str, qty: int, at: datetime, price: str = "100") -> dict[str, Any]:
    row = dict.fromkeys(EXECUTION_COLUMNS)
    row.update(
        exec_id=f"x{next(_perm)}", time=at, account=ACCOUNT, symbol=symbol, side=side, quantity=qty,
        price=Decimal(price), order_ref=ref, perm_id=next(_perm),
    )  # fmt: skip
    return row


def view(
    positions: list[dict[str, Any]] = (),  # type: ignore[assignment]
    orders: list[dict[str, Any]] = (),  # type: ignore[assignment]
    executions: list[dict[str, Any]] = (),  # type: ignore[assignment]
    *,
    known: set[str] | None = None,
    limits: RiskLimits | None = None,
    **extra: Any,
) -> AuditInputs:
    """A view in which the ledger knows every orderRef at the broker unless ``known`` says otherwise."""
    refs = {o["order_ref"] for o in orders} | {e["order_ref"] for e in executions}
    return AuditInputs(
        account=ACCOUNT,
        now=NOW,
        limits=limits or RiskLimits(),
        positions=pd.DataFrame(list(positions), columns=POSITION_COLUMNS),
        open_orders=pd.DataFrame(list(orders), columns=OPEN_ORDER_COLUMNS),
        executions=pd.DataFrame(list(executions), columns=EXECUTION_COLUMNS),
        ledger_order_refs=frozenset(refs if known is None else known),
        **extra,
    )


def rules(found: list[Violation]) -> list[tuple[str, str]]:
    return [(v.rule, v.symbol) for v in found]


# -- clean books ----------------------------------------------------------------------------------


def test_a_flat_account_with_nothing_working_is_clean() -> None:
    assert audit(view()) == []


def test_a_position_with_its_stop_and_target_working_is_clean() -> None:
    assert audit(view([position("700", 100)], protected("a-700-B-0", "700", 100))) == []


def test_a_working_entry_with_its_children_waiting_on_it_is_clean() -> None:
    orders = [
        order("a-700-B-0:P", "700", "BUY", "LMT", 100, order_id=11),
        order("a-700-B-0:TP", "700", "SELL", "LMT", 100, order_id=12, parent_id=11, status="PreSubmitted"),
        order("a-700-B-0:SL", "700", "SELL", "STP", 100, order_id=13, parent_id=11, status="PreSubmitted"),
    ]
    assert audit(view([], orders)) == []


def test_a_partly_filled_entry_protects_what_it_filled_through_its_children() -> None:
    """...and is not a second entry into the position it is itself building."""
    orders = [
        order("a-700-B-0:P", "700", "BUY", "LMT", 300, order_id=11, filled=200),
        order("a-700-B-0:TP", "700", "SELL", "LMT", 300, order_id=12, parent_id=11),
        order("a-700-B-0:SL", "700", "SELL", "STP", 300, order_id=13, parent_id=11),
    ]
    assert audit(view([position("700", 200)], orders)) == []


# -- unprotected_position -------------------------------------------------------------------------


def test_a_position_without_a_stop_is_unprotected_and_names_the_missing_leg() -> None:
    [v] = audit(view([position("700", 100)], [order("a-700-B-0:TP", "700", "SELL", "LMT", 100)]))
    assert (v.rule, v.symbol) == (UNPROTECTED_POSITION, "700")
    assert "missing: stop" in v.detail and v.order_refs == ("a-700-B-0:TP",)


def test_a_position_covered_for_part_of_its_quantity_is_unprotected() -> None:
    found = audit(view([position("5", 800)], protected("b-5-B-0", "5", 400)))
    assert rules(found) == [(UNPROTECTED_POSITION, "5")]


def test_a_fresh_fill_gets_the_grace_before_it_counts_as_unprotected() -> None:
    just_filled = [fill("a-700-B-0:P", "700", "BUY", 100, NOW - timedelta(seconds=3))]
    assert audit(view([position("700", 100)], [], just_filled)) == []
    long_ago = [fill("a-700-B-0:P", "700", "BUY", 100, NOW - timedelta(seconds=11))]
    assert rules(audit(view([position("700", 100)], [], long_ago))) == [(UNPROTECTED_POSITION, "700")]


def test_the_grace_is_a_setting() -> None:
    filled = [fill("a-700-B-0:P", "700", "BUY", 100, NOW - timedelta(seconds=3))]
    found = audit(view([position("700", 100)], [], filled, fill_grace=timedelta(seconds=1)))
    assert rules(found) == [(UNPROTECTED_POSITION, "700")]


def test_exits_on_the_wrong_side_do_not_protect_a_short() -> None:
    found = audit(
        view([position("5", -400)], protected("b-5-B-0", "5", 400), limits=RiskLimits(allow_shorts=True))
    )
    assert (UNPROTECTED_POSITION, "5") in rules(found) and (NAKED_EXIT, "5") in rules(found)


# -- naked_exit / over_coverage -------------------------------------------------------------------


def test_working_exits_on_a_flat_symbol_are_naked_and_named_for_cancelling() -> None:
    legs = protected("a-941-B-0", "941", 3000)
    [v] = audit(view([], legs))
    assert (v.rule, v.symbol) == (NAKED_EXIT, "941")
    assert set(v.order_refs) == {"a-941-B-0:TP", "a-941-B-0:SL"}
    assert set(v.perm_ids) == {legs[0]["perm_id"], legs[1]["perm_id"]}
    assert "with no position: SELL LMT x3000, SELL STP LMT x3000" in v.detail


def test_a_flatten_order_left_working_on_a_flat_symbol_is_a_naked_exit() -> None:
    found = audit(view([], [order("run-1:941:FLAT:1", "941", "SELL", "LMT", 3000)]))
    assert rules(found) == [(NAKED_EXIT, "941")]


def test_a_foreign_stop_on_a_flat_symbol_is_a_naked_exit() -> None:
    assert rules(audit(view([], [order("", "941", "SELL", "STP", 3000)]))) == [(NAKED_EXIT, "941")]


def test_two_stops_for_one_position_over_cover_it() -> None:
    orders = [*protected("a-700-B-0", "700", 100), order("m:700:PROT1:SL", "700", "SELL", "STP", 100)]
    [v] = audit(view([position("700", 100)], orders))
    assert (v.rule, v.symbol) == (OVER_COVERAGE, "700")
    assert set(v.order_refs) == {"a-700-B-0:SL", "m:700:PROT1:SL"} and "200" in v.detail


def test_an_exit_whose_cancel_is_pending_is_not_an_order_to_cancel_again() -> None:
    """A cancel an HKEX no-cancel window holds (PendingCancel until it opens) is asked already."""
    assert audit(view([], [order("", "941", "SELL", "STP", 3000, status="PendingCancel")])) == []
    held = [
        *[{**o, "status": "PendingCancel"} for o in protected("a-700-B-0", "700", 100)],
        *protected("m-700-B-0", "700", 100),  # the monitor's replacement pair, placed meanwhile
    ]
    assert audit(view([position("700", 100)], held)) == []


# -- duplicate_entry ------------------------------------------------------------------------------


def test_two_working_entries_in_one_symbol_are_a_duplicate() -> None:
    orders = [
        order("a-941-B-0:P", "941", "BUY", "LMT", 3000),
        order("b-941-B-0:P", "941", "BUY", "LMT", 3000),
    ]
    [v] = audit(view([], orders))
    assert (v.rule, v.symbol) == (DUPLICATE_ENTRY, "941")
    assert set(v.order_refs) == {"a-941-B-0:P", "b-941-B-0:P"}


def test_a_working_entry_in_a_symbol_already_held_is_a_duplicate() -> None:
    orders = [*protected("a-941-B-0", "941", 3000), order("b-941-B-0:P", "941", "BUY", "LMT", 3000)]
    assert rules(audit(view([position("941", 3000)], orders))) == [(DUPLICATE_ENTRY, "941")]


def test_two_intents_filled_into_one_open_position_are_a_duplicate_even_when_fully_protected() -> None:
    t = NOW - timedelta(minutes=5)
    fills = [fill("a-941-B-0:P", "941", "BUY", 3000, t), fill("b-941-B-0:P", "941", "BUY", 3000, t)]
    orders = protected("a-941-B-0", "941", 3000) + protected("b-941-B-0", "941", 3000)
    [v] = audit(view([position("941", 6000)], orders, fills))
    assert (v.rule, v.symbol, v.order_refs) == (DUPLICATE_ENTRY, "941", ("b-941-B-0:P",))


def test_a_new_entry_after_the_first_position_closed_is_not_a_duplicate() -> None:
    t = NOW - timedelta(minutes=30)
    fills = [
        fill("a-941-B-0:P", "941", "BUY", 3000, t),
        fill("a-941-B-0:SL", "941", "SELL", 3000, t + timedelta(minutes=5)),
        fill("b-941-B-0:P", "941", "BUY", 3000, t + timedelta(minutes=10)),
    ]
    assert audit(view([position("941", 3000)], protected("b-941-B-0", "941", 3000), fills)) == []


def test_partial_fills_of_one_entry_are_one_entry() -> None:
    t = NOW - timedelta(minutes=5)
    fills = [fill("a-941-B-0:P", "941", "BUY", 1000, t + timedelta(seconds=i)) for i in range(3)]
    assert audit(view([position("941", 3000)], protected("a-941-B-0", "941", 3000), fills)) == []


# -- over_limit -----------------------------------------------------------------------------------


def test_a_position_over_the_notional_limit_is_over_limit() -> None:
    limits = RiskLimits(max_notional_per_position=Decimal("500000"))
    found = audit(view([position("941", 6000, "98.7")], protected("a-941-B-0", "941", 6000), limits=limits))
    assert rules(found) == [(OVER_LIMIT, "941")] and "592,200.00" in found[0].detail


def test_fees_in_the_average_cost_of_a_position_sized_at_the_limit_are_allowed() -> None:
    limits = RiskLimits(max_notional_per_position=Decimal("500000"))
    found = audit(view([position("941", 5000, "100.15")], protected("a-941-B-0", "941", 5000), limits=limits))
    assert found == []


def test_more_symbols_held_or_entered_than_max_positions_is_over_limit() -> None:
    held = [position("700", 100), position("5", 400)]
    orders = [*protected("a-700-B-0", "700", 100), *protected("a-5-B-0", "5", 400)]
    orders.append(order("a-3988-B-0:P", "3988", "BUY", "LMT", 1000))
    [v] = audit(view(held, orders, limits=RiskLimits(max_positions=2)))
    assert (v.rule, v.symbol) == (OVER_LIMIT, "") and "3 symbols" in v.detail


def test_a_short_while_shorts_are_disabled_is_over_limit() -> None:
    orders = [order("a-5-S-0:TP", "5", "BUY", "LMT", 400), order("a-5-S-0:SL", "5", "BUY", "STP", 400)]
    assert rules(audit(view([position("5", -400)], orders))) == [(OVER_LIMIT, "5")]


# -- unknown_catalyst_order -----------------------------------------------------------------------


def test_broker_orders_with_catalyst_refs_missing_from_the_ledger_are_named() -> None:
    legs = protected("a-700-B-0", "700", 100)
    fills = [fill("a-700-B-0:P", "700", "BUY", 100, NOW - timedelta(minutes=1))]
    found = audit(view([position("700", 100)], legs, fills, known={"a-700-B-0:TP"}))
    assert rules(found) == [(UNKNOWN_CATALYST_ORDER, "700"), (UNKNOWN_CATALYST_ORDER, "700")]
    assert {v.order_refs for v in found} == {("a-700-B-0:P",), ("a-700-B-0:SL",)}
    assert all(v.perm_ids for v in found)


def test_orders_without_a_catalyst_ref_need_no_ledger_row() -> None:
    orders = [order("", "700", "SELL", "LMT", 100), order("manual stop", "700", "SELL", "STP", 100)]
    assert audit(view([position("700", 100)], orders, known=set())) == []


def test_order_roles_come_from_the_catalyst_orderref() -> None:
    assert order_role("a-700-B-0:P") == "entry"
    assert order_role("a-700-B-0:SL") == "exit"
    assert order_role("monitor-1:700:PROT3:TP") == "exit"
    assert order_role("a-700-B-0:FLAT") == "exit"
    assert order_role("cycle:700:FLAT:2") == "exit"
    assert order_role("") is None and order_role("hand-placed") is None


# -- entry_while_halted ---------------------------------------------------------------------------


def breaker(*events: tuple[str, datetime]) -> pd.DataFrame:
    return pd.DataFrame([{"ts": ts, "kind": kind, "message": "loss limit"} for kind, ts in events])


def test_halt_windows_run_from_a_trip_to_the_reset() -> None:
    t = NOW - timedelta(hours=1)
    [w] = halt_windows(breaker(("breaker_tripped", t), ("breaker_reset", t + timedelta(minutes=20))))
    assert (w.start, w.end) == (t, t + timedelta(minutes=20))


def test_a_halt_without_a_reset_lasts_until_its_expiry() -> None:
    t = NOW - timedelta(hours=1)
    [w] = halt_windows(breaker(("breaker_tripped", t)), expiry=lambda ts: ts + timedelta(hours=20))
    assert w.end == t + timedelta(hours=20)


def test_a_trip_after_an_expired_halt_opens_a_new_window() -> None:
    t = NOW - timedelta(days=2)
    windows = halt_windows(
        breaker(("breaker_tripped", t), ("breaker_tripped", t + timedelta(days=1))),
        expiry=lambda ts: ts + timedelta(hours=20),
    )
    assert [w.start for w in windows] == [t, t + timedelta(days=1)]


def test_an_entry_placed_inside_a_halt_window_is_named() -> None:
    t = NOW - timedelta(hours=1)
    window = HaltWindow(t, t + timedelta(hours=2), "loss limit")
    entries = pd.DataFrame(
        [
            {"order_ref": ref, "symbol": "941", "account": ACCOUNT, "perm_id": perm, "placed_at": at}
            for ref, perm, at in (
                ("a-941-B-0:P", 7, t - timedelta(minutes=1)),
                ("b-941-B-0:P", 8, t + timedelta(minutes=1)),
            )
        ]
    )
    [v] = audit(view(ledger_entries=entries, halt_windows=(window,)))
    assert (v.rule, v.symbol, v.order_refs, v.perm_ids) == (ENTRY_WHILE_HALTED, "941", ("b-941-B-0:P",), (8,))


# -- the view itself ------------------------------------------------------------------------------


def test_other_accounts_rows_are_not_this_accounts_violations() -> None:
    other = "DU0000002"
    found = audit(
        view(
            [position("700", 100, account=other)],
            [order("x-5-B-0:SL", "5", "SELL", "STP", 400, account=other)],
        )
    )
    assert found == []


def test_an_empty_account_is_refused() -> None:
    with pytest.raises(RiskInputError, match="account"):
        AuditInputs(
            account="", now=NOW, limits=RiskLimits(), positions=pd.DataFrame(), open_orders=pd.DataFrame()
        )


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(RiskInputError, match="timezone"):
        AuditInputs(
            account=ACCOUNT, now=datetime(2026, 11, 24, 11), limits=RiskLimits(),
            positions=pd.DataFrame(), open_orders=pd.DataFrame(),
        )  # fmt: skip


def test_violations_describe_rule_symbol_and_orders() -> None:
    v = Violation(NAKED_EXIT, "941", "2 working exit order(s)", ("a:TP", "a:SL"), (11, 12))
    assert v.describe() == "naked_exit [941] 2 working exit order(s); orderRefs a:TP, a:SL; permIds 11, 12"


# -- the ledger's side, read from a real ledger ---------------------------------------------------


def _entry_row(ref: str, account: str | None, placed_at: datetime, role: str = "entry") -> dict[str, Any]:
    return {
        "order_ref": ref, "role": role, "account": account, "symbol": "941", "side": "BUY",
        "order_type": "LMT", "quantity": 3000, "status": "Filled", "placed_at": placed_at, "perm_id": 5,
    }  # fmt: skip


def test_the_ledger_facts_are_the_accounts_own_and_never_those_under_an_empty_account(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.duckdb")
    t = NOW - timedelta(hours=1)
    trip_breaker(ledger, account=ACCOUNT, message="loss limit", ts=t)
    reset_breaker(ledger, account=ACCOUNT, reason="reviewed the day", ts=t + timedelta(minutes=10))
    ledger.append(  # as an older Catalyst wrote it: no account
        "risk_events",
        {
            "event_id": "legacy-trip",
            "ts": t + timedelta(minutes=20),
            "account": None,
            "kind": "breaker_tripped",
            "severity": "critical",
            "message": "recorded under no account",
            "detail": "{}",
        },
    )
    ledger.upsert("orders", _entry_row("a-941-B-0:P", ACCOUNT, t + timedelta(minutes=5)))
    ledger.upsert("orders", _entry_row("a-941-B-0:TP", ACCOUNT, t + timedelta(minutes=5), role="take_profit"))
    ledger.upsert("orders", _entry_row("b-941-B-0:P", None, t + timedelta(minutes=25)))

    facts = ledger_facts(ledger, ACCOUNT)

    assert facts.order_refs == {"a-941-B-0:P", "a-941-B-0:TP", "b-941-B-0:P"}
    assert list(facts.entries["order_ref"]) == ["a-941-B-0:P"]
    [window] = facts.halt_windows
    assert (window.start, window.end, window.reason) == (t, t + timedelta(minutes=10), "loss limit")
    found = audit(view(ledger_entries=facts.entries, halt_windows=facts.halt_windows))
    assert rules(found) == [(ENTRY_WHILE_HALTED, "941")]


def test_the_ledger_facts_refuse_an_empty_account(tmp_path: Path) -> None:
    with pytest.raises(RiskInputError, match="account"):
        ledger_facts(Ledger(tmp_path / "ledger.duckdb"), "")
