"""Reconciliation: the broker's positions and executions against the ledger, the ledger
corrected to the broker (rule 6), every run and finding recorded, unexplained symbols locked.

``recon_diff`` is the pure, vectorised diff; ``reconciler`` the I/O edge (``reconcile``,
``require_clean_start``); ``ledger_book`` the ledger's view of open positions.
"""

from catalyst.reconcile.engine import (
    BrokerView,
    ReconciliationReport,
    reconcile,
    reconcile_view,
    require_clean_start,
)
from catalyst.reconcile.errors import (
    ReconcileError,
    ReconcileInputError,
    ReconciliationFailedError,
    TradingBlockedError,
)
from catalyst.reconcile.ledger_book import ledger_positions
from catalyst.reconcile.recon_diff import diff_orders, diff_positions, missing_executions

__all__ = [
    "BrokerView",
    "ReconcileError",
    "ReconcileInputError",
    "ReconciliationFailedError",
    "ReconciliationReport",
    "TradingBlockedError",
    "diff_orders",
    "diff_positions",
    "ledger_positions",
    "missing_executions",
    "reconcile",
    "reconcile_view",
    "require_clean_start",
]
