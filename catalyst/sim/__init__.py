"""The simulated IB Gateway: an HKEX exchange engine behind a TWS API protocol server.

Run it with ``catalyst gateway start``; see ``docs/simulator.md``. Importing this package imports
nothing else, so the CLI and tests pay only for the modules they use.
"""
