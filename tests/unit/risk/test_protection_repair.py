"""Re-protection places only what is missing, so a position ends with one stop and one target."""

from __future__ import annotations

import pandas as pd
import pytest

from catalyst.risk.errors import RiskInputError
from catalyst.risk.position_monitor import (
    REPAIR_COMPLETE,
    REPAIR_MANUAL,
    REPAIR_OVER_COVERED,
    REPAIR_PAIR,
    ProtectiveLeg,
    plan_protection_repair,
    protective_legs,
)

STOP = ProtectiveLeg("I1:SL", "stop", 200, "I1:OCA", client_id=7)
TARGET = ProtectiveLeg("I1:TP", "target", 200, "I1:OCA", client_id=7)


def test_nothing_surviving_gets_a_new_pair_for_the_whole_position() -> None:
    repair = plan_protection_repair("700", 200, [])
    assert (repair.kind, repair.stop_quantity, repair.target_quantity, repair.oca_group) == (
        REPAIR_PAIR,
        200,
        200,
        "",
    )


def test_a_surviving_stop_gets_only_a_target_in_the_stops_oca_group() -> None:
    repair = plan_protection_repair("700", 200, [STOP])
    assert (repair.kind, repair.stop_quantity, repair.target_quantity, repair.oca_group) == (
        REPAIR_COMPLETE,
        0,
        200,
        "I1:OCA",
    )


def test_a_surviving_target_gets_only_a_stop_in_the_targets_oca_group() -> None:
    repair = plan_protection_repair("700", 200, [TARGET])
    assert (repair.kind, repair.stop_quantity, repair.target_quantity, repair.oca_group) == (
        REPAIR_COMPLETE,
        200,
        0,
        "I1:OCA",
    )


def test_a_short_position_is_completed_the_same_way() -> None:
    repair = plan_protection_repair("5", -400, [ProtectiveLeg("I2:SL", "stop", 400, "I2:OCA")])
    assert (repair.kind, repair.target_quantity, repair.oca_group) == (REPAIR_COMPLETE, 400, "I2:OCA")


def test_a_stop_covering_more_than_the_position_places_nothing_and_names_it() -> None:
    repair = plan_protection_repair("700", 100, [STOP])
    assert repair.kind == REPAIR_OVER_COVERED and not repair.places_orders
    assert "stop orders cover 200" in repair.reason and "100 held" in repair.reason


def test_a_target_covering_more_than_the_position_places_nothing() -> None:
    repair = plan_protection_repair("700", 100, [TARGET])
    assert repair.kind == REPAIR_OVER_COVERED and not repair.places_orders


def test_legs_short_by_the_same_amount_get_a_pair_for_the_difference() -> None:
    half = [ProtectiveLeg("A:SL", "stop", 100, "A:OCA"), ProtectiveLeg("A:TP", "target", 100, "A:OCA")]
    repair = plan_protection_repair("700", 200, half)
    assert (repair.kind, repair.stop_quantity, repair.target_quantity, repair.oca_group) == (
        REPAIR_PAIR,
        100,
        100,
        "",
    )


def test_a_partial_survivor_is_left_for_a_person() -> None:
    repair = plan_protection_repair("700", 200, [ProtectiveLeg("A:SL", "stop", 100, "A:OCA")])
    assert repair.kind == REPAIR_MANUAL and not repair.places_orders


def test_a_survivor_without_an_oca_group_cannot_be_linked_and_is_left_for_a_person() -> None:
    repair = plan_protection_repair("700", 200, [ProtectiveLeg("X", "stop", 200, "")])
    assert repair.kind == REPAIR_MANUAL and not repair.places_orders


def test_two_stops_covering_the_position_are_not_completed_with_one_target() -> None:
    stops = [ProtectiveLeg("A:SL", "stop", 100, "A:OCA"), ProtectiveLeg("B:SL", "stop", 100, "B:OCA")]
    assert plan_protection_repair("700", 200, stops).kind == REPAIR_MANUAL


def test_a_flat_position_is_refused() -> None:
    with pytest.raises(RiskInputError, match="no position in 700"):
        plan_protection_repair("700", 0, [])


def test_protective_legs_reads_working_exit_orders_of_any_client_from_the_broker_frame() -> None:
    orders = pd.DataFrame(
        [
            ("I1:SL", 7, "700", "SELL", "STP LMT", 200, 200, "I1:OCA", "PreSubmitted"),
            ("I1:TP", 7, "700", "SELL", "LMT", 200, 200, "I1:OCA", "Cancelled"),
            ("I9:P", 7, "700", "BUY", "LMT", 200, 200, "", "Submitted"),
            ("I3:SL", 7, "5", "SELL", "STP", 100, 100, "I3:OCA", "Submitted"),
        ],
        columns=[
            "order_ref",
            "client_id",
            "symbol",
            "side",
            "order_type",
            "quantity",
            "remaining",
            "oca_group",
            "status",
        ],
    )
    assert protective_legs("700", 200, orders) == [ProtectiveLeg("I1:SL", "stop", 200, "I1:OCA", 7)]


def test_a_survivor_is_described_with_its_ref_size_group_and_client() -> None:
    assert STOP.describe() == "stop I1:SL x200, OCA I1:OCA, client 7"
