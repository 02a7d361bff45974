"""The rehearsal's judgements over observed values: each check's row, the table and the exit code."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from catalyst.market import HK_TZ
from catalyst.runs import rehearsal as r
from catalyst.runs.rehearsal_driver import project_env, run_id_from_output, view_from_frames

D = Decimal
INTENT = "abc123-261124-941-B-0"
BRACKET = r.PlannedBracket(INTENT, "941", "BUY", 3000, D("98.55"), D("95.1"), D("104.2"), "proven")


def _order(role: str, **kw: object) -> r.BrokerOrder:
    base: dict[str, object] = {
        "order_ref": f"{INTENT}:{role}",
        "perm_id": {"P": 11, "TP": 12, "SL": 13}[role],
        "order_id": {"P": 1, "TP": 2, "SL": 3}[role],
        "parent_id": 0 if role == "P" else 1,
        "parent_perm_id": 0 if role == "P" else 11,
        "symbol": "941",
        "side": "BUY" if role == "P" else "SELL",
        "order_type": {"P": "LMT", "TP": "LMT", "SL": "STP LMT"}[role],
        "quantity": 3000,
        "limit_price": {"P": D("98.55"), "TP": D("104.2"), "SL": D("94.85")}[role],
        "stop_price": D("95.1") if role == "SL" else None,
        "oca_group": "" if role == "P" else f"{INTENT}:OCA",
        "status": "Submitted",
    }
    base.update(kw)
    return r.BrokerOrder(**base)  # type: ignore[arg-type]


def _entry_fill(**kw: object) -> r.BrokerFill:
    base: dict[str, object] = {
        "order_ref": f"{INTENT}:P",
        "perm_id": 11,
        "order_id": 1,
        "symbol": "941",
        "side": "BUY",
        "quantity": 3000,
        "price": D("98.5"),
    }
    base.update(kw)
    return r.BrokerFill(**base)  # type: ignore[arg-type]


def _view(*orders: r.BrokerOrder, fills: tuple[r.BrokerFill, ...] = ()) -> r.BrokerView:
    return r.BrokerView(tuple(orders), fills, {"941": 3000})


# --- the table and the exit code -------------------------------------------------------------------


def test_exit_code_is_0_only_when_every_check_passed() -> None:
    ok = [r.passed("x", "seen"), r.passed("y", "seen")]
    assert r.exit_code(ok) == r.EXIT_ALL_PASSED == 0
    assert r.exit_code([*ok, r.failed("z", "broken")]) == r.EXIT_FAILED == 1
    assert r.exit_code([*ok, r.skipped("z", "not here")]) == r.EXIT_INCOMPLETE == 3
    assert r.exit_code([r.skipped("z", "x"), r.failed("w", "y")]) == 1, "a failure outranks a skip"
    assert r.exit_code([]) == 1, "an empty rehearsal proves nothing"


def test_the_table_shows_each_check_its_result_and_the_evidence_wrapped_under_its_column() -> None:
    rows = [
        r.passed(r.CHECK_CYCLE, "run 1: 2 bracket(s) sent and proven"),
        r.failed(r.CHECK_BREAKER, "the next cycle sent 2 new entries while halted: " + "x" * 150),
        r.skipped(r.CHECK_STOP, r.SKIP_NEEDS_CONTROL),
    ]
    table = r.render_table(rows, width=100).splitlines()
    assert table[0].split() == ["check", "result", "evidence"]
    column = table[0].index("evidence")
    body = table[2:]
    assert body[0].startswith(r.CHECK_CYCLE) and " pass " in body[0]
    assert body[1].startswith(r.CHECK_BREAKER) and " FAIL " in body[1]
    continued = [ln for ln in body if ln.startswith(" ")]
    assert continued and all(ln[:column].strip() == "" for ln in continued)
    assert all(len(ln) <= 100 for ln in table)
    assert "skipped: needs the simulator's control channel" in r.render_table(rows, width=200)


def test_the_summary_counts_and_names_the_verdict() -> None:
    rows = [r.passed("a", "x"), r.failed("b", "y"), r.skipped("c", "z")]
    assert r.summary_line(rows) == "rehearsal FAILED: 1 passed, 1 failed, 1 skipped"
    assert r.summary_line(rows[:1]) == "rehearsal passed: 1 passed, 0 failed, 0 skipped"
    assert r.summary_line([rows[0], rows[2]]).startswith("rehearsal incomplete")


def test_on_paper_every_order_placing_check_is_skipped_unless_place_orders_is_given() -> None:
    for check in r.PLACES_ORDERS:
        assert r.skip_reason(check, paper=True, place_orders=False, has_control=False) == (
            "skipped: places orders on a paper account; pass --place-orders"
        )
    assert r.skip_reason(r.CHECK_GATEWAY, paper=True, place_orders=False, has_control=False) is None
    assert r.skip_reason(r.CHECK_CYCLE, paper=True, place_orders=True, has_control=False) is None
    assert (
        r.skip_reason(r.CHECK_STOP, paper=True, place_orders=True, has_control=False) == r.SKIP_NEEDS_CONTROL
    )
    assert all(r.skip_reason(c, paper=False, place_orders=False, has_control=True) is None for c in r.CHECKS)


# --- when the simulator's clock must move ----------------------------------------------------------


def _hk(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=HK_TZ)


def test_a_morning_in_continuous_trading_needs_no_clock_move() -> None:
    assert r.rehearsal_start(_hk("2026-11-24T10:05")) is None


@pytest.mark.parametrize(
    ("now", "moved_to"),
    [
        ("2026-11-24T11:45", "2026-11-25T10:00"),  # lunch within 30 minutes
        ("2026-11-24T15:50", "2026-11-25T10:00"),  # the close within 30 minutes
        ("2026-11-24T08:00", "2026-11-24T10:00"),  # before the open: later today
        ("2026-11-28T10:00", "2026-11-30T10:00"),  # a Saturday: Monday
    ],
)
def test_otherwise_the_clock_moves_to_ten_oclock_of_the_next_session(now: str, moved_to: str) -> None:
    assert r.rehearsal_start(_hk(now)) == _hk(moved_to)


def test_a_fresh_simulator_starts_at_ten_of_the_next_session_whatever_the_hour() -> None:
    assert r.fresh_simulator_start(_hk("2026-11-24T10:05")) == _hk("2026-11-25T10:00")
    assert r.fresh_simulator_start(_hk("2026-11-24T08:00")) == _hk("2026-11-24T10:00")
    assert r.fresh_simulator_start(_hk("2026-11-27T23:00")) == _hk("2026-11-30T10:00")


def test_the_rerun_happens_on_the_next_trading_day() -> None:
    assert r.next_day_start(_hk("2026-11-24T10:05")) == _hk("2026-11-25T10:00")
    assert r.next_day_start(_hk("2026-11-24T08:00")) == _hk("2026-11-25T10:00")


# --- a. the cycle ----------------------------------------------------------------------------------


def test_a_cycle_passes_when_it_exits_0_and_every_bracket_it_sent_is_proven() -> None:
    row = r.check_cycle(r.CycleRun(0, "run-1", "ok", (BRACKET,)))
    assert row.passed and "1 bracket(s) sent and proven" in row.evidence and "941" in row.evidence


@pytest.mark.parametrize(
    ("run", "needle"),
    [
        (r.CycleRun(1, "run-1", "boom\ncycle run FAILED (archived)", (BRACKET,)), "exited 1"),
        (r.CycleRun(0, "", "no folder"), "exited 0"),
        (r.CycleRun(0, "run-1", "ok", ()), "sent no bracket"),
        (
            r.CycleRun(
                0,
                "run-1",
                "ok",
                (BRACKET, r.PlannedBracket("i2", "5", "BUY", 400, D(1), D(1), D(1), "failed")),
            ),
            "1 bracket(s) not proven",
        ),
    ],
)
def test_a_cycle_fails_on_a_bad_exit_no_run_nothing_sent_or_an_unproven_bracket(
    run: r.CycleRun, needle: str
) -> None:
    row = r.check_cycle(run)
    assert row.result == r.FAIL and needle in row.evidence


def test_a_dry_run_cycle_says_so_in_its_name() -> None:
    row = r.check_cycle(r.CycleRun(0, "run-1", "ok", (), dry_run=True))
    assert row.passed and row.check == "a. full cycle (dry run: nothing sent)"


# --- b. structure ----------------------------------------------------------------------------------


def test_a_bracket_as_decided_passes_with_a_filled_entry_read_from_the_fills() -> None:
    view = _view(_order("TP"), _order("SL"), fills=(_entry_fill(),))
    assert r.bracket_problems(BRACKET, view) == []
    row = r.check_structure([BRACKET], view, source="a read-only session")
    assert row.passed and f"OCA {INTENT}:OCA" in row.evidence and "STP LMT 95.1" in row.evidence


def test_a_working_entry_is_checked_field_by_field() -> None:
    view = _view(_order("P", order_type="MKT", limit_price=None), _order("TP"), _order("SL"))
    assert r.bracket_problems(BRACKET, view) == ["entry type MKT (want LMT)", "entry limit none (want 98.55)"]


@pytest.mark.parametrize(
    ("legs", "problem"),
    [
        ((_order("TP"), _order("SL", stop_price=D("95.2"))), "stop stop 95.2 (want 95.1)"),
        ((_order("TP", side="BUY"), _order("SL")), "target side BUY (want SELL)"),
        ((_order("TP", quantity=2000), _order("SL")), "target quantity 2000 (want 3000)"),
        ((_order("TP"), _order("SL", order_type="LMT")), "stop type LMT (want STP or STP LMT)"),
        ((_order("TP", parent_id=9, parent_perm_id=99), _order("SL")), "target is not a child of the entry"),
        ((_order("TP", oca_group="other"), _order("SL")), "target and stop are not one OCA group"),
        ((_order("TP", oca_group=""), _order("SL", oca_group="")), "not one OCA group"),
        ((_order("SL"),), f"0 target orders with orderRef {INTENT}:TP"),
        ((_order("TP"), _order("SL"), _order("SL", perm_id=14)), "2 stop orders"),
    ],
)
def test_each_structural_fault_is_named(legs: tuple[r.BrokerOrder, ...], problem: str) -> None:
    problems = r.bracket_problems(BRACKET, _view(*legs, fills=(_entry_fill(),)))
    assert any(problem in p for p in problems), problems
    assert r.check_structure([BRACKET], _view(*legs, fills=(_entry_fill(),)), source="s").result == r.FAIL


def test_an_entry_neither_working_nor_filled_or_filled_beyond_its_limit_is_named() -> None:
    assert "no entry" in r.bracket_problems(BRACKET, _view(_order("TP"), _order("SL")))[0]
    worse = r.bracket_problems(
        BRACKET, _view(_order("TP"), _order("SL"), fills=(_entry_fill(price=D("99")),))
    )
    assert worse == ["entry filled at 99, beyond its limit 98.55"]


def test_structure_with_nothing_proven_fails() -> None:
    assert r.check_structure([], _view(), source="s").result == r.FAIL


# --- c. the stop -----------------------------------------------------------------------------------


def test_a_stop_that_filled_and_closed_the_position_passes() -> None:
    trial = r.StopTrial("941", D("95.1"), D("95.05"), 3000, 0, "Filled", 3000, D("95.05"), "Cancelled", 2.0)
    row = r.check_stop(trial)
    assert row.passed and "position 3000 -> 0" in row.evidence and "target Cancelled" in row.evidence


@pytest.mark.parametrize(
    "trial",
    [
        r.StopTrial("941", D("95.1"), D("95.05"), 3000, 3000, "Submitted", 0),
        r.StopTrial("941", D("95.1"), D("95.05"), 3000, 3000, "Filled", 3000),  # filled, yet still held
        r.StopTrial("941", D("95.1"), None, 3000, 3000, "", 0, error="the simulator refused"),
    ],
)
def test_a_stop_that_did_not_fill_or_left_the_position_fails(trial: r.StopTrial) -> None:
    assert r.check_stop(trial).result == r.FAIL


# --- d. the breaker --------------------------------------------------------------------------------


def _cycle(output: str = "cycle run ok") -> r.CycleRun:
    return r.CycleRun(0, "run-2", output)


def test_a_refused_cycle_after_the_trip_passes() -> None:
    trial = r.BreakerTrial(True, "day loss 500 HKD", "", _cycle(), halted_refusals=2)
    row = r.check_breaker(trial)
    assert row.passed and "2 entries refused as halted" in row.evidence and "0 new entries" in row.evidence


def test_a_cycle_that_sends_while_halted_fails_naming_the_entries() -> None:
    trial = r.BreakerTrial(True, "loss", "", _cycle(), new_entries=("i1:P", "i2:P"))
    row = r.check_breaker(trial)
    assert row.result == r.FAIL and "sent 2 new entries while halted: i1:P, i2:P" in row.evidence


def test_a_send_while_halted_names_a_trip_recorded_under_another_account() -> None:
    trial = r.BreakerTrial(
        True, "loss", "", _cycle(), new_entries=("i1:P",), recorded_account="", account="DU1"
    )
    row = r.check_breaker(trial)
    assert (
        row.result == r.FAIL
        and "recorded under account '(empty)' while the cycle trades 'DU1'" in row.evidence
    )


def test_a_send_while_halted_names_a_trip_stamped_on_another_clock() -> None:
    """The simulator's clock a day ahead of the wall clock that stamped the trip."""
    trial = r.BreakerTrial(
        True, "loss", "", _cycle(), new_entries=("i1:P",), recorded_account="DU1", account="DU1",
        tripped_at=_hk("2026-11-24T15:32"), broker_time=_hk("2026-11-25T10:01"),
        halt_until=_hk("2026-11-25T09:30"), halted_at_broker_time=False,
    )  # fmt: skip
    row = r.check_breaker(trial)
    assert row.result == r.FAIL
    assert "stamped 2026-11-24 15:32 HKT, so at the broker's time 2026-11-25 10:01 HKT" in row.evidence


