"""The five messages whose layout changes inside 157..178, at each side of each threshold (field first
versions from IB's official decoder; docs/simulator.md "Versions")."""

from __future__ import annotations

import pytest
from sim_wire_samples import DETAILS, FILL, STOP_LEG, TENCENT

from catalyst.sim.gateway import wire_encode as enc
from catalyst.sim.gateway.wire_versions import (
    SERVER_VERSION,
    UnservedVersionError,
    VersionedFields,
    for_session,
)


def test_error_carries_advanced_order_reject_json_from_166() -> None:
    message = enc.error(11, 201, "Order rejected - reason:X", '{"k":1}')
    assert message.at_version(165) == ["4", "2", "11", "201", "Order rejected - reason:X"]
    assert message.at_version(166) == ["4", "2", "11", "201", "Order rejected - reason:X", '{"k":1}']


def test_open_order_has_fa_profile_after_fa_percentage_until_176() -> None:
    at_176, at_177 = enc.open_order(STOP_LEG, TENCENT).at_version(176), enc.open_order(STOP_LEG, TENCENT)
    fa_percentage = (
        1 + 1 + 11 + 16 + 4
    )  # id, orderId, contract, action..discretionaryAmt..sharesAllocation, fa*
    assert at_177.at_version(177) == at_177
    assert at_176[: fa_percentage + 1] == at_177[: fa_percentage + 1]
    assert at_176[fa_percentage + 1] == "" and at_176[fa_percentage + 2 :] == at_177[fa_percentage + 1 :]


@pytest.mark.parametrize(
    ("version", "count"),
    [(157, 120), (158, 121), (159, 121), (160, 122), (161, 122), (162, 123), (169, 123), (170, 128),
     (176, 128), (177, 127), (178, 127)],
)  # fmt: skip
def test_open_order_grows_field_by_field_from_each_first_version(version: int, count: int) -> None:
    assert len(enc.open_order(STOP_LEG, TENCENT).at_version(version)) == count


def test_open_order_tail_is_duration_post_to_ats_auto_cancel_parent_then_the_peg_fields() -> None:
    at_162, at_170 = (enc.open_order(STOP_LEG, TENCENT).at_version(v) for v in (162, 170))
    assert at_162[-3:] == ["", "", "0"] and at_170[-8:] == ["", "", "0", "", "", "", "", ""]


@pytest.mark.parametrize(("version", "count"), [(157, 92), (169, 92), (170, 97), (176, 97), (177, 96)])
def test_completed_order_has_fa_profile_below_177_and_the_peg_fields_from_170(
    version: int, count: int
) -> None:
    assert len(enc.completed_order(STOP_LEG, TENCENT).at_version(version)) == count


def test_contract_details_below_164_start_with_message_version_8_and_carry_md_size_multiplier() -> None:
    old, new = enc.contract_details(1, DETAILS).at_version(162), enc.contract_details(1, DETAILS)
    assert old[:3] == ["10", "8", "1"] and new[:2] == ["10", "1"]
    min_tick = new.index("0.01")
    assert old[min_tick + 1 : min_tick + 3] == ["0.01", "1"]  # then mdSizeMultiplier
    assert old[-1] == "COMMON" and new[-4:] == ["COMMON", "100", "100", "100"]


def test_contract_details_at_163_alone_carry_one_size_after_stock_type() -> None:
    assert enc.contract_details(1, DETAILS).at_version(163)[-2:] == ["COMMON", "100"]
    assert len(enc.contract_details(1, DETAILS).at_version(164)) == 40


def test_exec_details_end_with_pending_price_revision_only_at_178() -> None:
    assert len(enc.exec_details(FILL, TENCENT).at_version(177)) == 31
    assert len(enc.exec_details(FILL, TENCENT)) == 32


def test_a_message_with_one_layout_goes_to_every_session_as_it_is() -> None:
    position = enc.position("DU0000001", TENCENT, 100, enc.Decimal("388.2"))
    assert not isinstance(position, VersionedFields)
    assert for_session(position, 157) is position


def test_a_session_gets_its_own_layout_and_178_is_the_default() -> None:
    message = enc.error(-1, 2104, "Market data farm connection is OK:hfarm")
    assert for_session(message, SERVER_VERSION) is message
    assert len(for_session(message, 157)) == 5


@pytest.mark.parametrize("version", [0, 156, 179])
def test_a_version_outside_157_to_178_is_never_rendered(version: int) -> None:
    with pytest.raises(UnservedVersionError, match=r"outside what the simulator serves \(157\.\.178\)"):
        enc.error(-1, 2104, "x").at_version(version)
