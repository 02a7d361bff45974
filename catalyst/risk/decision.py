"""The one decision, for the live cycle and the backtester alike: candidates to approved intents.

    candidates --size (whole lots, risk per trade)--> intents
               --split (a crashed run's, to adopt)--> resumed | fresh
               --pre-trade checks (fresh only)----> approved | refused

:func:`decide` is pure: everything it looks at arrives in :class:`DecisionInputs` (the account
view, the broker's time, positions, symbols with a working entry, the limits, the halt and locks),
and the two things that read the ledger in a live cycle arrive as values too (the numbering of the
day's decisions, and which intents a crashed run already sent). The trading cycle gathers those
from the broker and the ledger; the backtester from its simulated book and its own day's P&L, so
live and backtest cannot drift apart (the predecessor's two copies, in another form).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import structlog

from catalyst.domain import BracketIntent, Candidate, IntentNumbering
from catalyst.risk.limits import RiskLimits
from catalyst.risk.position_sizing import size_candidates
from catalyst.risk.pretrade import AccountView, PreTradeContext, PreTradeResult, Rejection, pre_trade
from catalyst.risk.state import RiskState

log = structlog.get_logger(__name__)

#: Splits sized intents into (resumed, fresh): those a crashed run of the same day already sent,
#: as that run recorded them (adopted, never judged again), and the new decisions.
ResumeSplit = Callable[[Sequence[BracketIntent]], tuple[list[BracketIntent], list[BracketIntent]]]


def nothing_resumed(intents: Sequence[BracketIntent]) -> tuple[list[BracketIntent], list[BracketIntent]]:
    """The split when no run can have been cut off (a backtest, a dry run's first decision)."""
    return [], list(intents)


@dataclass(frozen=True)
class DecisionInputs:
    """What one decision looks at, all of it, gathered before it is taken."""

    candidates: Sequence[Candidate]
    account: AccountView
    now: datetime
    limits: RiskLimits
    run_id: str
    account_id: str = ""  # the broker account (empty in a backtest: its run id numbers its intents)
    positions: Mapping[str, int] = field(default_factory=dict)
    open_entry_symbols: frozenset[str] = frozenset()
    risk_state: RiskState = field(default_factory=RiskState)
    numbering: IntentNumbering | None = None  # default: a fresh numbering (nothing recorded)
    last: Mapping[str, Decimal] = field(default_factory=dict)  # each symbol's last traded price
    resume: ResumeSplit = nothing_resumed


@dataclass(frozen=True)
class Decision:
    """The outcome: what to send (resumed ones to adopt, then the approved), and what was refused."""

    sized: tuple[BracketIntent, ...]
    resumed: tuple[BracketIntent, ...]
    verdict: PreTradeResult
    risk_state: RiskState
    candidates: int

    @property
    def approved(self) -> tuple[BracketIntent, ...]:
        return self.verdict.approved

    @property
    def rejections(self) -> tuple[Rejection, ...]:
        return self.verdict.rejections

    @property
    def to_send(self) -> tuple[BracketIntent, ...]:
        """In order: the crashed run's intents to adopt, then the new approvals."""
        return (*self.resumed, *self.verdict.approved)

    @property
    def too_small(self) -> int:
        """Candidates that could not afford one board lot (skipped by sizing, not refused)."""
        return self.candidates - len(self.sized)


def decide(inputs: DecisionInputs) -> Decision:
    """Size the candidates, set aside what a crashed run already sent, judge the rest."""
    sized = size_candidates(
        inputs.candidates,
        equity=inputs.account.equity,
        budget=inputs.account.buying_power,
        limits=inputs.limits,
        run_id=inputs.run_id,
        account=inputs.account_id,
        numbering=inputs.numbering,
    )
    resumed, fresh = inputs.resume(sized)
    context = PreTradeContext(
        account=inputs.account,
        now=inputs.now,
        positions=dict(inputs.positions),
        open_entry_symbols=inputs.open_entry_symbols,
        risk_state=inputs.risk_state,
        last=inputs.last,
    )
    verdict = pre_trade(fresh, context, inputs.limits)
    log.info(
        "risk.decision",
        run_id=inputs.run_id,
        at=inputs.now.isoformat(),
        candidates=len(inputs.candidates),
        sized=len(sized),
        resumed=[i.intent_id for i in resumed],
        approved=[i.intent_id for i in verdict.approved],
        refused=len(verdict.rejections),
        halted=inputs.risk_state.halted,
    )
    return Decision(
        sized=tuple(sized),
        resumed=tuple(resumed),
        verdict=verdict,
        risk_state=inputs.risk_state,
        candidates=len(inputs.candidates),
    )
