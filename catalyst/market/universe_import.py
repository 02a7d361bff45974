"""Read HKEX's List of Securities (the .xlsx HKEX publishes daily, or the same saved as .csv).

The layout (hkex-rules.md §2, S-LoS): a title row "List of Securities", a row "Updated as at
DD/MM/YYYY", then a header row (Stock Code, Name of Securities, Category, Sub-Category, Board Lot,
ISIN, Expiry Date, Subject to Stamp Duty, Shortsell Eligible, CAS Eligible, VCM Eligible, Admitted
to CCASS, Debt Securities Board Lot (Nominal), Debt Securities Investor Type, POS Eligible, Spread
Table (a multi-line header "1 = Part A ..."), Trading Currency, RMB Counter) and one row per
security: codes zero-padded ("00700"), lots as text with thousands separators ("1,000"), flags "Y"
or blank, spread-table codes 1 = Part A, 3 = Part B, 5 = Part D, 4 and 6 = Part E.

The .xlsx is read by :mod:`catalyst.market.xlsx_cells` (a third of openpyxl's time for this
sheet). Every security is kept, with its kind (:mod:`catalyst.market.security_record`): the tradable set
is decided when the universe is loaded, so a setting can let a kind in without a new import.
Problems are collected over the whole file and reported together, each with its spreadsheet row
and column (letter and header); nothing is written unless the whole file is good.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from catalyst.market.errors import UniverseImportError, UnknownSymbolError
from catalyst.market.hk_timezone import HK_TZ
from catalyst.market.security_record import Kind, Security, normalize_symbol
from catalyst.market.universe_store import UniverseDocument, shipped_document
from catalyst.market.xlsx_cells import read_first_sheet

#: Header cells the importer needs, by the key it uses (matching ignores case and spacing).
REQUIRED_COLUMNS: dict[str, str] = {
    "code": "Stock Code",
    "name": "Name of Securities",
    "category": "Category",
    "sub_category": "Sub-Category",
    "board_lot": "Board Lot",
    "isin": "ISIN",
    "stamp_duty": "Subject to Stamp Duty",
    "shortsell": "Shortsell Eligible",
    "cas": "CAS Eligible",
    "vcm": "VCM Eligible",
    "pos": "POS Eligible",
    "spread_table": "Spread Table",
    "currency": "Trading Currency",
    "rmb_counter": "RMB Counter",
}
#: Spellings seen in other editions of the list.
_ALIASES: dict[str, str] = {"pos eligble": "pos", "name": "name", "spread schedule": "spread_table"}
SPREAD_CODES: dict[str, str] = {"1": "A", "3": "B", "5": "D", "4": "E", "6": "E"}
_AS_AT = re.compile(r"as\s+at\s+(\d{1,2})/(\d{1,2})/(\d{4})", re.IGNORECASE)
#: The header row must appear within this many rows of the top.
_HEADER_WITHIN = 10
#: At most this many problems are listed in one error.
_MAX_PROBLEMS = 10


@dataclass(frozen=True)
class Cell:
    row: int  # 1-based, as a spreadsheet shows it
    column: int  # 0-based index

    def where(self, header: str) -> str:
        return f"row {self.row}, column {column_letter(self.column)} ({header})"


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    out = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def read_csv_rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes almost anything
        raise UniverseImportError(f"{path.name}: cannot decode the text (save it as UTF-8 CSV)")
    return [[c.strip() for c in row] for row in csv.reader(text.splitlines())]


def read_rows(path: Path) -> list[list[str]]:
    """The sheet's cells as text, row by row (.xlsx or .csv)."""
    if not path.is_file():
        raise UniverseImportError(f"{path} does not exist (or is not a file)")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_first_sheet(path)
    if suffix == ".csv":
        return read_csv_rows(path)
    raise UniverseImportError(
        f"{path.name}: expected HKEX's List of Securities as .xlsx (as published) or .csv, not '{suffix}'"
    )


def _norm(header: str) -> str:
    return " ".join(header.split()).lower()


