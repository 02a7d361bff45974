"""The importer's own .xlsx reader gives the cells openpyxl gives, as text, each in its column."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from catalyst.market import UniverseImportError
from catalyst.market.xlsx_cells import column_index, read_first_sheet


def workbook(path: Path, rows: list[list[object]], *, write_only: bool) -> Path:
    book = openpyxl.Workbook(write_only=write_only)
    ws = book.create_sheet("ListOfSecurities") if write_only else book.active
    assert ws is not None
    if not write_only:
        ws.title = "ListOfSecurities"
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


ROWS: list[list[object]] = [
    ["List of Securities"],
    ["Updated as at 30/11/2026"],
    ["Stock Code", "Name of Securities", None, "Board Lot", None, "Spread Table\n1 = Part A"],
    ["00700", "TENCENT", None, "100", None, "1 "],
    ["01234", "CHINA LILANG", "Equity", 2000, 1.5, 1],  # numbers as a hand-edited sheet has them
    [],
    ["02800", "TRACKER FUND & CO <ETF>", "Exchange Traded Products", "500", None, "5 "],
]
EXPECTED = [
    ["List of Securities"],
    ["Updated as at 30/11/2026"],
    ["Stock Code", "Name of Securities", "", "Board Lot", "", "Spread Table\n1 = Part A"],
    ["00700", "TENCENT", "", "100", "", "1"],
    ["01234", "CHINA LILANG", "Equity", "2000", "1.5", "1"],
    [],
    ["02800", "TRACKER FUND & CO <ETF>", "Exchange Traded Products", "500", "", "5"],
]


def trimmed(row: list[str]) -> list[str]:
    """Without trailing blank cells (a writer may or may not store them)."""
    while row and row[-1] == "":
        row = row[:-1]
    return row


@pytest.mark.parametrize("write_only", [True, False], ids=["inline-or-streamed", "shared-strings"])
def test_cells_come_back_as_text_in_their_columns(tmp_path: Path, write_only: bool) -> None:
    rows = read_first_sheet(workbook(tmp_path / "los.xlsx", ROWS, write_only=write_only))
    assert [trimmed(r) for r in rows] == [trimmed(r) for r in EXPECTED]


def test_column_references_map_to_indexes() -> None:
    assert [column_index(r) for r in ("A1", "E12", "Z3", "AA7", "AR2")] == [0, 4, 25, 26, 43]


def test_a_file_that_is_not_a_workbook_is_refused_by_name(tmp_path: Path) -> None:
    fake = tmp_path / "ListOfSecurities.xlsx"
    fake.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(UniverseImportError, match=r"ListOfSecurities\.xlsx is not a readable \.xlsx"):
        read_first_sheet(fake)
