"""OrderType.parse maps the explicit table only (rule 2)."""

from __future__ import annotations

import pytest

from catalyst.domain import OrderType, UnknownOrderTypeError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("LMT", OrderType.LIMIT),
        (" limit ", OrderType.LIMIT),
        ("mkt", OrderType.MARKET),
        ("STP", OrderType.STOP),
        ("STP LMT", OrderType.STOP_LIMIT),
        ("stop_limit", OrderType.STOP_LIMIT),
    ],
)
def test_listed_spellings_map(text: str, expected: OrderType) -> None:
    assert OrderType.parse(text) is expected


@pytest.mark.parametrize("text", [None, "", "STPLMT", "MOC", "TRAIL", "REL", 1])
def test_anything_else_raises(text: object) -> None:
    with pytest.raises(UnknownOrderTypeError, match="order type must be one of"):
        OrderType.parse(text)


def test_the_ib_wire_values_are_the_enum_values() -> None:
    assert [t.value for t in OrderType] == ["LMT", "MKT", "STP", "STP LMT"]
