"""An order's status: one table of IB's words and Catalyst's own, and the moves between them."""

from __future__ import annotations

import pytest

from catalyst.domain import OrderStatus, UnknownOrderStatusError, can_move
from catalyst.domain.order_status import DONE_AT_BROKER, FINAL, SETTLED, WORKING, may_record, texts

S = OrderStatus


def test_the_stored_spellings_are_ibs_and_catalysts_exactly() -> None:
    assert S.parse("PreSubmitted") is S.PRE_SUBMITTED and S.parse("pending_submit") is S.RECORDED
    assert S.FILLED == "Filled"  # rows and IB's messages compare as plain text


@pytest.mark.parametrize("text", ["filled", "FILLED", "Done", "", None, "Unknown"])
def test_an_unknown_status_raises_naming_it(text: object) -> None:
    with pytest.raises(UnknownOrderStatusError, match=repr(text).replace("'", ".")):
        S.parse(text)


def test_every_status_is_either_working_or_final_and_never_both() -> None:
    assert frozenset(S) == WORKING | FINAL and not WORKING & FINAL
    assert {S.RECORDED, S.SENT, S.SUBMITTED, S.PENDING_CANCEL} <= WORKING
    assert DONE_AT_BROKER < FINAL and S.EXPIRED in FINAL and S.NOT_SENT in FINAL


def test_a_settled_order_never_moves_back_to_working() -> None:
    assert not can_move(S.FILLED, S.SUBMITTED)
    assert not can_move(S.REJECTED, S.CANCELLED)
    assert not can_move(S.EXPIRED, S.FILLED)
    assert all(not can_move(s, S.SUBMITTED) for s in SETTLED)


def test_a_cancelled_day_order_or_refusal_is_named_from_the_brokers_messages() -> None:
    assert can_move(S.CANCELLED, S.EXPIRED) and can_move(S.CANCELLED, S.REJECTED)
    assert not can_move(S.CANCELLED, S.FILLED)


def test_what_a_later_broker_report_may_correct() -> None:
    assert can_move(S.UNKNOWN, S.FILLED)  # reconciliation finds it after all
    assert can_move(S.NOT_SENT, S.SUBMITTED)  # the dead process did send it
    assert can_move(S.INACTIVE, S.REJECTED)
    assert not can_move(S.UNKNOWN, S.RECORDED)


def test_a_working_order_moves_anywhere_but_back_to_recorded() -> None:
    assert can_move(S.RECORDED, S.SENT) and can_move(S.SENT, S.FILLED) and can_move(S.SUBMITTED, S.UNKNOWN)
    assert not can_move(S.SENT, S.RECORDED)


def test_stored_texts_from_an_older_version_may_move_but_a_new_status_must_be_known() -> None:
    assert may_record(None, "Submitted") and may_record("cancel_requested", "Cancelled")
    assert not may_record("Filled", "Submitted")
    with pytest.raises(UnknownOrderStatusError):
        may_record("Submitted", "Done")


def test_texts_are_sorted_spellings_for_sql() -> None:
    assert texts(frozenset({S.SENT, S.FILLED})) == ("Filled", "sent")