def test_no_trip_or_a_silent_empty_cycle_fails() -> None:
    assert r.check_breaker(r.BreakerTrial(False, "", "polling", None, waited_seconds=120)).result == r.FAIL
    exited = r.check_breaker(r.BreakerTrial(False, "", "ImportError: x", None, monitor_exit=1))
    assert exited.result == r.FAIL and "exited by itself (code 1)" in exited.evidence
    silent = r.check_breaker(r.BreakerTrial(True, "loss", "", _cycle("0 candidate(s); nothing sent")))
    assert silent.result == r.FAIL and "not proven" in silent.evidence


def test_a_cycle_refused_before_the_scan_counts_when_it_says_halted() -> None:
    said = _cycle("refused: account DU1 is halted by the circuit breaker")
    assert r.check_breaker(r.BreakerTrial(True, "loss", "", said)).passed


# --- e. crash and rerun ----------------------------------------------------------------------------

SENT = (f"{INTENT}:P", f"{INTENT}:SL", f"{INTENT}:TP")


def _rerun(**kw: object) -> r.RerunTrial:
    base: dict[str, object] = {
        "sent_before_kill": SENT,
        "killed_returncode": -9,
        "crashed_output": "",
        "rerun": r.CycleRun(0, "run-3", "ok"),
        "killed_processes": 2,
        "entries_per_symbol": {"941": 1},
        "crashed": (BRACKET,),
        "rerun_decisions": (BRACKET,),  # the same decision, the same intent id: adopted
    }
    base.update(kw)
    return r.RerunTrial(**base)  # type: ignore[arg-type]


