"""The DuckDB ledger: what we intended, what we sent, what the broker said, every correction.

See ``ledger_store`` for the concurrency design and ``migrations/`` for the schema (the contract).
"""

from catalyst.ledger.errors import LedgerBusyError, LedgerError, LedgerMigrationError
from catalyst.ledger.ids import new_id
from catalyst.ledger.store import EVENT_TABLES, Ledger

__all__ = ["EVENT_TABLES", "Ledger", "LedgerBusyError", "LedgerError", "LedgerMigrationError", "new_id"]
