"""Live intents beside the backtester's: every row says whether they match and why not."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from catalyst.cycle.backtest_compare import compare_intents


def _frame(rows: list[tuple[str, str, int, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "symbol": s,
                "side": side,
                "quantity": q,
                "entry": Decimal(e),
                "stop": Decimal("1"),
                "target": Decimal("9"),
            }
            for s, side, q, e in rows
        ]
    )


def test_identical_orders_match() -> None:
    live = _frame([("700", "BUY", 100, "5")]).assign(status="proven")
    out = compare_intents("r", "t", live, _frame([("700", "BUY", 100, "5")]))
    assert out["match"].tolist() == [True]
    assert out["explanation"].tolist() == ["same order"]


def test_a_quantity_difference_is_named() -> None:
    live = _frame([("700", "BUY", 200, "5")]).assign(status="proven")
    out = compare_intents("r", "t", live, _frame([("700", "BUY", 100, "5")]))
    assert out["explanation"].tolist() == ["differs in quantity"]


def test_orders_on_one_side_only_are_explained() -> None:
    live = _frame([("700", "BUY", 100, "5")]).assign(status="proven")
    out = compare_intents("r", "t", live, _frame([("5", "BUY", 400, "5")])).sort_values("symbol")
    assert [e.split(":")[0] for e in out["explanation"]] == ["backtest only", "live only"]
    assert not out["match"].any()


def test_decisions_are_found_by_the_broker_clock_not_the_time_they_were_logged(tmp_path: object) -> None:
    import json
    from datetime import datetime
    from pathlib import Path

    from catalyst.cycle.backtest_compare import decision_inputs
    from catalyst.ledger import Ledger, new_id
    from catalyst.market import HK_TZ

    ledger = Ledger(Path(str(tmp_path)) / "ledger.duckdb")
    logged = datetime(2026, 11, 24, 8, 0, tzinfo=HK_TZ)  # wall clock; the simulator is a day ahead
    for run, at in (("r1", "2026-11-25T10:00:00+08:00"), ("r2", "2026-11-24T10:00:00+08:00")):
        ledger.append(
            "log_events",
            {
                "event_id": new_id(),
                "ts": logged,
                "run_id": run,
                "level": "info",
                "event": "cycle.decision_inputs",
                "logger": "t",
                "payload": json.dumps({"at": at, "equity": "1"}),
            },
        )
    found = decision_inputs(
        ledger, datetime(2026, 11, 25, tzinfo=HK_TZ), datetime(2026, 11, 26, tzinfo=HK_TZ)
    )
    assert found["run_id"].tolist() == ["r1"]


def test_a_replay_on_the_cycles_own_code_is_not_flagged() -> None:
    from catalyst.cycle.backtest_compare import code_difference

    assert code_difference("momentum", "ab" * 32, "ab" * 32) is None


def test_a_replay_on_changed_code_is_named_and_never_counts_as_a_match() -> None:
    from catalyst.cycle.backtest_compare import code_difference, flag_code_difference

    note = code_difference("always-700", "a" * 64, "b" * 64)
    assert note == (
        "strategy 'always-700' changed since the cycle (code fingerprint aaaaaaaaaaaa then, "
        "bbbbbbbbbbbb now): the backtest replays different code"
    )
    live = _frame([("700", "BUY", 100, "5")]).assign(status="proven")
    rows = flag_code_difference(compare_intents("r", "t", live, _frame([("700", "BUY", 100, "5")])), note)
    assert rows["match"].tolist() == [False]
    assert rows["explanation"].tolist() == [f"same order; {note}"]


def test_a_cycle_that_recorded_no_fingerprint_says_the_replay_may_differ() -> None:
    from catalyst.cycle.backtest_compare import code_difference

    assert "recorded no code fingerprint" in str(code_difference("momentum", None, "c" * 64))