def test_a_rerun_that_adopts_with_one_entry_per_symbol_and_every_order_on_record_passes() -> None:
    row = r.check_rerun(_rerun())
    assert row.passed and f"adopted {INTENT}" in row.evidence and "2 processes" in row.evidence
    assert r.check_rerun(_rerun(rerun_decisions=(), adopted_by_rerun=(INTENT,))).passed


def test_a_rerun_that_decides_the_same_again_under_a_new_id_does_not_adopt() -> None:
    """The old failure: only the pre-trade duplicate check stops the second order."""
    again = r.PlannedBracket(INTENT[:-1] + "1", "941", "BUY", 3000, D(1), D(1), D(1), "rejected")
    row = r.check_rerun(_rerun(rerun_decisions=(again,)))
    assert row.result == r.FAIL
    assert (
        f"decided 941 BUY again as {again.intent_id} (rejected), not as the dead run's {INTENT}"
        in row.evidence
    )


def test_a_rerun_that_does_not_decide_the_crashed_bracket_again_proves_no_adoption() -> None:
    row = r.check_rerun(_rerun(rerun_decisions=()))
    assert row.result == r.FAIL and "did not decide 941 BUY again" in row.evidence


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"sent_before_kill": ()}, "sent nothing before it ended"),
        ({"killed_returncode": 0, "rerun": None}, "finished normally (exit 0) before it could be killed"),
        ({"entries_per_symbol": {"941": 2}}, "duplicate entries: 941 x2"),
        ({"unknown_to_ledger": (f"{INTENT}:SL",)}, "missing from the ledger"),
        ({"unlinked": (f"{INTENT}:P",)}, "not linked to their intent"),
        ({"left_open": (INTENT,)}, "still open in the ledger"),
        ({"rerun": r.CycleRun(1, "", "Traceback")}, "the rerun failed"),
    ],
)
def test_a_duplicate_an_order_off_the_record_or_a_dead_intent_left_open_fails(
    kw: dict[str, object], needle: str
) -> None:
    row = r.check_rerun(_rerun(**kw))
    assert row.result == r.FAIL and needle in row.evidence, row.evidence


