"""Live trading is refused unless the account is live and enough clean paper days are on record."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from catalyst.runs.golive_gate import RunFacts, evaluate_gate, is_live_account, require_golive
from catalyst.runs.errors import GoLiveRefusedError

CLEAN_CYCLE = {"intents": {"proven": 2, "rejected": 1}, "reconciliations": {}}
CLEAN_REC = {"intents": {}, "reconciliations": {"clean": 1}}


def _day(
    d: date,
    *,
    cycle: dict[str, object] | None = None,
    rec: dict[str, object] | None = None,
    mode: str = "paper",
    intact: bool = True,
) -> list[RunFacts]:
    return [
        RunFacts(d, f"{d}/093000-reconcile-aaaaaa", "reconcile", mode, "ok", intact, rec or CLEAN_REC),
        RunFacts(d, f"{d}/100000-cycle-bbbbbb", "cycle", mode, "ok", intact, cycle or CLEAN_CYCLE),
    ]


def _days(n: int, **kw: object) -> list[RunFacts]:
    out: list[RunFacts] = []
    for i in range(n):
        out += _day(date(2026, 11, 2) + timedelta(days=i), **kw)  # type: ignore[arg-type]
    return out


def test_a_live_account_with_enough_clean_paper_days_passes() -> None:
    decision = evaluate_gate("U1234567", _days(10), 10)
    assert decision.passed and len(decision.qualifying_days) == 10


def test_a_paper_account_is_refused_and_told_what_a_live_id_looks_like() -> None:
    decision = evaluate_gate("DU1234567", _days(10), 10)
    assert not decision.passed
    assert "starts with U" in decision.missing[0]


def test_too_few_paper_days_says_how_many_are_on_record() -> None:
    decision = evaluate_gate("U1234567", _days(3), 10)
    assert len(decision.missing) == 1
    assert "holds 3 clean paper-trading day(s); live needs 10" in decision.missing[0]


def test_a_day_with_an_unproven_bracket_does_not_count_and_is_named() -> None:
    runs = _days(9) + _day(date(2026, 12, 1), cycle={"intents": {"proven": 1, "failed": 1}})
    decision = evaluate_gate("U1234567", runs, 10)
    assert not decision.passed
    assert "2026-12-01" in decision.missing[0] and "1 unproven bracket" in decision.missing[0]


def test_a_day_whose_reconciliation_corrected_something_does_not_count() -> None:
    runs = _days(9) + _day(date(2026, 12, 1), rec={"reconciliations": {"corrected": 1}})
    assert "reconciliation not clean" in evaluate_gate("U1234567", runs, 10).missing[0]


def test_sim_runs_do_not_count_as_paper_trading() -> None:
    assert not evaluate_gate("U1234567", _days(10, mode="sim"), 10).passed


def test_runs_that_no_longer_verify_do_not_count() -> None:
    decision = evaluate_gate("U1234567", _days(10, intact=False), 10)
    assert not decision.passed and "does not verify" in decision.missing[0]


def test_a_day_with_cycles_but_no_reconciliation_does_not_count() -> None:
    runs = [r for r in _days(10) if r.kind == "cycle"]
    assert "no reconciliation" in evaluate_gate("U1234567", runs, 10).missing[0]


def test_is_live_account_tells_live_from_paper_ids() -> None:
    assert [is_live_account(a) for a in ("U123", "DU123", "", None, "Uabc")] == [
        True,
        False,
        False,
        False,
        False,
    ]


def test_an_empty_archive_refuses_live_with_both_reasons(tmp_path: object) -> None:
    from pathlib import Path

    with pytest.raises(GoLiveRefusedError) as err:
        require_golive("DU1", Path(str(tmp_path)) / "runs", 10)
    assert len(err.value.missing) == 2
    assert "holds 0 clean paper-trading day(s)" in str(err.value)


def test_an_unclean_startup_reconciliation_of_a_cycle_spoils_the_day() -> None:
    cycle = {"intents": {"proven": 1}, "reconciliations": {"corrected": 1}}
    runs = _days(9) + _day(date(2026, 12, 1), cycle=cycle)
    assert "100000-cycle-bbbbbb reconciliation not clean" in evaluate_gate("U1234567", runs, 10).missing[0]
