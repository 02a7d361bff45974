"""Writes a List of Securities in HKEX's own layout, for tests, benchmarks and rehearsals.

The layout is the one of HKEX's ListOfSecurities.xlsx (hkex-rules.md §2, S-LoS, as published
"Updated as at 31/12/2025"): row 1 "List of Securities", row 2 "Updated as at DD/MM/YYYY", row 3
the 18 headers below (the Spread Table header spans five lines), then one row per security with
every cell as text: codes zero-padded to five digits, lots with thousands separators, flags "Y" or
a single space, the spread-table code followed by a space. Nothing here is read by Catalyst at run
time; the importer (:mod:`catalyst.market.universe_import`) reads what HKEX publishes.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

HEADER: tuple[str, ...] = (
    "Stock Code",
    "Name of Securities",
    "Category",
    "Sub-Category",
    "Board Lot",
    "ISIN",
    "Expiry Date",
    "Subject to Stamp Duty",
    "Shortsell Eligible",
    "CAS Eligible",
    "VCM Eligible",
    "Admitted to CCASS",
    "Debt Securities Board Lot (Nominal)",
    "Debt Securities Investor Type",
    "POS Eligible",
    "Spread Table\n1 = Part A\n3 = Part B\n5 = Part D\n4 & 6 = Part E",
    "Trading Currency",
    "RMB Counter",
)


@dataclass(frozen=True)
class ListRow:
    """One security as HKEX lists it (the defaults are a Main Board equity eligible for everything)."""

    code: int
    name: str
    board_lot: int
    category: str = "Equity"
    sub_category: str = "Equity Securities (Main Board)"
    isin: str = ""
    expiry: str = ""
    stamp_duty: bool = True
    shortsell: bool = True
    cas: bool = True
    vcm: bool = True
    ccass: bool = True
    pos: bool = True
    spread_code: int = 1
    currency: str = "HKD"
    rmb_counter: int | None = None

    def cells(self) -> list[str]:
        def flag(x: bool) -> str:
            return "Y" if x else " "

        return [
            f"{self.code:05d}",
            self.name,
            self.category,
            self.sub_category,
            f"{self.board_lot:,}",
            self.isin or f"HK{self.code:09d}X",
            self.expiry,
            flag(self.stamp_duty),
            flag(self.shortsell),
            flag(self.cas),
            flag(self.vcm),
            flag(self.ccass),
            "",
            "",
            flag(self.pos),
            f"{self.spread_code} ",
            self.currency,
            "" if self.rmb_counter is None else f"{self.rmb_counter:05d}",
        ]


def etf(code: int, name: str, lot: int, **changes: Any) -> ListRow:
    """An ETF as HKEX lists it: table D (code 5), no stamp duty."""
    row = ListRow(
        code, name, lot, category="Exchange Traded Products", sub_category="Exchange Traded Funds",
        stamp_duty=False, spread_code=5,
    )  # fmt: skip
    return replace(row, **changes)


def reit(code: int, name: str, lot: int, **changes: Any) -> ListRow:
    """A REIT as HKEX lists it: table A, no stamp duty (waived for REITs), no sub-category."""
    row = ListRow(
        code, name, lot, category="Real Estate Investment Trusts", sub_category="", stamp_duty=False
    )
    return replace(row, **changes)


def rmb_counter(code: int, name: str, lot: int, **changes: Any) -> ListRow:
    """An RMB counter (8xxxx) of an equity: same lot, trades in RMB."""
    return replace(ListRow(code, name, lot, currency="RMB"), **changes)


def warrant(code: int, name: str, lot: int, **changes: Any) -> ListRow:
    """A derivative warrant as HKEX lists it: table E (code 6), nothing eligible."""
    row = ListRow(
        code, name, lot, category="Derivative Warrants", sub_category="", expiry="26/06/2027",
        stamp_duty=False, shortsell=False, cas=False, vcm=False, pos=False, spread_code=6,
    )  # fmt: skip
    return replace(row, **changes)


def cbbc(code: int, name: str, lot: int, **changes: Any) -> ListRow:
    """A CBBC as HKEX lists it (like a derivative warrant)."""
    return warrant(code, name, lot, category="Callable Bull/Bear Contracts", **changes)


def debt(code: int, name: str, lot: int, **changes: Any) -> ListRow:
    """A debt security: table B (code 3), often in USD."""
    return warrant(code, name, lot, category="Debt Securities", spread_code=3, currency="USD", **changes)


def sheet(as_at: date, rows: Iterable[ListRow | Sequence[str]]) -> list[list[str]]:
    """Every row of the sheet: the two title rows, the header row, the securities."""
    width = len(HEADER)
    out = [
        ["List of Securities", *[""] * (width - 1)],
        [f"Updated as at {as_at:%d/%m/%Y}", *[""] * (width - 1)],
    ]
    out.append(list(HEADER))
    out += [r.cells() if isinstance(r, ListRow) else list(r) for r in rows]
    return out


def write_xlsx(path: Path, cells: Sequence[Sequence[str]]) -> Path:
    """``cells`` as HKEX's workbook: one sheet named ListOfSecurities, every value as text."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet("ListOfSecurities")
    for row in cells:
        ws.append([c if c != "" else None for c in row])
    book.save(path)
    return path


def write_csv(path: Path, cells: Sequence[Sequence[str]]) -> Path:
    """``cells`` as Excel saves the sheet to CSV (UTF-8 with a byte-order mark)."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(cells)
    return path
