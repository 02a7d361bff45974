"""Every broker order that carries a Catalyst orderRef is in the ledger, linked to its intent.

The broker is the source of truth (rule 6). For each order the broker lists for the account (open
or completed, placed by any client id) whose orderRef is Catalyst's: a bracket leg
(``<intent_id>:P|TP|SL``, :func:`catalyst.domain.parse_order_ref`), a flatten (``...:FLAT``) or
protection (``...:PROTn:TP|SL``), the refs the audit checks too:

* missing from the ledger's ``orders``: its row is inserted from the broker's values, linked to its
  intent, with a ``discrepancies`` row (kind ``unknown_order``), an order event (source
  ``reconcile``) and one ``orders_adopted`` risk event per intent. An intent the ledger lacks too is
  created from its legs (status ``adopted``, ``detail.adopted = true``);
* known, with another status than the broker's (a row left ``pending_submit``/``sent`` by a process
  that died, a fill the stream never delivered): the row takes the broker's status, permId and
  filled quantity (an order event records the change).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd
import structlog

from catalyst.domain import InvalidIntentError, parse_order_ref
from catalyst.domain.order_status import DONE_AT_BROKER, SETTLED, OrderStatus, texts

if TYPE_CHECKING:
    from catalyst.ledger import Ledger

log = structlog.get_logger(__name__)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


ROLE_OF_CODE = {"P": "entry", "TP": "take_profit", "SL": "stop_loss", "FLAT": "flatten", "PROT": "protect"}
BRACKET_CODES = frozenset({"P", "TP", "SL"})
_FLATTEN_REF = re.compile(r":FLAT(:\d+)?$")
_PROTECT_REF = re.compile(r":PROT\d+:(TP|SL)$")
#: Broker statuses of an order that no longer works (a refusal included).
NO_LONGER_WORKING = DONE_AT_BROKER | {OrderStatus.REJECTED}


@dataclass(frozen=True)
class AdoptionResult:
    adopted: tuple[str, ...]  # orderRefs inserted
    intents_created: tuple[str, ...]
    refreshed: tuple[str, ...]  # orderRefs whose status was brought to the broker's
    findings: list[dict[str, Any]]  # discrepancy rows


def classify_order_ref(ref: str) -> tuple[str | None, str] | None:
    """(intent id or None, code) of a Catalyst orderRef: a bracket leg (P, TP, SL), a flatten
    (``<intent>:FLAT`` or ``<run>:<symbol>:FLAT:<n>``: FLAT) or protection (``...:PROT<n>:TP|SL``:
    PROT); None for any other reference."""
    try:
        return parse_order_ref(ref)
    except InvalidIntentError:
        pass
    if _FLATTEN_REF.search(ref):
        head = ref.rpartition(":FLAT")[0]
        try:
            parse_order_ref(f"{head}:P")  # ``<intent_id>:FLAT``: the flatten of that bracket
            return head, "FLAT"
        except InvalidIntentError:
            return None, "FLAT"
    if _PROTECT_REF.search(ref):
        return None, "PROT"
    return None


def catalyst_orders(orders: pd.DataFrame | None, account: str) -> pd.DataFrame:
    """The broker's orders of ``account`` whose orderRef is Catalyst's (:func:`classify_order_ref`),
    with ``intent_id``, ``code`` and ``open`` columns; one row per orderRef (the newest permId)."""
    columns = ["order_ref", "intent_id", "code", "open"]
    if orders is None or orders.empty or "order_ref" not in orders.columns:
        return pd.DataFrame(columns=columns)
    frame = orders.copy()
    if "account" in frame.columns and account:
        frame = frame[frame["account"].fillna(account).astype(str).isin([account, ""])]
    parsed = [classify_order_ref(ref) for ref in frame["order_ref"].fillna("").astype(str)]
    keep = [p is not None for p in parsed]
    frame = frame.loc[keep].copy()
    frame["intent_id"] = [p[0] for p in parsed if p is not None]
    frame["code"] = [p[1] for p in parsed if p is not None]
    if "open" not in frame.columns:
        frame["open"] = ~frame["status"].astype(str).isin(texts(NO_LONGER_WORKING))
    if "perm_id" in frame.columns:
        frame = frame.sort_values("perm_id")
    return frame.drop_duplicates("order_ref", keep="last").reset_index(drop=True)


def _intent_of(order: dict[str, Any]) -> str | None:
    value = order.get("intent_id")
    return value if isinstance(value, str) and value else None


def _ledger_status(broker_status: Any) -> str:
    status = str(broker_status or "unknown")
    return "rejected" if status == "Inactive" else status


def _dec(value: Any) -> Decimal | None:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    dec = Decimal(str(value))
    return dec if dec > 0 else None


def _int(value: Any) -> int | None:
    try:
        return None if value is None or pd.isna(value) else int(value)
    except (TypeError, ValueError):
        return None


def _order_row(o: dict[str, Any], account: str, run_id: str | None, now: datetime) -> dict[str, Any]:
    intent_id, code = _intent_of(o), str(o["code"])
    return {
        "order_ref": str(o["order_ref"]),
        "intent_id": intent_id,
        "run_id": run_id,
        "role": ROLE_OF_CODE[code],
        "account": str(o.get("account") or account) or None,
        "symbol": str(o["symbol"]),
        "side": str(o["side"]),
        "order_type": str(o.get("order_type") or "LMT"),
        "quantity": int(o["quantity"]),
        "limit_price": _dec(o.get("limit_price")),
        "stop_price": _dec(o.get("stop_price")),
        "tif": o.get("tif") or None,
        "parent_ref": f"{intent_id}:P" if code in ("TP", "SL") else None,
        "oca_group": o.get("oca_group") or None,
        "client_id": _int(o.get("client_id")),
        "order_id": _int(o.get("order_id")),
        "perm_id": _int(o.get("perm_id")),
        "status": _ledger_status(o.get("status")),
        "filled": _int(o.get("filled")) or 0,
        "updated_at": now,
    }


def _minimal_intent(
    intent_id: str, legs: list[dict[str, Any]], account: str, recon_id: str, now: datetime
) -> dict[str, Any]:
    """An intent row rebuilt from the legs the broker holds (what was sent is what was intended)."""
    by_code = {str(leg["code"]): leg for leg in legs}
    entry, target, stop = by_code.get("P"), by_code.get("TP"), by_code.get("SL")
    any_leg = entry or target or stop
    assert any_leg is not None
    # an exit is opposite to its entry
    exit_side = "SELL" if str(any_leg["side"]) == "BUY" else "BUY"
    side = str(entry["side"]) if entry is not None else exit_side
    zero = Decimal(0)  # a leg the broker does not list: its price is unknown (NOT NULL column)
    return {
        "intent_id": intent_id,
        "run_id": None,
        "created_at": now,
        "account": account or None,
        "symbol": str(any_leg["symbol"]),
        "side": side,
        "quantity": int(any_leg["quantity"]),
        "entry_price": _dec(entry.get("limit_price")) if entry is not None else zero,
        "stop_price": (_dec(stop.get("stop_price")) or zero) if stop is not None else zero,
        "target_price": (_dec(target.get("limit_price")) or zero) if target is not None else zero,
        "strategy": None,
        "score": None,
        "reason": f"adopted by reconciliation {recon_id}: the broker holds its orders, the ledger had none",
        "status": "adopted",
        "detail": json.dumps(
            {"adopted": True, "recon_id": recon_id, "legs_at_broker": sorted(by_code)}, sort_keys=True
        ),
    }


def _ledger_rows(ledger: Ledger, table: str, key: str, values: list[str]) -> pd.DataFrame:
    if not values:
        return pd.DataFrame(columns=[key])
    return ledger.query(
        f"SELECT * FROM {table} WHERE {key} IN (SELECT unnest(?::VARCHAR[]))",
        [values],
    )


def adopt_orders(
    ledger: Ledger,
    broker_orders: pd.DataFrame,
    *,
    account: str,
    recon_id: str,
    run_id: str,
    now: datetime,
) -> AdoptionResult:
    """Insert the Catalyst orders the ledger lacks, refresh the statuses it has wrong; record both."""
    theirs = catalyst_orders(broker_orders, account)
    if theirs.empty:
        return AdoptionResult((), (), (), [])
    refs = theirs["order_ref"].astype(str).tolist()
    known = _ledger_rows(ledger, "orders", "order_ref", refs)
    known_by_ref = {str(r["order_ref"]): r for r in _records(known)}
    ids = sorted({str(i) for i in theirs["intent_id"] if isinstance(i, str) and i})
    intents = _ledger_rows(ledger, "intents", "intent_id", ids)
    intent_runs = {str(r["intent_id"]): r.get("run_id") for r in _records(intents)}

    missing = [o for o in _records(theirs) if str(o["order_ref"]) not in known_by_ref]
    by_intent = _by_intent(missing)
    new_intents = _new_intents(by_intent, theirs, intent_runs, account, recon_id, now)
    order_rows = [_order_row(o, account, intent_runs.get(_intent_of(o) or "") or None, now) for o in missing]
    refreshed = _refreshed(theirs, known_by_ref, now)
    findings = _unknown_order_findings(order_rows, account, recon_id, now)
    events = _adoption_events([*order_rows, *refreshed], run_id, recon_id, now)
    created = {r["intent_id"] for r in new_intents}
    risks = _adoption_risks(by_intent, created, account, run_id, recon_id, now)
    _write_adoption(ledger, new_intents, order_rows, refreshed, events, risks)
    result = AdoptionResult(
        adopted=tuple(r["order_ref"] for r in order_rows),
        intents_created=tuple(r["intent_id"] for r in new_intents),
        refreshed=tuple(r["order_ref"] for r in refreshed),
        findings=findings,
    )
    if order_rows or refreshed:
        log.warning(
            "reconcile.orders_adopted",
            recon_id=recon_id,
            adopted=list(result.adopted),
            intents_created=list(result.intents_created),
            refreshed=list(result.refreshed),
        )
    return result


def _by_intent(missing: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The missing orders grouped by intent id (the orderRef of one without an intent)."""
    by_intent: dict[str, list[dict[str, Any]]] = {}
    for o in missing:
        by_intent.setdefault(_intent_of(o) or str(o["order_ref"]), []).append(o)
    return by_intent


