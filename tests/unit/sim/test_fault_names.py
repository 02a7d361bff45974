"""Fault names and parameters: one error class and one refusal for an unknown fault, checked params."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import catalyst
from catalyst.sim.engine.errors import FaultParameterError, UnknownFaultError
from catalyst.sim.engine.faults import FAULT_NAMES, FaultBoard
from catalyst.sim.gateway.connection_faults import ConnectionFaults, connectivity_params, parse_fault_spec


def test_only_sim_errors_defines_an_unknown_fault_error() -> None:
    root = Path(catalyst.__file__).parent
    homes = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef) and node.name == "UnknownFaultError"
    ]
    assert homes == ["sim/engine/errors.py"]


def test_engine_server_and_spec_parser_refuse_an_unknown_fault_alike() -> None:
    refusals = []
    for refuse in (
        lambda: FaultBoard().set("meteor", True),
        lambda: ConnectionFaults().set("meteor", True, {}),
        lambda: parse_fault_spec("meteor:x=1"),
    ):
        with pytest.raises(UnknownFaultError) as caught:
            refuse()
        refusals.append(str(caught.value))
    assert len(set(refusals)) == 1
    assert all(name in refusals[0] for name in FAULT_NAMES)


def test_connectivity_defaults_to_five_seconds_and_data_maintained() -> None:
    assert connectivity_params({}) == (5.0, 1102)


def test_connectivity_takes_seconds_and_restore_as_text_or_numbers() -> None:
    assert connectivity_params({"seconds": "2", "restore": "1101"}) == (2.0, 1101)
    assert connectivity_params({"seconds": 0.5, "restore": 1102}) == (0.5, 1102)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"restore": 1103}, "restore must be 1101 .* or 1102"),
        ({"restore": "lost"}, "restore must be 1101"),
        ({"seconds": -1}, "seconds must be >= 0"),
        ({"seconds": "soon"}, "seconds must be a number"),
        ({"minutes": 2}, "takes seconds= and restore=, not minutes"),
    ],
)
def test_connectivity_refuses_bad_parameters_with_what_is_wrong(
    params: dict[str, object], message: str
) -> None:
    with pytest.raises(FaultParameterError, match=message):
        connectivity_params(params)


def test_a_startup_fault_spec_checks_connectivity_parameters() -> None:
    assert parse_fault_spec("connectivity:seconds=2:restore=1101") == (
        "connectivity",
        {"seconds": 2, "restore": 1101},
    )
    with pytest.raises(FaultParameterError, match="restore"):
        parse_fault_spec("connectivity:restore=7")