# --- the driver's pure edges -----------------------------------------------------------------------


def test_the_project_environment_points_every_path_into_the_project(tmp_path: Path) -> None:
    base = {
        "CATALYST_IB_PORT": "7497",
        "CATALYST_PATHS__LEDGER": "/trader/ledger.duckdb",
        "CATALYST_RUN_ID": "r1",
        "CATALYST_RISK__MAX_POSITIONS": "3",
        "PATH": "/bin",
    }
    env = project_env(
        base, tmp_path, mode="sim", config_file=tmp_path / "c.toml", gateway=("127.0.0.1", 4102)
    )
    assert env["CATALYST_PATHS__LEDGER"] == str(tmp_path / "state" / "ledger.duckdb")
    assert env["CATALYST_PATHS__RUNS_DIR"] == str(tmp_path / "runs")
    assert env["CATALYST_ALERTS__ALERT_FILE"] == str(tmp_path / "state" / "alerts.jsonl")
    assert env["CATALYST_BROKER__PORT"] == "4102" and "CATALYST_IB_PORT" not in env
    assert "CATALYST_RUN_ID" not in env and env["CATALYST_RISK__MAX_POSITIONS"] == "3"
    assert env["CATALYST_CONFIG"] == str((tmp_path / "c.toml").resolve()) and env["PATH"] == "/bin"
    paper = project_env(base, tmp_path, mode="paper", config_file=None)
    assert paper["CATALYST_IB_PORT"] == "7497", "on paper the configured gateway is kept"