def _new_intents(
    by_intent: dict[str, list[dict[str, Any]]],
    theirs: pd.DataFrame,
    intent_runs: dict[str, Any],
    account: str,
    recon_id: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """An intent row for each intent the ledger lacks whose bracket legs the broker holds."""
    new_intents: list[dict[str, Any]] = []
    for key, group in sorted(by_intent.items()):
        if _intent_of(group[0]) and key not in intent_runs:
            bracket = [o for o in _records(theirs) if _intent_of(o) == key and o["code"] in BRACKET_CODES]
            if bracket:
                new_intents.append(_minimal_intent(key, bracket, account, recon_id, now))
    return new_intents


def _refreshed(
    theirs: pd.DataFrame, known_by_ref: dict[str, dict[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    """The known, unsettled order rows whose status or permId the broker reports otherwise, with
    the broker's values (``_old``: the ledger's status before)."""
    refreshed: list[dict[str, Any]] = []
    for o in _records(theirs):
        row = known_by_ref.get(str(o["order_ref"]))
        if row is None or str(row.get("status")) in SETTLED:
            continue
        status = _ledger_status(o.get("status"))
        if status == str(row.get("status")) and _int(row.get("perm_id")) == _int(o.get("perm_id")):
            continue
        refreshed.append(
            {
                "order_ref": str(o["order_ref"]),
                "status": status,
                "perm_id": _int(o.get("perm_id")),
                "order_id": _int(o.get("order_id")) or _int(row.get("order_id")),
                "client_id": _int(o.get("client_id")) if _int(o.get("client_id")) is not None else None,
                "filled": max(_int(o.get("filled")) or 0, _int(row.get("filled")) or 0),
                "updated_at": now,
                "_old": str(row.get("status")),
            }
        )
    return refreshed


def _unknown_order_findings(
    order_rows: list[dict[str, Any]], account: str, recon_id: str, now: datetime
) -> list[dict[str, Any]]:
    """One ``discrepancies`` row (kind ``unknown_order``) per adopted order."""
    from catalyst.ledger import new_id

    return [
        {
            "discrepancy_id": new_id(),
            "recon_id": recon_id,
            "ts": now,
            "account": account or None,
            "symbol": r["symbol"],
            "kind": "unknown_order",
            "ledger_quantity": 0,
            "broker_quantity": int(r["quantity"]),
            "correction": f"adopted {r['order_ref']} ({r['status']}) into the ledger, linked to intent "
            f"{r['intent_id']}",
            "explained": False,
            "detail": json.dumps(
                {"order_ref": r["order_ref"], "perm_id": r["perm_id"], "client_id": r["client_id"]},
                default=str,
            ),
        }
        for r in order_rows
    ]


def _adoption_events(
    changed: list[dict[str, Any]], run_id: str, recon_id: str, now: datetime
) -> list[dict[str, Any]]:
    """One order event (source ``reconcile``) per adopted order row or refreshed status."""
    from catalyst.ledger import new_id

    return [
        {
            "event_id": new_id(),
            "ts": now,
            "run_id": run_id or None,
            "order_ref": r["order_ref"],
            "perm_id": r["perm_id"],
            "order_id": r["order_id"],
            "status": r["status"],
            "source": "reconcile",
            "raw": json.dumps(
                {
                    "recon_id": recon_id,
                    "note": "adopted: the broker holds this order, the ledger had no row"
                    if "role" in r
                    else f"status {r['_old']} corrected to the broker's {r['status']}",
                }
            ),
        }
        for r in changed
    ]


def _adoption_risks(
    by_intent: dict[str, list[dict[str, Any]]],
    created: set[str],
    account: str,
    run_id: str,
    recon_id: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """One critical ``orders_adopted`` risk event per intent (or lone order) adopted."""
    from catalyst.ledger import new_id

    return [
        {
            "event_id": new_id(),
            "ts": now,
            "run_id": run_id or None,
            "account": account or None,
            "kind": "orders_adopted",
            "severity": "critical",
            "symbol": legs[0]["symbol"],
            "message": f"the broker holds {len(legs)} order(s)"
            + (f" of intent {_intent_of(legs[0])}" if _intent_of(legs[0]) else "")
            + f" the ledger did not know ({', '.join(sorted(str(o['order_ref']) for o in legs))}); "
            f"adopted into the ledger by reconciliation {recon_id}",
            "detail": json.dumps(
                {
                    "recon_id": recon_id,
                    "intent_id": _intent_of(legs[0]),
                    "intent_created": key in created,
                },
                default=str,
            ),
        }
        for key, legs in sorted(by_intent.items())
    ]


def _write_adoption(
    ledger: Ledger,
    new_intents: list[dict[str, Any]],
    order_rows: list[dict[str, Any]],
    refreshed: list[dict[str, Any]],
    events: list[dict[str, Any]],
    risks: list[dict[str, Any]],
) -> None:
    """All of an adoption in one transaction: intents, order rows, status changes, events."""
    with ledger.transaction():
        for row in new_intents:
            ledger.upsert("intents", row)
        for row in order_rows:
            ledger.upsert("orders", row)
        for change in refreshed:
            ledger.upsert("orders", {k: v for k, v in change.items() if k != "_old" and v is not None})
        if events:
            ledger.append("order_events", events)
        if risks:
            ledger.append("risk_events", risks)
