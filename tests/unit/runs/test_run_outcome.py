"""The outcome a kernel records decides the command's exit code; a notebook's failure and the trade
log's unproven brackets are weighed in, so a crash mid-proof is not reported as a success."""

from __future__ import annotations

from pathlib import Path

from catalyst.cycle.outcome import CycleOutcome, ExitCode
from catalyst.ledger.errors import LeaseHeldError
from catalyst.reconcile.errors import TradingBlockedError
from catalyst.runs.manifest import Failure
from catalyst.runs.outcome import read_outcome, refusal_code, settle_outcome, write_outcome
from catalyst.runs.errors import BadRunParameterError

UNPROVEN = CycleOutcome(ExitCode.UNPROVEN, "sent", "0 of 2 bracket(s) sent and proven", 0, ("941", "700"))
CLEAN = {"intents": {"proven": 2}, "reconciliations": {"clean": 1}}


def test_what_the_kernel_wrote_is_read_back(tmp_path: Path) -> None:
    write_outcome(tmp_path, UNPROVEN)
    assert read_outcome(tmp_path) == UNPROVEN


def test_no_outcome_file_is_none_and_a_garbled_one_is_a_crash(tmp_path: Path) -> None:
    assert read_outcome(tmp_path) is None
    (tmp_path / "outcome.json").write_text("{not json")
    garbled = read_outcome(tmp_path)
    assert garbled is not None and garbled.code is ExitCode.CRASH


def test_the_kernels_outcome_is_the_runs_when_nothing_contradicts_it() -> None:
    assert settle_outcome(UNPROVEN, None, CLEAN).code is ExitCode.UNPROVEN
    assert settle_outcome(None, None, CLEAN).code is ExitCode.OK


def test_a_failed_cell_is_a_crash_unless_it_is_a_refusal() -> None:
    crash = Failure(cell=4, ename="KeyError", evalue="'x'")
    lease = Failure(cell=4, ename="LeaseHeldError", evalue="held by pid 7")
    assert settle_outcome(None, crash, CLEAN).code is ExitCode.CRASH
    assert settle_outcome(None, lease, CLEAN).code is ExitCode.REFUSED
    bad_url = Failure(cell=3, ename="AlertConfigError", evalue="alert channel json://x is not a URL apprise")
    assert settle_outcome(None, bad_url, CLEAN).code is ExitCode.BAD_INPUT


def test_a_kernel_that_died_with_a_bracket_left_unproven_exits_unproven() -> None:
    """The kernel never reached its last cell; the trade log shows a bracket sent but not proven."""
    crash = Failure(cell=None, ename="DeadKernelError", evalue="kernel died")
    summary = {"intents": {"proven": 1, "submitted": 1}}
    outcome = settle_outcome(None, crash, summary)
    assert outcome.code is ExitCode.UNPROVEN and "1 bracket(s)" in outcome.message


def test_a_kernel_that_said_ok_is_overruled_by_failed_intents_in_the_trade_log() -> None:
    ok = CycleOutcome(ExitCode.OK, "sent", "2 of 2")
    assert settle_outcome(ok, None, {"intents": {"failed": 1}}).code is ExitCode.UNPROVEN


def test_refusals_before_the_notebook_starts_have_their_codes_the_rest_is_bad_input() -> None:
    assert refusal_code(LeaseHeldError("held by pid 7 (cycle 2026...)")) is ExitCode.REFUSED
    assert refusal_code(TradingBlockedError("reconciliation failed")) is ExitCode.BLOCKED
    assert refusal_code(BadRunParameterError("-p universe 99999")) is ExitCode.BAD_INPUT
