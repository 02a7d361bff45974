"""Benchmark: importing a full-size HKEX List of Securities, and board-lot lookups afterwards.

Run: ``.venv/bin/python -m benchmarks.bench_universe``.

Data: a list generated in HKEX's own layout (``catalyst.market.hkex_list_layout``: two title rows,
the 18-column header, every cell as text) with the proportions of the 31/12/2025 edition: 17,157
rows, of which about 2,900 are tradable (equities, ETFs, REITs) and the rest RMB counters,
warrants, CBBCs and debt. Written once as .xlsx (openpyxl) and once as .csv; generation is not
timed.

Timed, in one run: ``catalyst universe import``'s work (read, check every row, classify, write the
universe file atomically) for the .xlsx and the .csv; side by side, reading the same .xlsx with
the importer's own sheet reader and with openpyxl (read-only mode); activating the imported file
(the first lookup reads it: what every process pays once); and ``board_lot`` over the shipped 20
symbols with the shipped 20-security universe active and with the imported one active, measured
alternately (goal: import < 5 s, lookup cost unchanged). Writes its section of BENCHMARKS.md.
"""

from __future__ import annotations

import platform
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from datetime import date
from pathlib import Path

from benchmarks.benchmarks_md import write_section
from catalyst.market import board_lot, universe, use_universe
from catalyst.market.hkex_list_layout import (
    ListRow,
    cbbc,
    debt,
    etf,
    reit,
    rmb_counter,
    sheet,
    warrant,
    write_csv,
    write_xlsx,
)
from catalyst.market.universe_import import import_document
from catalyst.market.universe_store import write_universe
from catalyst.market.xlsx_cells import read_first_sheet

AS_AT = date(2026, 11, 30)
LOOKUP_LOOPS = 500
LOOKUP_ROUNDS = 15
#: (maker, how many, first code): the 31/12/2025 list's proportions (hkex-rules.md §2).
MIX: tuple[tuple[Callable[..., ListRow], int, int], ...] = (
    (ListRow, 2731, 1),
    (etf, 374, 2800),
    (reit, 11, 3300),
    (rmb_counter, 79, 80000),
    (warrant, 7017, 10000),
    (cbbc, 5673, 50000),
    (debt, 1351, 4000),
)


def full_size_rows() -> list[ListRow]:
    """The shipped 20 with their lots (2800 as an ETF), then the rest of the mix."""
    from catalyst.market.universe_store import shipped_document

    rows: list[ListRow] = []
    for sec in shipped_document().securities:
        make = etf if sec.is_etf else ListRow
        rows.append(make(int(sec.symbol), sec.name, sec.board_lot))
    used = {r.code for r in rows}
    shipped_etfs = sum(1 for r in rows if r.spread_code == 5)
    already: dict[object, int] = {ListRow: len(rows) - shipped_etfs, etf: shipped_etfs}
    for make, count, first in MIX:
        code = first
        made = already.get(make, 0)
        while made < count:
            if code not in used:
                lot = (100, 200, 500, 1000, 2000)[code % 5]
                rows.append(make(code, f"SECURITY {code}", lot))
                used.add(code)
                made += 1
            code += 1
    return rows


def openpyxl_rows(path: Path) -> list[list[object]]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # type: ignore[union-attr]
        return [list(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def lookup_ns(symbols: list[str]) -> float:
    """Nanoseconds per ``board_lot`` call: the best of 3 short runs (a short run dodges load spikes)."""
    best = min(timeit.repeat(lambda: [board_lot(s) for s in symbols], number=LOOKUP_LOOPS, repeat=3))
    return best / (LOOKUP_LOOPS * len(symbols)) * 1e9


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="catalyst-bench-universe-"))
    rows = full_size_rows()
    cells = sheet(AS_AT, rows)
    xlsx = write_xlsx(work / "ListOfSecurities.xlsx", cells)
    csv_path = write_csv(work / "ListOfSecurities.csv", cells)
    target = work / "state" / "universe.json"

    def import_to(path: Path) -> Callable[[], object]:
        return lambda: write_universe(import_document(path), target)

    t_xlsx = timed(import_to(xlsx))
    t_csv = timed(import_to(csv_path))
    t_read = timed(lambda: read_first_sheet(xlsx))
    t_openpyxl = timed(lambda: openpyxl_rows(xlsx))

    def activate() -> None:
        use_universe(target)
        board_lot("700")

    t_activate = timed(activate)
    use_universe(None)
    twenty = sorted(universe())
    use_universe(target)
    tradable = len(universe())
    shipped_runs: list[float] = []
    imported_runs: list[float] = []
    for _ in range(LOOKUP_ROUNDS):  # alternately, so a change of load touches both
        use_universe(None)
        board_lot("700")  # the first lookup reads the universe: not part of a lookup's cost
        shipped_runs.append(lookup_ns(twenty))
        use_universe(target)
        board_lot("700")
        imported_runs.append(lookup_ns(twenty))
    use_universe(None)
    shipped_ns, imported_ns = min(shipped_runs), min(imported_runs)

    size_mb = target.stat().st_size / 1e6
    text = f"""## Universe import and lookups (`benchmarks/bench_universe.py`)

A List of Securities generated in HKEX's layout with the 31/12/2025 edition's proportions:
{len(rows):,} rows, {tradable:,} tradable after classification. One run on {platform.machine()} /
Python {sys.version.split()[0]} (shared 2-core machine: absolute numbers move with load, the
ratios less so); best of 3 (lookups: best of 15 rounds, alternating).

| step | time |
|---|---|
| `catalyst universe import` work, .xlsx (read, check, classify, write {size_mb:.1f} MB) \
| {t_xlsx:.2f} s |
| the same from the .csv | {t_csv:.2f} s |
| reading the .xlsx sheet alone: Catalyst's `xlsx_cells` | {t_read:.2f} s |
| reading the .xlsx sheet alone: openpyxl read-only | {t_openpyxl:.2f} s ({t_openpyxl / t_read:.1f}x) |
| activating the imported universe (the first lookup reads the file, once per process) \
| {t_activate * 1000:.0f} ms |

| `board_lot` over the shipped 20 symbols | per lookup |
|---|---|
| shipped 20-security universe active | {shipped_ns:.0f} ns |
| imported {tradable:,}-security universe active | {imported_ns:.0f} ns |

Import goal (< 5 s): {"met" if t_xlsx < 5 else "NOT met"} ({t_xlsx / 5:.2f}x the budget for the .xlsx).
Lookups with the full universe cost {imported_ns / shipped_ns:.2f}x those with the shipped 20
(a dictionary lookup either way). Reproduce: `.venv/bin/python -m benchmarks.bench_universe`.
"""
    print(text)
    write_section("bench_universe", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
