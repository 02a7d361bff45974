"""What a global cancel (IB's reqGlobalCancel) left behind: values for the circuit breaker.

reqGlobalCancel cancels every open order of the gateway login, whichever API client (or TWS
itself) placed it. It is the only way for one client to cancel another client's orders, so the
breaker uses it; a single-symbol cancel cannot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from catalyst.domain.order_status import DONE_AT_BROKER


@dataclass(frozen=True)
class WorkingOrder:
    """One order the broker still lists as working (any client)."""

    order_ref: str
    perm_id: int
    client_id: int
    symbol: str
    status: str

    def __str__(self) -> str:
        ref = self.order_ref or "(no orderRef)"
        return f"{ref} {self.symbol} perm {self.perm_id} client {self.client_id} {self.status}"


@dataclass(frozen=True)
class GlobalCancelResult:
    """Orders working before the global cancel and those still working when the wait ended."""

    before: tuple[WorkingOrder, ...]
    survivors: tuple[WorkingOrder, ...]
    waited_seconds: float

    @property
    def complete(self) -> bool:
        return not self.survivors

    @property
    def cancelled(self) -> tuple[WorkingOrder, ...]:
        alive = {o.perm_id for o in self.survivors}
        return tuple(o for o in self.before if o.perm_id not in alive)


def working_orders(open_orders: pd.DataFrame) -> tuple[WorkingOrder, ...]:
    """The rows of ``BrokerSession.open_orders()`` that are not in a terminal status."""
    if open_orders.empty:
        return ()
    r: Any
    rows = open_orders[~open_orders["status"].astype(str).isin(DONE_AT_BROKER)]
    found = []
    for r in rows.itertuples(index=False):
        found.append(
            WorkingOrder(
                order_ref=str(r.order_ref or ""),
                perm_id=int(r.perm_id),
                client_id=int(r.client_id),
                symbol=str(r.symbol),
                status=str(r.status),
            )
        )
    return tuple(found)