def find_header(rows: Sequence[Sequence[str]], name: str) -> int:
    """Index of the header row (the first whose first cell is "Stock Code")."""
    if not any(any(c for c in r) for r in rows):
        raise UniverseImportError(f"{name} is empty: no rows at all")
    for i, row in enumerate(rows[:_HEADER_WITHIN]):
        if row and _norm(row[0]) == "stock code":
            return i
    first = next((" | ".join(c for c in r if c) for r in rows if any(r)), "")
    raise UniverseImportError(
        f"{name} is not HKEX's List of Securities: no header row starting with 'Stock Code' in its "
        f"first {_HEADER_WITHIN} rows (its first line reads {first[:80]!r}); use the English list, "
        "ListOfSecurities.xlsx"
    )


def as_at_date(rows: Sequence[Sequence[str]], header_at: int, name: str) -> date:
    """The "Updated as at DD/MM/YYYY" date from the title rows."""
    for r, row in enumerate(rows[:header_at]):
        for cell in row:
            m = _AS_AT.search(cell)
            if m:
                day, month, year = (int(g) for g in m.groups())
                try:
                    return date(year, month, day)
                except ValueError:
                    raise UniverseImportError(
                        f"{name}: row {r + 1}: {cell!r} is not a real date (DD/MM/YYYY)"
                    ) from None
    raise UniverseImportError(
        f"{name}: no 'Updated as at DD/MM/YYYY' line above the header row (row {header_at + 1}); "
        "HKEX's list carries its date there"
    )


def map_columns(header: Sequence[str], header_row: int, name: str) -> dict[str, int]:
    wanted = {_norm(v): k for k, v in REQUIRED_COLUMNS.items()} | _ALIASES
    found: dict[str, int] = {}
    for i, cell in enumerate(header):
        key = _norm(cell)
        if key.startswith("spread table"):
            key = "spread table"
        k = wanted.get(key)
        if k is not None and k not in found:
            found[k] = i
    missing = [REQUIRED_COLUMNS[k] for k in REQUIRED_COLUMNS if k not in found]
    if missing:
        raise UniverseImportError(
            f"{name}: the header row (row {header_row}) has no column "
            + ", ".join(repr(m) for m in missing)
            + "; this is not HKEX's List of Securities layout (or a column was deleted)"
        )
    return found


class _RowReader:
    """Reads one data row's cells by key, collecting each problem with its row and column."""

    def __init__(self, row: Sequence[str], number: int, columns: dict[str, int], header: Sequence[str]):
        self.row = row
        self.number = number
        self.columns = columns
        self.header = header
        self.problems: list[str] = []

    def text(self, key: str) -> str:
        i = self.columns[key]
        return self.row[i] if i < len(self.row) else ""

    def problem(self, key: str, message: str) -> None:
        i = self.columns[key]
        head = " ".join(self.header[i].split()) if i < len(self.header) else REQUIRED_COLUMNS[key]
        self.problems.append(f"{Cell(self.number, i).where(head)}: {message}")

    def flag(self, key: str) -> bool:
        value = self.text(key).upper()
        if value in ("Y", "YES"):
            return True
        if value in ("", "N", "NO"):
            return False
        self.problem(key, f"{self.text(key)!r} is not a flag (HKEX writes Y or leaves it blank)")
        return False

    def code(self) -> str | None:
        raw = self.text("code")
        try:
            return normalize_symbol(raw)
        except UnknownSymbolError:
            self.problem("code", f"{raw!r} is not a stock code (1 to 5 digits)")
            return None

    def lot(self) -> int | None:
        raw = self.text("board_lot")
        digits = raw.replace(",", "").replace(" ", "")
        if not digits.isdigit() or int(digits) <= 0:
            shown = repr(raw) if raw else "blank"
            self.problem("board_lot", f"{shown} is not a board lot (a whole number of shares above 0)")
            return None
        return int(digits)

    def table(self) -> str | None:
        raw = self.text("spread_table")
        table = SPREAD_CODES.get(raw.removesuffix(".0"))
        if table is None:
            shown = repr(raw) if raw else "blank"
            self.problem("spread_table", f"{shown} is not a spread-table code (1, 3, 4, 5 or 6)")
        return table


def kind_of(category: str, sub_category: str, currency: str) -> Kind:
    """Catalyst's kind for HKEX's Category / Sub-Category (and the trading currency)."""
    cat = _norm(category)
    if cat in ("equity", "exchange traded products", "real estate investment trusts") and currency == "RMB":
        return "rmb_counter"
    if cat == "equity":
        return "equity"
    if cat == "exchange traded products":
        return "etf"
    if cat == "real estate investment trusts":
        return "reit"
    if "warrant" in cat:
        return "warrant"
    if "bull/bear" in cat or "cbbc" in cat:
        return "cbbc"
    if cat.startswith("debt"):
        return "debt"
    return "other"


