"""A cycle's outcome is its exit code: an unproven bracket, a refusal, a halt and a block each have
their own, distinct from success, a crash and bad input."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from catalyst.cycle.outcome import CycleOutcome, ExitCode, exit_code_table, most_urgent
from catalyst.cycle.report import REFUSED_COLUMNS, SENT_COLUMNS, CycleReport


def report(status: str = "sent", sent: Sequence[tuple[str, str]] = (), **extra: Any) -> CycleReport:
    rows = [dict.fromkeys(SENT_COLUMNS, "") | {"symbol": s, "outcome": o} for s, o in sent]
    return CycleReport(
        run_id="r1",
        mode="sim",
        account="DU0000001",
        server_time=datetime(2026, 11, 24, 2, tzinfo=UTC),
        phase="continuous",
        accepts_orders=True,
        status=status,
        message="m",
        sent=pd.DataFrame(rows, columns=SENT_COLUMNS),
        **extra,
    )


def test_the_codes_are_distinct_and_keep_the_shells_meaning_of_0_1_and_2() -> None:
    assert len({int(c) for c in ExitCode}) == len(ExitCode)
    assert (ExitCode.OK, ExitCode.CRASH, ExitCode.BAD_INPUT) == (0, 1, 2)
    assert ExitCode.UNPROVEN not in (ExitCode.REFUSED, ExitCode.HALTED, ExitCode.BLOCKED)


def test_the_table_lists_every_code_with_its_meaning() -> None:
    table = exit_code_table().splitlines()
    assert [int(line.split()[0]) for line in table] == [int(c) for c in ExitCode]
    assert "NOT proven" in table[int(ExitCode.UNPROVEN)]


def test_a_cycle_whose_brackets_were_all_proven_exits_0() -> None:
    assert report(sent=[("700", "proven"), ("5", "proven")]).outcome().code is ExitCode.OK


def test_one_bracket_not_proven_makes_the_cycle_unproven_and_names_the_symbol() -> None:
    outcome = report(sent=[("700", "proven"), ("941", "not_proven")]).outcome()
    assert outcome.code is ExitCode.UNPROVEN
    assert outcome.unproven == ("941",) and outcome.proven == 1


def test_a_blocked_cycle_exits_blocked() -> None:
    assert report(status="blocked").outcome().code is ExitCode.BLOCKED


def test_a_halted_cycle_exits_halted_even_with_no_candidate_refused() -> None:
    assert report(status="nothing_to_send", halted=True).outcome().code is ExitCode.HALTED


def test_entries_refused_by_the_breaker_make_the_cycle_halted() -> None:
    refused = pd.DataFrame(
        [{"stage": "pre-trade", "intent_id": "i", "symbol": "700", "side": "BUY", "code": "breaker_halted"}],
        columns=REFUSED_COLUMNS,
    )
    assert report(status="nothing_to_send", refused=refused).outcome().code is ExitCode.HALTED


def test_a_cycle_refused_for_the_account_lease_exits_refused() -> None:
    assert report(status="refused").outcome().code is ExitCode.REFUSED


def test_market_closed_nothing_to_send_and_dry_run_exit_0() -> None:
    for status in ("market_closed", "nothing_to_send", "dry_run"):
        assert report(status=status).outcome().code is ExitCode.OK, status


def test_the_most_urgent_code_wins() -> None:
    assert most_urgent([ExitCode.HALTED, ExitCode.UNPROVEN]) is ExitCode.UNPROVEN
    assert most_urgent([ExitCode.REFUSED, ExitCode.CRASH]) is ExitCode.CRASH
    assert most_urgent([]) is ExitCode.OK


def test_an_outcome_survives_its_trip_through_json() -> None:
    outcome = report(sent=[("941", "not_proven")]).outcome()
    again = CycleOutcome.from_dict(outcome.to_dict())
    assert again == outcome
    assert "exit 6, unproven" in again.line()


def test_an_unknown_recorded_code_counts_as_a_crash() -> None:
    assert ExitCode.parse("garbage") is ExitCode.CRASH
    assert ExitCode.parse(6) is ExitCode.UNPROVEN and ExitCode.parse("halted") is ExitCode.HALTED
    assert ExitCode.known(137) is None
