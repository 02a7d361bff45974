"""Deterministic intent ids and order references: the id follows from the decision, not the run, so a
rerun after a crash finds the crashed run's orders; a later bracket of the same key gets a new number."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalyst.domain import (
    MAX_ORDER_REF_LEN,
    BracketIntent,
    Candidate,
    IntentNumbering,
    InvalidIntentError,
    Side,
    intent_id_prefix,
    make_intent_id,
    parse_order_ref,
)
from catalyst.market import HK_TZ, universe
from catalyst.risk.limits import RiskLimits
from catalyst.risk.position_sizing import size_candidates


def size_one(*, run_id: str) -> BracketIntent:
    cand = Candidate(
        "700", Side.BUY, D("600"), D("590"), D("620"), 1.0, "gap",
        datetime(2026, 11, 24, 10, tzinfo=HK_TZ), "momentum",
    )  # fmt: skip
    (intent,) = size_candidates(
        [cand], equity=D("1000000"), budget=D("1000000"), limits=RiskLimits(), run_id=run_id, account="DU1"
    )
    return intent


DAY = date(2026, 11, 24)


def test_the_same_decision_always_gives_the_same_id() -> None:
    assert make_intent_id("DU1", DAY, "momentum", "700", Side.BUY, 3) == make_intent_id(
        "DU1", DAY, "momentum", "0700", "long", 3
    )


def test_the_run_is_not_part_of_the_id_so_a_rerun_computes_the_crashed_runs_id() -> None:
    first_run = size_one(run_id="cycle-a")
    rerun = size_one(run_id="cycle-b")
    assert first_run.intent_id == rerun.intent_id
    assert first_run.run_id != rerun.run_id


def test_each_part_of_the_decision_changes_the_id() -> None:
    base = make_intent_id("DU1", DAY, "momentum", "700", Side.BUY, 3)
    assert base != make_intent_id("DU2", DAY, "momentum", "700", Side.BUY, 3)
    assert base != make_intent_id("DU1", date(2026, 11, 25), "momentum", "700", Side.BUY, 3)
    assert base != make_intent_id("DU1", DAY, "gap", "700", Side.BUY, 3)
    assert base != make_intent_id("DU1", DAY, "momentum", "5", Side.BUY, 3)
    assert base != make_intent_id("DU1", DAY, "momentum", "700", Side.SELL, 3)
    assert base != make_intent_id("DU1", DAY, "momentum", "700", Side.BUY, 4)


def test_the_id_is_readable() -> None:
    assert make_intent_id("DU1", DAY, "m", "700", Side.SELL, 12).endswith("-261124-700-S-12")


@given(
    account=st.text(min_size=1, max_size=300).filter(str.strip),
    strategy=st.text(max_size=300),
    day=st.dates(date(2000, 1, 1), date(2099, 12, 31)),
    symbol=st.sampled_from(sorted(universe())),
    side=st.sampled_from(list(Side)),
    seq=st.integers(0, 999_999),
)
def test_every_order_ref_fits_ibs_order_ref_budget(
    account: str, strategy: str, day: date, symbol: str, side: Side, seq: int
) -> None:
    intent_id = make_intent_id(account, day, strategy, symbol, side, seq)
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


def numbering_over(recorded: dict[str, dict[int, str]]) -> IntentNumbering:
    return IntentNumbering(lambda prefix: recorded.get(prefix, {}))


def test_two_brackets_of_one_key_in_one_cycle_get_two_numbers() -> None:
    ids = IntentNumbering()
    first = ids.next_id("DU1", DAY, "m", "700", Side.BUY)
    second = ids.next_id("DU1", DAY, "m", "700", Side.BUY)
    assert (first[-2:], second[-2:]) == ("-0", "-1")


def test_a_crashed_submission_keeps_its_number_so_the_rerun_adopts_its_legs() -> None:
    prefix = intent_id_prefix("DU1", DAY, "m", "700", Side.BUY)
    for cut_off in ("submitted", "interrupted"):
        ids = numbering_over({prefix: {0: cut_off}})
        assert ids.next_id("DU1", DAY, "m", "700", Side.BUY) == prefix + "0"


@pytest.mark.parametrize("outcome", ["proven", "failed", "rejected", "dry_run", "adopted", "completed"])
def test_a_bracket_with_an_outcome_is_never_reused_by_a_later_cycle(outcome: str) -> None:
    prefix = intent_id_prefix("DU1", DAY, "m", "700", Side.BUY)
    ids = numbering_over({prefix: {0: "proven", 1: outcome}})
    assert ids.next_id("DU1", DAY, "m", "700", Side.BUY) == prefix + "2"


def test_the_next_day_starts_again_from_zero() -> None:
    prefix = intent_id_prefix("DU1", DAY, "m", "700", Side.BUY)
    ids = numbering_over({prefix: {0: "proven", 1: "proven"}})
    assert ids.next_id("DU1", date(2026, 11, 25), "m", "700", Side.BUY).endswith("-261125-700-B-0")


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
    ("account", "day", "symbol", "side", "seq"),
    [("", DAY, "700", "BUY", 1), ("  ", DAY, "700", "BUY", 1), ("DU1", "2026-11-24", "700", "BUY", 1),
     ("DU1", datetime(2026, 11, 24, tzinfo=HK_TZ), "700", "BUY", 1), ("DU1", DAY, "700.HK", "BUY", 1),
     ("DU1", DAY, "700", "hold", 1), ("DU1", DAY, "700", "BUY", -1), ("DU1", DAY, "700", "BUY", 1_000_000),
     ("DU1", DAY, "700", "BUY", True)],
)  # fmt: skip
def test_make_intent_id_refuses_bad_inputs(account: str, day: date, symbol: str, side: str, seq: int) -> None:
    with pytest.raises(InvalidIntentError):
        make_intent_id(account, day, "m", symbol, side, seq)
