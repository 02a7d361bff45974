"""Run every benchmark in turn (`make bench`); each writes its own section of BENCHMARKS.md.

Each benchmark runs in its own interpreter, so one's imports, caches and gateway processes cannot
colour another's figures. ``python -m benchmarks.run_all [NAME ...]`` runs only the named ones
(e.g. ``gateway brackets``). The backtest benchmark needs the ``bench`` extra (backtrader, vectorbt).
"""

from __future__ import annotations

import subprocess
import sys
import time

BENCHMARKS: tuple[str, ...] = (
    "gateway",
    "brackets",
    "ledger",
    "reconcile",
    "papermill",
    "backtest",
    "monitor",
    "universe",
    "archive",
    "monitor_log",
    "strategy_checks",
    "proxy",
)


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        print(f"== benchmarks.bench_{name}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, "-m", f"benchmarks.bench_{name}"])
        print(f"== benchmarks.bench_{name}: exit {rc} after {time.perf_counter() - t0:.0f} s", flush=True)
        if rc != 0:
            failed.append(name)
    if failed:
        print(f"failed: {failed}", file=sys.stderr)
        return 1
    print("BENCHMARKS.md updated.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
