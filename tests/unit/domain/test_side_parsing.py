"""Side.parse maps exactly the listed spellings; everything else raises (rule 2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalyst.domain import Side, UnknownSideError
from catalyst.domain.side import SIDE_TABLE

EXPECTED = {"buy": Side.BUY, "long": Side.BUY, "sell": Side.SELL, "short": Side.SELL}
SPACE = st.text(alphabet=" \t\n\r", max_size=3)


def test_the_table_is_exactly_the_four_spellings() -> None:
    assert SIDE_TABLE == EXPECTED
    assert list(Side) == [Side.BUY, Side.SELL]


@st.composite
def spelled(draw: st.DrawFn) -> tuple[str, Side]:
    word = draw(st.sampled_from(sorted(EXPECTED)))
    cased = "".join(c.upper() if draw(st.booleans()) else c for c in word)
    return draw(SPACE) + cased + draw(SPACE), EXPECTED[word]


@given(spelled())
def test_every_spelling_in_any_case_and_spacing_maps_right(case: tuple[str, Side]) -> None:
    text, side = case
    assert Side.parse(text) is side


@given(st.text(max_size=12).filter(lambda t: t.strip().lower() not in EXPECTED))
def test_any_other_text_raises(text: str) -> None:
    with pytest.raises(UnknownSideError):
        Side.parse(text)


@pytest.mark.parametrize(
    "text",
    [None, "", "   ", "b", "buyy", "b uy", "longshort", "sell short", "SSHORT", "0", "1", "-1", "ｂｕｙ"],
)
def test_near_misses_none_and_empty_raise(text: object) -> None:
    with pytest.raises(UnknownSideError, match="side must be one of"):
        Side.parse(text)


@pytest.mark.parametrize("value", [1, -1, True, b"buy", Side])
def test_non_text_raises(value: object) -> None:
    with pytest.raises(UnknownSideError):
        Side.parse(value)


def test_a_side_enum_member_is_not_silently_reparsed_as_its_opposite() -> None:
    assert Side.parse(Side.SELL) is Side.SELL
    assert Side.BUY.opposite is Side.SELL and Side.SELL.opposite is Side.BUY
    assert (Side.BUY.sign, Side.SELL.sign) == (1, -1)
