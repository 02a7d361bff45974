"""Idempotent reruns over a real ledger: a rerun on the same day gets the crashed run's intent ids
back and resumes that intent as the crashed run recorded it; a later cycle, once the bracket has an
outcome, numbers its decision one higher."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from catalyst.cycle.rerun import ledger_numbering, split_resumed
from catalyst.domain import BracketIntent, Candidate, Side
from catalyst.ledger import Ledger
from catalyst.market import HK_TZ
from catalyst.risk.limits import RiskLimits
from catalyst.risk.position_sizing import size_candidates

AT = datetime(2026, 11, 24, 10, 5, tzinfo=HK_TZ)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.duckdb")


def decide(ledger: Ledger, run_id: str, entry: str = "600") -> BracketIntent:
    """One cycle's decision on 700: the same candidate, sized and numbered over the ledger."""
    cand = Candidate("700", Side.BUY, D(entry), D("590"), D("620"), 1.0, "gap", AT, "momentum")
    (intent,) = size_candidates(
        [cand],
        equity=D("1000000"),
        budget=D("1000000"),
        limits=RiskLimits(),
        run_id=run_id,
        account="DU1",
        numbering=ledger_numbering(ledger),
    )
    return intent


def record(ledger: Ledger, intent: BracketIntent, status: str) -> None:
    ledger.upsert("intents", intent.ledger_row(status))


@pytest.mark.parametrize("cut_off", ["submitted", "interrupted"])
def test_a_rerun_resumes_the_crashed_runs_intent_as_it_was_recorded(ledger: Ledger, cut_off: str) -> None:
    crashed = decide(ledger, "run-crashed")
    record(ledger, crashed, cut_off)
    rerun = decide(ledger, "run-rerun", entry="601")  # the market moved: a slightly different sizing
    assert rerun.intent_id == crashed.intent_id
    resumed, fresh = split_resumed(ledger, [rerun])
    assert fresh == []
    (again,) = resumed
    assert (again.entry, again.quantity, again.run_id) == (crashed.entry, crashed.quantity, "run-crashed")


@pytest.mark.parametrize("outcome", ["proven", "failed", "rejected", "dry_run", "completed", "abandoned"])
def test_a_later_cycle_after_an_outcome_gets_a_new_id(ledger: Ledger, outcome: str) -> None:
    first = decide(ledger, "run-1")
    record(ledger, first, outcome)
    later = decide(ledger, "run-2")
    assert later.intent_id != first.intent_id
    assert later.intent_id.endswith("-1") and first.intent_id.endswith("-0")
    assert split_resumed(ledger, [later]) == ([], [later])


def test_a_new_decision_is_fresh(ledger: Ledger) -> None:
    intent = decide(ledger, "run-1")
    assert split_resumed(ledger, [intent]) == ([], [intent])
