"""The breaker's halt and the symbol locks, derived from the ledger's ``risk_events``.

Nothing is kept in memory: the state is whatever the append-only event log says, so a
restarted monitor or a new cycle sees exactly what the last one left. A halt lasts until the
next session opens or until ``breaker_reset``; a lock lasts until ``symbol_unlocked``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd
import structlog

from catalyst.risk.errors import AccountUnknownError, RiskCommandError, RiskInputError

if TYPE_CHECKING:
    from catalyst.ledger import Ledger

log = structlog.get_logger(__name__)

BREAKER_TRIPPED = "breaker_tripped"
BREAKER_RESET = "breaker_reset"
SYMBOL_LOCKED = "symbol_locked"
SYMBOL_UNLOCKED = "symbol_unlocked"
PRETRADE_REJECTED = "pretrade_rejected"
STATE_KINDS = (BREAKER_TRIPPED, BREAKER_RESET, SYMBOL_LOCKED, SYMBOL_UNLOCKED)


@dataclass(frozen=True)
class RiskState:
    """Whether new entries are halted and which symbols are locked, for one account."""

    halted: bool = False
    halt_reason: str = ""
    halted_at: datetime | None = None
    halt_until: datetime | None = None
    locks: Mapping[str, str] = field(default_factory=dict)  # symbol -> why

    def is_locked(self, symbol: str) -> bool:
        return symbol in self.locks


def derive_risk_state(
    events: pd.DataFrame, now: datetime, next_session_open: Callable[[datetime], datetime]
) -> RiskState:
    """Fold risk events (columns ts, kind, symbol, message) into the current state.

    A trip counts only until the next session opens after it; a later reset clears it at once.
    """
    if now.tzinfo is None:
        raise RiskInputError("now must be timezone-aware")
    if events.empty:
        return RiskState()
    ev = events[events["kind"].isin(STATE_KINDS)].sort_values("ts", kind="stable")
    halted, reason, halted_at, until = False, "", None, None
    breaker = ev[ev["kind"].isin((BREAKER_TRIPPED, BREAKER_RESET))]
    if not breaker.empty:
        last = breaker.iloc[-1]
        if last["kind"] == BREAKER_TRIPPED:
            tripped_at = _as_datetime(last["ts"])
            expiry = next_session_open(tripped_at)
            if now < expiry:
                halted, reason, halted_at, until = True, str(last["message"]), tripped_at, expiry
    locks: dict[str, str] = {}
    lock_ev = ev[ev["kind"].isin((SYMBOL_LOCKED, SYMBOL_UNLOCKED))]
    if not lock_ev.empty:
        latest = lock_ev.groupby("symbol", sort=True).tail(1)
        for row in latest.itertuples(index=False):
            if row.kind == SYMBOL_LOCKED:
                locks[str(row.symbol)] = str(row.message)
    return RiskState(halted=halted, halt_reason=reason, halted_at=halted_at, halt_until=until, locks=locks)


def _as_datetime(value: Any) -> datetime:
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return ts.to_pydatetime()


def halt_expiry(tripped_at: datetime) -> datetime:
    """When a trip stops halting: the first session open after the trip's own trading day ends
    (a trip in the pre-open halts that whole day, not just until 09:30)."""
    from catalyst.market import next_session_open, session_for, to_hk

    local = to_hk(tripped_at)
    day = session_for(local.date())
    if day is not None and local < day.auction_end:
        return next_session_open(day.auction_end)
    return next_session_open(local)


def require_account(account: str | None, *, doing: str) -> str:
    """The account risk state belongs to; an empty one is refused (:class:`AccountUnknownError`).

    With no account configured, a process that recorded a trip under "" while another read under
    the broker's account would let the next cycle trade through a tripped breaker (issue 10).
    """
    text = (account or "").strip()
    if not text:
        raise AccountUnknownError(
            f"cannot {doing} without an account: risk state is kept per broker account. Connect to "
            "the broker first and use the session's account (BrokerSession.account), or set "
            "broker.account"
        )
    return text


def load_risk_state(ledger: Ledger, account: str, now: datetime) -> RiskState:
    """Read the account's state-changing risk events from the ledger and fold them."""
    account = require_account(account, doing="read the breaker's halt and the symbol locks")
    kinds = ", ".join(f"'{k}'" for k in STATE_KINDS)
    events = ledger.query(
        f"SELECT ts, kind, symbol, message FROM risk_events WHERE kind IN ({kinds}) "
        "AND account = ? ORDER BY ts",
        [account],
    )
    return derive_risk_state(events, now, halt_expiry)


