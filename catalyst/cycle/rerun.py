"""Idempotent reruns: a cycle rerun on the same day after a crash adopts what the crashed run sent.

Intent ids follow from the decision (:func:`catalyst.domain.make_intent_id`: account, Hong Kong
trading day, strategy, symbol, side, sequence), never from the run. The cycle numbers its decisions
with :func:`ledger_numbering`: the sequence of a key is the smallest number whose intent the ledger
does not hold with an outcome. So

* a rerun after a crash computes the crashed run's id again: that intent is still ``submitted``
  (written before anything was sent) or ``interrupted`` (reconciliation found the crashed run's
  process gone and its legs working at the broker), and :func:`split_resumed` hands the cycle the
  intent *as the crashed run recorded it* (the legs at the broker are those prices and quantity) to
  be adopted and proven (``submit_bracket(intent, adopt_only=True)``): nothing new is placed, and
  the pre-trade checks, which decide new entries, are not asked again;
* a later cycle on the same day, after that bracket got an outcome (proven, failed, rejected, a dry
  run, completed at the broker, adopted by reconciliation), numbers its decision one higher, so it
  can never adopt legs that already finished.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import pandas as pd
import structlog

from catalyst.domain import RESUMABLE_INTENT_STATUSES, BracketIntent, IntentNumbering

log = structlog.get_logger(__name__)


def recorded_intents(ledger: Any, prefix: str) -> Mapping[int, str]:
    """{sequence number: status} of the intents the ledger holds under an intent id prefix."""
    frame = ledger.query("SELECT intent_id, status FROM intents WHERE starts_with(intent_id, ?)", [prefix])
    found: dict[int, str] = {}
    for intent_id, status in zip(frame["intent_id"], frame["status"], strict=True):
        tail = str(intent_id)[len(prefix) :]
        if tail.isdigit():
            found[int(tail)] = str(status)
    return found


def ledger_numbering(ledger: Any) -> IntentNumbering:
    """The cycle's numbering of its decisions, over what the ledger recorded (see the module doc)."""
    return IntentNumbering(lambda prefix: recorded_intents(ledger, prefix))


def _dec(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def recorded_intent(row: Mapping[str, Any]) -> BracketIntent:
    """The intent as a run recorded it in the ledger's ``intents`` table."""
    created = row.get("created_at")
    return BracketIntent(
        intent_id=str(row["intent_id"]),
        symbol=str(row["symbol"]),
        side=str(row["side"]),  # type: ignore[arg-type]  # validated and parsed by the intent
        quantity=int(row["quantity"]),
        entry=_dec(row["entry_price"]),
        stop=_dec(row["stop_price"]),
        target=_dec(row["target_price"]),
        strategy=str(row.get("strategy") or ""),
        reason=str(row.get("reason") or ""),
        score=float(row["score"]) if row.get("score") is not None and not pd.isna(row["score"]) else 0.0,
        run_id=str(row.get("run_id") or ""),
        account=str(row.get("account") or ""),
        created_at=pd.Timestamp(created).to_pydatetime() if created is not None else None,
    )


def split_resumed(
    ledger: Any, intents: Sequence[BracketIntent]
) -> tuple[list[BracketIntent], list[BracketIntent]]:
    """(resumed, fresh): the intents whose id the ledger holds from a cut-off submission, as that
    run recorded them, to be adopted; and the new decisions, for the pre-trade checks."""
    if not intents:
        return [], []
    ids = [i.intent_id for i in intents]
    frame = ledger.query("SELECT * FROM intents WHERE intent_id IN (SELECT unnest(?::VARCHAR[]))", [ids])
    rows = {
        str(r["intent_id"]): {str(k): v for k, v in r.items()}
        for r in frame.to_dict("records")
        if str(r["status"]) in RESUMABLE_INTENT_STATUSES
    }
    resumed: list[BracketIntent] = []
    fresh: list[BracketIntent] = []
    for intent in intents:
        row = rows.get(intent.intent_id)
        if row is None:
            fresh.append(intent)
            continue
        resumed.append(recorded_intent(row))
        log.warning(
            "cycle.rerun.resume",
            intent_id=intent.intent_id,
            symbol=intent.symbol,
            status=row["status"],
            crashed_run=row.get("run_id"),
        )
    return resumed, fresh
