"""The one decision (issue 11): candidates in, the intents to send and the refusals out. The live
cycle and the backtester both call :func:`decide`; each outcome is specified here once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal as D

from catalyst.domain import BracketIntent, Candidate, IntentNumbering, Side
from catalyst.market import HK_TZ
from catalyst.risk.decision import DecisionInputs, decide
from catalyst.risk.limits import RiskLimits
from catalyst.risk.pretrade import AccountView
from catalyst.risk.state import RiskState

MORNING = datetime(2026, 11, 24, 10, 5, tzinfo=HK_TZ)
RICH = AccountView(equity=D("1000000"), buying_power=D("1000000"))


def candidate(symbol: str = "700", entry: str = "600", stop: str = "590", target: str = "620") -> Candidate:
    return Candidate(symbol, Side.BUY, D(entry), D(stop), D(target), 1.0, "test", MORNING, "momentum")


def inputs(cands: Sequence[Candidate], **kw: object) -> DecisionInputs:
    base: dict[str, object] = {
        "candidates": cands,
        "account": RICH,
        "now": MORNING,
        "limits": RiskLimits(),
        "run_id": "run-1",
        "account_id": "DU0000001",
    }
    base.update(kw)
    return DecisionInputs(**base)  # type: ignore[arg-type]


def test_a_sound_candidate_is_sized_in_whole_lots_and_approved() -> None:
    decision = decide(inputs([candidate()]))
    (intent,) = decision.approved
    assert intent.quantity % 100 == 0 and intent.quantity > 0  # 700's board lot is 100
    assert intent.account == "DU0000001" and intent.run_id == "run-1"
    assert decision.to_send == decision.approved and decision.rejections == ()


def test_a_candidate_too_small_for_one_lot_is_skipped_not_refused() -> None:
    poor = AccountView(equity=D("1000"), buying_power=D("1000"))
    decision = decide(inputs([candidate()], account=poor))
    assert decision.sized == () and decision.too_small == 1 and decision.rejections == ()


def test_while_halted_every_entry_is_refused_by_the_breaker() -> None:
    halted = RiskState(halted=True, halt_reason="day P&L -30,000 HKD")
    decision = decide(inputs([candidate(), candidate("5", "60", "59", "62")], risk_state=halted))
    assert decision.approved == ()
    assert [r.code.value for r in decision.rejections] == ["breaker_halted", "breaker_halted"]


def test_a_held_symbol_and_the_position_limit_are_refused() -> None:
    decision = decide(
        inputs(
            [candidate("700"), candidate("5", "60", "59", "62")],
            positions={"700": 100},
            limits=RiskLimits(max_positions=1),
        )
    )
    assert [(r.intent.symbol, r.code.value) for r in decision.rejections] == [
        ("700", "duplicate_symbol"),
        ("5", "max_positions"),
    ]


def test_a_locked_symbol_is_refused_and_the_others_pass() -> None:
    locked = RiskState(locks={"700": "drift found by reconciliation"})
    decision = decide(inputs([candidate("700"), candidate("5", "60", "59", "62")], risk_state=locked))
    assert [i.symbol for i in decision.approved] == ["5"]
    assert [r.code.value for r in decision.rejections] == ["symbol_locked"]


def test_what_a_crashed_run_sent_is_resumed_as_recorded_and_not_judged_again() -> None:
    """Even while halted: the legs are already at the broker; adopting them sends nothing new."""
    recorded: list[BracketIntent] = []

    def resume(intents: Sequence[BracketIntent]) -> tuple[list[BracketIntent], list[BracketIntent]]:
        recorded.extend(intents[:1])
        return list(intents[:1]), list(intents[1:])

    halted = RiskState(halted=True, halt_reason="tripped")
    decision = decide(
        inputs([candidate("700"), candidate("5", "60", "59", "62")], resume=resume, risk_state=halted)
    )
    assert decision.resumed == tuple(recorded) and [i.symbol for i in decision.resumed] == ["700"]
    assert decision.to_send == decision.resumed
    assert [r.intent.symbol for r in decision.rejections] == ["5"]


def test_the_numbering_gives_the_ids_a_rerun_would_compute_again() -> None:
    first = decide(inputs([candidate()], numbering=IntentNumbering()))
    again = decide(inputs([candidate()], numbering=IntentNumbering()))
    assert [i.intent_id for i in first.sized] == [i.intent_id for i in again.sized]
