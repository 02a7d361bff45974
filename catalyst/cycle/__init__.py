"""One trading cycle as a package function (``trading_cycle.run_trading_cycle``), and one
reconciliation run (``reconcile_run.run_reconciliation``): what the notebooks call."""