def record_risk_event(
    ledger: Ledger,
    *,
    kind: str,
    severity: str,
    message: str,
    account: str,
    symbol: str | None = None,
    run_id: str = "",
    detail: Mapping[str, Any] | None = None,
    ts: datetime,
) -> str:
    """Append one risk event of ``account``; returns its id. An empty account is refused."""
    from catalyst.ledger import new_id

    account = require_account(account, doing=f"record a {kind} risk event")
    event_id = new_id()
    ledger.append(
        "risk_events",
        {
            "event_id": event_id,
            "ts": ts,
            "run_id": run_id or None,
            "account": account,
            "kind": kind,
            "severity": severity,
            "symbol": symbol,
            "message": message,
            "detail": json.dumps(dict(detail or {}), default=str),
        },
    )
    log.info("risk.event", kind=kind, severity=severity, symbol=symbol, account=account, message=message)
    return event_id


def _require_reason(reason: str) -> str:
    text = (reason or "").strip()
    if len(text) < 3:
        raise RiskCommandError("give a reason (--reason TEXT) of at least a few words; it goes in the ledger")
    return text


def trip_breaker(
    ledger: Ledger,
    *,
    account: str,
    message: str,
    ts: datetime,
    run_id: str = "",
    detail: Mapping[str, Any] | None = None,
) -> str:
    return record_risk_event(
        ledger,
        kind=BREAKER_TRIPPED,
        severity="critical",
        message=message,
        account=account,
        run_id=run_id,
        detail=detail,
        ts=ts,
    )


def reset_breaker(
    ledger: Ledger, *, account: str, reason: str, ts: datetime, run_id: str = "", by: str = ""
) -> str:
    """A person lifts the halt before the next session (``catalyst risk reset --reason``).

    Trips are stamped on the broker's clock (the clock trading follows); a person's reset is stamped
    on the wall clock. When the broker's clock runs ahead (the simulator's, set to the next session),
    the reset is stamped just after the trip it lifts, so it always counts (see :func:`after_latest`).
    """
    text = _require_reason(reason)
    ts = after_latest(ledger, account=account, kinds=(BREAKER_TRIPPED, BREAKER_RESET), ts=ts)
    return record_risk_event(
        ledger,
        kind=BREAKER_RESET,
        severity="warning",
        message=text,
        account=account,
        run_id=run_id,
        detail={"by": by},
        ts=ts,
    )


def after_latest(
    ledger: Ledger, *, account: str, kinds: tuple[str, ...], ts: datetime, symbol: str | None = None
) -> datetime:
    """``ts``, or just after the account's latest event of ``kinds`` when that one is later.

    A person's acknowledgement (reset, unlock) must follow what it acknowledges, whichever clock
    stamped that (the broker's may run ahead of the wall clock on the simulator)."""
    account = require_account(account, doing="read the latest risk event")
    marks = ", ".join(f"'{k}'" for k in kinds)
    sql = f"SELECT max(ts) FROM risk_events WHERE account = ? AND kind IN ({marks})"
    params: list[Any] = [account]
    if symbol is not None:
        sql += " AND symbol = ?"
        params.append(symbol)
    latest = ledger.scalar(sql, params)
    if latest is None or pd.isna(latest):
        return ts
    bound = _as_datetime(latest) + timedelta(milliseconds=1)
    return max(ts, bound)


def lock_symbol(
    ledger: Ledger,
    *,
    account: str,
    symbol: str,
    message: str,
    ts: datetime,
    run_id: str = "",
    detail: Mapping[str, Any] | None = None,
) -> str:
    return record_risk_event(
        ledger,
        kind=SYMBOL_LOCKED,
        severity="warning",
        message=message,
        account=account,
        symbol=symbol,
        run_id=run_id,
        detail=detail,
        ts=ts,
    )


def unlock_symbol(
    ledger: Ledger, *, account: str, symbol: str, reason: str, ts: datetime, run_id: str = "", by: str = ""
) -> str:
    """A person acknowledges a discrepancy (``catalyst risk unlock SYMBOL --reason``)."""
    text = _require_reason(reason)
    if not symbol.strip():
        raise RiskCommandError("name the symbol to unlock, e.g. `catalyst risk unlock 700 --reason ...`")
    ts = after_latest(ledger, account=account, kinds=(SYMBOL_LOCKED, SYMBOL_UNLOCKED), ts=ts, symbol=symbol)
    return record_risk_event(
        ledger,
        kind=SYMBOL_UNLOCKED,
        severity="info",
        message=text,
        account=account,
        symbol=symbol.strip(),
        run_id=run_id,
        detail={"by": by},
        ts=ts,
    )
