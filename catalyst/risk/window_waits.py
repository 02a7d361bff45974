"""HKEX's cancel windows and trading phases as the breaker and the monitor meet them. Pure.

Two waits are not failures and must not be retried:

* a cancel sent inside a no-cancel window (09:15-09:30, 12:00-12:30, 16:06-16:10; 12:06-12:10 on
  a half day) waits at IB as ``PendingCancel`` until the window opens, then completes
  (``catalyst.market.may_cancel``); sending it again changes nothing;
* an order sent while HKEX does not trade continuously (pre-opening, lunch, closing auction,
  closed) is accepted ``PreSubmitted`` with a 399 and cannot trade until continuous trading
  resumes (``catalyst.market.continuous_trading_from``): a flatten sent at 12:10 trades at 13:00.

The breaker says both, with the times (``hkex-rules.md`` §3), in its risk events and alerts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from catalyst.broker.global_cancel import WorkingOrder
from catalyst.market import continuous_trading_from, may_cancel, to_hk

PENDING_CANCEL = "PendingCancel"


def hk_time(ts: datetime) -> str:
    """``12:30:00 HK`` (with the date when it is not ``today``)."""
    return f"{to_hk(ts):%H:%M:%S} HK"


@dataclass(frozen=True)
class HeldCancels:
    """Cancels asked for that HKEX's no-cancel window holds: they go at ``go_at``."""

    orders: tuple[WorkingOrder, ...]
    go_at: datetime | None
    window: str  # why, as order_rules words it

    def __bool__(self) -> bool:
        return bool(self.orders)

    def describe(self) -> str:
        if not self.orders or self.go_at is None:
            return ""
        names = "; ".join(str(o) for o in self.orders)
        return (
            f"{len(self.orders)} cancel(s) wait as PendingCancel for HKEX's no-cancel window and go at "
            f"{hk_time(self.go_at)} ({self.window}): {names}"
        )


def split_survivors(
    survivors: Sequence[WorkingOrder], now: datetime
) -> tuple[HeldCancels, tuple[WorkingOrder, ...]]:
    """(cancels held by a no-cancel window, orders whose cancel really failed) of a global cancel's
    survivors at ``now``: inside a window a ``PendingCancel`` survivor is waiting, not failing."""
    verdict = may_cancel(now)
    if verdict.allowed:
        return HeldCancels((), None, ""), tuple(survivors)
    held = tuple(o for o in survivors if o.status == PENDING_CANCEL)
    failed = tuple(o for o in survivors if o.status != PENDING_CANCEL)
    return HeldCancels(held, verdict.opens_at, verdict.reason), failed


@dataclass(frozen=True)
class ExitWait:
    """An exit that cannot trade before ``trades_at`` (HKEX is not in continuous trading)."""

    now: datetime
    trades_at: datetime

    def describe(self) -> str:
        return (
            f"HKEX does not trade continuously at {hk_time(self.now)}: an exit sent now is held by IB "
            f"(PreSubmitted) and can trade from {hk_time(self.trades_at)}"
        )


def exit_wait(now: datetime) -> ExitWait | None:
    """None when an exit sent at ``now`` can trade at once; else when it first can."""
    trades_at = continuous_trading_from(now)
    return None if trades_at <= to_hk(now) else ExitWait(to_hk(now), trades_at)


def deferral_text(held: HeldCancels, wait: ExitWait, symbols: Sequence[str], protected: bool) -> str:
    """What the breaker does about positions it cannot close now, for a risk event and an alert."""
    parts = [wait.describe() + "."]
    if held:
        parts.append(held.describe() + ".")
    names = ", ".join(symbols)
    if protected:
        parts.append(
            f"{names}: kept protected by a stop and target at the broker until then (the cancelled "
            f"bracket legs go when the window opens); the flatten is sent at {hk_time(wait.trades_at)}."
        )
    else:
        parts.append(f"{names}: the flatten was sent now and waits at IB until {hk_time(wait.trades_at)}.")
    return " ".join(parts)


__all__ = [
    "ExitWait",
    "HeldCancels",
    "deferral_text",
    "exit_wait",
    "hk_time",
    "split_survivors",
]
