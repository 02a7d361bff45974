"""The I/O edge of layer 1: gather what the pre-trade checks look at from the broker and the ledger."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from catalyst.risk.pretrade import AccountView, PreTradeContext, open_entry_symbols, positions_by_symbol
from catalyst.risk.state import load_risk_state

if TYPE_CHECKING:
    from catalyst.ledger import Ledger


async def pretrade_context(broker: Any, ledger: Ledger, *, account: str, now: datetime) -> PreTradeContext:
    """Account figures, positions and working entries from the broker (the source of truth);
    the breaker's halt and the symbol locks from the ledger."""
    snapshot = await broker.account_snapshot()
    positions = await broker.positions()
    orders = await broker.open_orders()
    return PreTradeContext(
        account=AccountView.from_snapshot(snapshot),
        now=now,
        positions=positions_by_symbol(positions),
        open_entry_symbols=open_entry_symbols(orders),
        risk_state=load_risk_state(ledger, account, now),
    )
