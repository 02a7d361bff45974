"""From candidates to sized bracket intents: whole board lots, risk per trade within the limit.

This is the step between ``strategy.scan`` and ``catalyst.risk.pre_trade``, shared by the
backtester and the trading cycle (through the cycle notebook), so both size identically.
Quantity is the largest whole number of board lots such that

* the loss at the stop, fees of both fills included (``catalyst.risk.pretrade.risk_of``, the very
  function the pre-trade check applies), is at most ``limits.max_risk_fraction`` x equity;
* the entry's value stays within ``budget`` (buying power, and ``max_notional_per_position``);
* the order stays within HKEX's maximum of 3,000 board lots.

A candidate that cannot afford one lot is skipped (logged), not sent with zero shares.

Intent ids come from the decision (``catalyst.domain.make_intent_id``): account, the candidate's
Hong Kong trading day, strategy, symbol, side and a sequence number from an
:class:`~catalyst.domain.IntentNumbering` (the cycle's reads the ledger, so a rerun after a crash
gets the crashed run's ids back; a backtest numbers its own decisions). A backtest has no account:
its run id stands in for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import structlog

from catalyst.domain import BracketIntent, Candidate, IntentNumbering
from catalyst.market import MAX_LOTS_PER_ORDER, as_hk_date, board_lot, shares_for_budget
from catalyst.risk.limits import RiskLimits
from catalyst.risk.pretrade import risk_of

__all__ = ["MAX_LOTS_PER_ORDER", "size_candidate", "size_candidates"]

log = structlog.get_logger(__name__)


def size_candidate(
    candidate: Candidate,
    *,
    equity: Decimal,
    budget: Decimal,
    limits: RiskLimits,
    intent_id: str,
    run_id: str = "",
    account: str = "",
) -> BracketIntent | None:
    """The candidate as an intent of the largest allowed whole-lot quantity, or None if < 1 lot."""
    lot = board_lot(candidate.symbol)
    allowed_risk = (limits.max_risk_fraction * equity).quantize(Decimal("0.01"))
    cap = budget
    if limits.max_notional_per_position is not None:
        cap = min(cap, limits.max_notional_per_position)
    per_share = abs(candidate.entry - candidate.stop)
    lots = min(
        MAX_LOTS_PER_ORDER,
        shares_for_budget(max(cap, Decimal(0)), candidate.entry, candidate.symbol) // lot,
        int(allowed_risk // (per_share * lot)) if per_share > 0 else 0,
    )
    while lots > 0:
        intent = BracketIntent(
            intent_id=intent_id,
            symbol=candidate.symbol,
            side=candidate.side,
            quantity=lots * lot,
            entry=candidate.entry,
            stop=candidate.stop,
            target=candidate.target,
            strategy=candidate.strategy,
            reason=candidate.reason,
            score=candidate.score,
            run_id=run_id,
            account=account,
            created_at=candidate.at,
        )
        if risk_of(intent) <= allowed_risk:
            return intent
        lots -= 1  # fees pushed the risk over the limit: one lot fewer
    log.info(
        "research.sizing.skipped",
        symbol=candidate.symbol,
        side=candidate.side.value,
        entry=str(candidate.entry),
        stop=str(candidate.stop),
        equity=str(equity),
        budget=str(budget),
        reason="not even one board lot fits the risk or the budget",
    )
    return None


def size_candidates(
    candidates: Sequence[Candidate],
    *,
    equity: Decimal,
    budget: Decimal,
    limits: RiskLimits,
    run_id: str,
    account: str = "",
    numbering: IntentNumbering | None = None,
) -> list[BracketIntent]:
    """Size each candidate in order; each gets ``numbering.next_id(account or run_id, day, strategy,
    symbol, side)`` (default numbering: a fresh one, nothing recorded)."""
    ids = numbering if numbering is not None else IntentNumbering()
    out: list[BracketIntent] = []
    for cand in candidates:
        intent_id = ids.next_id(account or run_id, as_hk_date(cand.at), cand.strategy, cand.symbol, cand.side)
        intent = size_candidate(
            cand,
            equity=equity,
            budget=budget,
            limits=limits,
            intent_id=intent_id,
            run_id=run_id,
            account=account,
        )
        if intent is not None:
            out.append(intent)
    return out
