"""Deterministic intent ids and order references (a rerun must find its own orders)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalyst.domain import (
    MAX_ORDER_REF_LEN,
    BracketIntent,
    InvalidIntentError,
    Side,
    make_intent_id,
    parse_order_ref,
)
from catalyst.market import HK_TZ, universe


def test_the_same_inputs_always_give_the_same_id() -> None:
    assert make_intent_id("run-1", "700", Side.BUY, 3) == make_intent_id("run-1", "0700", "long", 3)


def test_each_input_changes_the_id() -> None:
    base = make_intent_id("run-1", "700", Side.BUY, 3)
    assert base != make_intent_id("run-2", "700", Side.BUY, 3)
    assert base != make_intent_id("run-1", "5", Side.BUY, 3)
    assert base != make_intent_id("run-1", "700", Side.SELL, 3)
    assert base != make_intent_id("run-1", "700", Side.BUY, 4)


def test_the_id_is_readable() -> None:
    assert make_intent_id("run-1", "700", Side.SELL, 12).endswith("-700-S-12")


@given(
    run_id=st.text(min_size=1, max_size=300).filter(str.strip),
    symbol=st.sampled_from(sorted(universe())),
    side=st.sampled_from(list(Side)),
    seq=st.integers(0, 999_999),
)
def test_every_order_ref_fits_ibs_order_ref_budget(run_id: str, symbol: str, side: Side, seq: int) -> None:
    intent_id = make_intent_id(run_id, symbol, side, seq)
    sec = universe()[symbol]
    stop, target = (D("1"), D("3")) if side is Side.BUY else (D("3"), D("1"))
    b = BracketIntent(
        intent_id, symbol, side, sec.board_lot, D("2"), stop, target,
        created_at=datetime(2026, 1, 5, 10, tzinfo=HK_TZ),
    )  # fmt: skip
    refs = b.order_refs()
    assert all(len(r) <= MAX_ORDER_REF_LEN for r in refs.values())
    assert {parse_order_ref(r) for r in refs.values()} == {
        (intent_id, "P"),
        (intent_id, "TP"),
        (intent_id, "SL"),
    }


def test_order_refs_name_the_leg() -> None:
    b = BracketIntent("i-1", "700", Side.BUY, 100, D("600"), D("580"), D("650"))
    assert (b.order_ref("entry"), b.order_ref("target"), b.order_ref("stop")) == ("i-1:P", "i-1:TP", "i-1:SL")
    assert b.order_ref("P") == b.order_ref("parent") == "i-1:P"


def test_an_unknown_leg_role_raises() -> None:
    b = BracketIntent("i-1", "700", Side.BUY, 100, D("600"), D("580"), D("650"))
    with pytest.raises(InvalidIntentError, match="order role"):
        b.order_ref("trail")


@pytest.mark.parametrize("ref", ["i-1", "i-1:X", ":P", "a b:P", None])
def test_parse_order_ref_refuses_foreign_refs(ref: object) -> None:
    with pytest.raises(InvalidIntentError, match="not a Catalyst orderRef"):
        parse_order_ref(ref)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("run_id", "symbol", "side", "seq"),
    [("", "700", "BUY", 1), ("  ", "700", "BUY", 1), ("r", "700.HK", "BUY", 1), ("r", "700", "hold", 1),
     ("r", "700", "BUY", -1), ("r", "700", "BUY", 1_000_000), ("r", "700", "BUY", True)],
)  # fmt: skip
def test_make_intent_id_refuses_bad_inputs(run_id: str, symbol: str, side: str, seq: int) -> None:
    with pytest.raises(InvalidIntentError):
        make_intent_id(run_id, symbol, side, seq)
