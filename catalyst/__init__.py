"""Catalyst: research-to-trading for HKEX stocks through Interactive Brokers.

Layers (each imports only what is below it; see ARCHITECTURE.md and tests/test_architecture.py):
cli -> runs -> cycle/reconcile/risk/research -> broker -> domain -> ledger/config/log -> market.
The simulator (catalyst.sim) depends on the foundations only.
"""

__version__ = "0.1.0"