def parse_row(r: _RowReader) -> Security | None:
    code, lot, table = r.code(), r.lot(), r.table()
    name = r.text("name")
    if not name:
        r.problem("name", "blank: every security has a name")
    currency = r.text("currency").upper() or "HKD"
    category, sub = r.text("category"), r.text("sub_category")
    if not category:
        r.problem("category", "blank: HKEX gives every security a category")
    flags = {k: r.flag(k) for k in ("stamp_duty", "shortsell", "cas", "vcm", "pos")}
    rmb_raw = r.text("rmb_counter")
    rmb: str | None = None
    if rmb_raw:
        try:
            rmb = normalize_symbol(rmb_raw)
        except UnknownSymbolError:
            r.problem("rmb_counter", f"{rmb_raw!r} is not a stock code")
    if r.problems or code is None or lot is None or table is None:
        return None
    return Security(
        symbol=code,
        name=name,
        board_lot=lot,
        spread_table=table,
        stamp_duty=flags["stamp_duty"],
        shortsell_eligible=flags["shortsell"],
        rmb_counter=rmb,
        ref_price=None,
        kind=kind_of(category, sub, currency),
        category=category,
        sub_category=sub,
        isin=r.text("isin"),
        currency=currency,
        cas_eligible=flags["cas"],
        vcm_eligible=flags["vcm"],
        pos_eligible=flags["pos"],
    )


def _data_rows(rows: Sequence[Sequence[str]], header_at: int) -> Iterator[tuple[int, Sequence[str]]]:
    for i in range(header_at + 1, len(rows)):
        if any(rows[i]):
            yield i + 1, rows[i]


def parse_list(rows: Sequence[Sequence[str]], name: str) -> tuple[date, list[Security]]:
    """The as-at date and every security of a List of Securities, or one error naming each problem."""
    header_at = find_header(rows, name)
    as_of = as_at_date(rows, header_at, name)
    header = rows[header_at]
    columns = map_columns(header, header_at + 1, name)
    problems: list[str] = []
    secs: list[Security] = []
    first_row: dict[str, int] = {}
    for number, row in _data_rows(rows, header_at):
        reader = _RowReader(row, number, columns, header)
        sec = parse_row(reader)
        problems += reader.problems
        if sec is not None:
            if sec.symbol in first_row:
                col = columns["code"]
                problems.append(
                    f"{Cell(number, col).where('Stock Code')}: stock code {reader.text('code')} appears "
                    f"again (first at row {first_row[sec.symbol]})"
                )
            else:
                first_row[sec.symbol] = number
                secs.append(sec)
        if len(problems) >= _MAX_PROBLEMS:
            break
    if problems:
        more = " (first problems only)" if len(problems) >= _MAX_PROBLEMS else ""
        raise UniverseImportError(
            f"{name} cannot be imported{more}; nothing was changed:\n  " + "\n  ".join(problems)
        )
    if not secs:
        raise UniverseImportError(
            f"{name} has a header row (row {header_at + 1}) but no securities below it; nothing was changed"
        )
    return as_of, secs


def with_reference_prices(secs: Sequence[Security]) -> list[Security]:
    """The shipped 20's indicative price levels carried over (displays, the simulator's seed)."""
    known = {s.symbol: s.ref_price for s in shipped_document().securities}
    return [replace(s, ref_price=known[s.symbol]) if s.symbol in known else s for s in secs]


def import_document(path: Path, *, now: datetime | None = None) -> UniverseDocument:
    """A universe document from HKEX's List of Securities at ``path`` (nothing is written)."""
    rows = read_rows(path)
    as_of, secs = parse_list(rows, path.name)
    stamp = (now or datetime.now(HK_TZ)).isoformat(timespec="seconds")
    return UniverseDocument(
        as_of=as_of,
        source=f"HKEX List of Securities, 'Updated as at {as_of:%d/%m/%Y}', imported from {path.name}",
        securities=tuple(with_reference_prices(secs)),
        imported_at=stamp,
    )