def test_the_run_id_comes_from_the_printed_run_folders_manifest(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({"run_id": "20261124-100000-cycle-abc"}))
    out = f"Running trading_cycle.ipynb...\nRun folder: {tmp_path}\nReport: x\n"
    assert run_id_from_output(out) == "20261124-100000-cycle-abc"
    assert run_id_from_output("Traceback ...") == ""


def test_session_frames_become_broker_orders_with_missing_prices_as_none() -> None:
    orders = pd.DataFrame(
        [{"order_ref": f"{INTENT}:TP", "perm_id": 12, "order_id": 2, "parent_id": 1, "parent_perm_id": 11,
          "symbol": "941", "side": "SELL", "order_type": "LMT", "quantity": 3000, "limit_price": D("104.2"),
          "stop_price": float("nan"), "oca_group": f"{INTENT}:OCA", "status": "Submitted", "filled": 0}]
    )  # fmt: skip
    fills = pd.DataFrame(
        [{"order_ref": f"{INTENT}:P", "perm_id": 11, "order_id": 1, "symbol": "941", "side": "BUY",
          "quantity": 3000, "price": D("98.5")}]
    )  # fmt: skip
    positions = pd.DataFrame([{"symbol": "941", "quantity": 3000}])
    view = view_from_frames(orders, fills, positions)
    assert view.orders[0].stop_price is None and view.orders[0].limit_price == D("104.2")
    assert view.positions == {"941": 3000} and view.entry_refs() == {f"{INTENT}:P"}
