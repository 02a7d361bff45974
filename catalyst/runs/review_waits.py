"""The review's waits: orders that waited for an HKEX window, and how long, from the ledger.

Two waits show in the ledger's ``order_events`` (every status the broker reported, with the time
it was recorded):

* a cancel held by a no-cancel window (09:15-09:30, 12:00-12:30, 16:06-16:10): the order's first
  ``PendingCancel`` until its final status (normally ``Cancelled``); a cancel that is not held
  passes through ``PendingCancel`` in well under a second and is not listed;
* an order accepted while HKEX does not trade continuously: IB's 399 ("... will not be placed at
  the exchange until <time>") until the order first works (``Submitted``) or fills.

Values in, frame out; the review notebook shows it (``ReviewData.waits``).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from catalyst.market import HK_TZ, may_cancel

WAIT_COLUMNS = ["order_ref", "perm_id", "waited", "since", "until", "seconds", "window"]
#: A PendingCancel shorter than this is an ordinary cancel on its way, not a wait.
MIN_WAIT_SECONDS = 1.0
DONE = frozenset({"Cancelled", "ApiCancelled", "Filled", "Inactive"})
WORKS = frozenset({"Submitted", "Filled"})
_UNTIL = re.compile(r"until (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})")


def _key(row: Any) -> str:
    ref = row.get("order_ref")
    if isinstance(ref, str) and ref:
        return ref
    perm = row.get("perm_id")
    return f"perm {int(perm)}" if perm is not None and perm == perm else ""


def _first_after(rows: list[dict[str, Any]], start: int, statuses: frozenset[str]) -> dict[str, Any] | None:
    return next((r for r in rows[start + 1 :] if str(r.get("status")) in statuses), None)


def _cancel_wait(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    first = next((i for i, r in enumerate(rows) if r.get("status") == "PendingCancel"), None)
    if first is None:
        return None
    start = rows[first]
    end = _first_after(rows, first, DONE)
    since = pd.Timestamp(start["ts"])
    verdict = may_cancel(since.to_pydatetime())
    window = "" if verdict.allowed else f"no-cancel window until {verdict.opens_at:%H:%M:%S} HK"
    return _wait(start, end, "PendingCancel", window)


def _held_wait(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    first = next((i for i, r in enumerate(rows) if _code(r) == 399), None)
    if first is None:
        return None
    start = rows[first]
    found = _UNTIL.search(str(start.get("error_message") or ""))
    window = f"held by IB until {found.group(1)[11:]} HK" if found else "held by IB (399)"
    return _wait(start, _first_after(rows, first, WORKS), "held PreSubmitted", window)


def _code(row: dict[str, Any]) -> int | None:
    code = row.get("error_code")
    try:
        return int(code) if code is not None and code == code else None
    except (TypeError, ValueError):
        return None


def _wait(start: dict[str, Any], end: dict[str, Any] | None, waited: str, window: str) -> dict[str, Any]:
    since = pd.Timestamp(start["ts"])
    until = pd.Timestamp(end["ts"]) if end is not None else None
    perm = start.get("perm_id")
    return {
        "order_ref": start.get("order_ref") or "",
        "perm_id": int(perm) if perm is not None and perm == perm else None,
        "waited": waited,
        "since": since.tz_convert(HK_TZ),
        "until": until.tz_convert(HK_TZ) if until is not None else None,
        "seconds": round((until - since).total_seconds(), 1) if until is not None else None,
        "window": window if end is not None else (window + "; still waiting").lstrip("; "),
    }


def order_waits(order_events: pd.DataFrame) -> pd.DataFrame:
    """Each order's wait for a window (columns :data:`WAIT_COLUMNS`), oldest first.

    ``order_events``: ts, order_ref, perm_id, status, error_code, error_message (the ledger's
    table). A wait still open at the end of the events has no ``until``."""
    if order_events is None or order_events.empty:
        return pd.DataFrame(columns=WAIT_COLUMNS)
    frame = order_events.assign(ts=pd.to_datetime(order_events["ts"], utc=True)).sort_values(
        "ts", kind="stable"
    )
    by_order: dict[str, list[dict[str, Any]]] = {}
    for record in frame.to_dict("records"):
        row = {str(k): v for k, v in record.items()}
        key = _key(row)
        if key:
            by_order.setdefault(key, []).append(row)
    waits = []
    for rows in by_order.values():
        for wait in (_cancel_wait(rows), _held_wait(rows)):
            if wait is None:
                continue
            short = wait["seconds"] is not None and wait["seconds"] < MIN_WAIT_SECONDS
            if wait["waited"] == "PendingCancel" and short and not wait["window"].startswith("no-cancel"):
                continue
            waits.append(wait)
    if not waits:
        return pd.DataFrame(columns=WAIT_COLUMNS)
    return (
        pd.DataFrame(waits, columns=WAIT_COLUMNS).sort_values("since", kind="stable").reset_index(drop=True)
    )


__all__ = ["MIN_WAIT_SECONDS", "WAIT_COLUMNS", "order_waits"]
