"""`catalyst universe import`'s reader: HKEX's List of Securities, as .xlsx and as .csv, into a universe.

The fixture files are written in HKEX's own layout (two title rows, the 18-column header with the
five-line Spread Table heading, every cell as text) by ``catalyst.market.hkex_list_layout``, the
.xlsx with openpyxl exactly as HKEX's workbook is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from catalyst.market import (
    UniverseImportError,
    UnknownSymbolError,
    board_lot,
    security,
    universe,
    use_universe,
)
from catalyst.market.hkex_list_layout import (
    HEADER,
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

AS_AT = date(2026, 11, 30)
ROWS = [
    ListRow(700, "TENCENT", 100, isin="KYG875721634", rmb_counter=80700),
    ListRow(1211, "BYD COMPANY", 500, isin="CNE100000296", rmb_counter=81211),  # lot changed from 100
    ListRow(1234, "CHINA LILANG", 2000, vcm=False, shortsell=False),
    ListRow(8001, "ORIENT SEC INTL", 10000, sub_category="Equity Securities (GEM)", cas=False, pos=False),
    etf(2800, "TRACKER FUND", 500, rmb_counter=82800),
    reit(823, "LINK REIT", 100),
    rmb_counter(80700, "TENCENT-R", 100),
    warrant(10001, "UB-N225@EP2603D", 10000),
    cbbc(60001, "HS#HSIRP2701A", 10000),
    debt(4001, "HKGB 3.0 2030", 50),
    ListRow(1313, "EQ WARRANT", 2000, category="Equity Warrants (Main Board)", sub_category=""),
]


@pytest.fixture(autouse=True)
def _shipped_universe_after() -> Iterator[None]:
    yield
    use_universe(None)


@pytest.fixture
def xlsx(tmp_path: Path) -> Path:
    return write_xlsx(tmp_path / "ListOfSecurities.xlsx", sheet(AS_AT, ROWS))


def activate(doc_path: Path, tmp_path: Path, **kw: object) -> Path:
    target = tmp_path / "state" / "universe.json"
    write_universe(import_document(doc_path), target)
    use_universe(target, **kw)  # type: ignore[arg-type]
    return target


def bad_file(tmp_path: Path, rows: list[list[str]], suffix: str = ".xlsx") -> Path:
    path = tmp_path / f"bad{suffix}"
    return write_xlsx(path, rows) if suffix == ".xlsx" else write_csv(path, rows)


def test_an_xlsx_in_hkex_layout_imports_every_row_with_the_lists_as_at_date(xlsx: Path) -> None:
    doc = import_document(xlsx)
    assert doc.as_of == AS_AT
    assert [s.symbol for s in doc.securities] == [str(r.code) for r in ROWS]
    assert "Updated as at 30/11/2026" in doc.source


def test_the_same_list_saved_as_csv_imports_the_same_securities(xlsx: Path, tmp_path: Path) -> None:
    csv_path = write_csv(tmp_path / "ListOfSecurities.csv", sheet(AS_AT, ROWS))
    assert import_document(csv_path).securities == import_document(xlsx).securities


def test_a_csv_that_excel_stripped_of_leading_zeros_and_separators_still_imports(tmp_path: Path) -> None:
    rows = [[c.lstrip("0") if i == 0 else c.replace(",", "") for i, c in enumerate(r.cells())] for r in ROWS]
    doc = import_document(write_csv(tmp_path / "los.csv", sheet(AS_AT, rows)))
    assert {s.symbol: s.board_lot for s in doc.securities}["1234"] == 2000


def test_equities_etfs_and_reits_are_tradable_the_rest_kept_out(xlsx: Path, tmp_path: Path) -> None:
    activate(xlsx, tmp_path)
    assert set(universe()) == {"700", "1211", "1234", "8001", "2800", "823"}
    kinds = {s.symbol: s.kind for s in universe().values()}
    assert (kinds["700"], kinds["2800"], kinds["823"], kinds["8001"]) == ("equity", "etf", "reit", "equity")


@pytest.mark.parametrize(
    ("code", "kept_out_as"),
    [
        ("80700", "RMB counters"),
        ("10001", "warrants"),
        ("60001", "CBBCs"),
        ("4001", "debt"),
        ("1313", "warrants"),
    ],
)
def test_a_kept_out_security_is_refused_with_its_kind_and_the_setting_that_lets_it_in(
    xlsx: Path, tmp_path: Path, code: str, kept_out_as: str
) -> None:
    activate(xlsx, tmp_path)
    with pytest.raises(UnknownSymbolError, match=rf"{kept_out_as}.*market\.universe_include"):
        security(code)


def test_board_lots_come_from_the_imported_list(xlsx: Path, tmp_path: Path) -> None:
    activate(xlsx, tmp_path)
    assert (board_lot("1211"), board_lot("1234"), board_lot("8001")) == (500, 2000, 10000)


def test_per_security_flags_are_read_from_their_columns(xlsx: Path, tmp_path: Path) -> None:
    activate(xlsx, tmp_path)
    tracker, link, lilang, gem = security("2800"), security("823"), security("1234"), security("8001")
    assert (tracker.spread_table, tracker.stamp_duty, tracker.is_etf) == ("D", False, True)
    assert (link.spread_table, link.stamp_duty) == ("A", False)
    assert (lilang.stamp_duty, lilang.shortsell_eligible, lilang.vcm_eligible, lilang.cas_eligible) == (
        True, False, False, True,
    )  # fmt: skip
    assert (gem.cas_eligible, gem.pos_eligible, gem.sub_category) == (False, False, "Equity Securities (GEM)")


def test_the_rmb_counter_is_linked_to_its_hkd_counter(xlsx: Path, tmp_path: Path) -> None:
    activate(xlsx, tmp_path)
    assert security("700").rmb_counter == "80700"
    assert security("2800").rmb_counter == "82800"


def test_the_shipped_reference_prices_are_kept_and_new_securities_have_none(xlsx: Path) -> None:
    prices = {s.symbol: s.ref_price for s in import_document(xlsx).securities}
    assert prices["700"] is not None and prices["1234"] is None


def test_a_setting_lets_an_excluded_kind_in_when_catalyst_can_price_it(xlsx: Path, tmp_path: Path) -> None:
    activate(xlsx, tmp_path, include=["warrant"])
    assert board_lot("1313") == 2000  # an equity warrant on table A
    with pytest.raises(UnknownSymbolError, match="spread table E"):
        security("10001")  # a derivative warrant on table E: Catalyst has no ladder for it


# --- bad input: a clear error naming the row and column, nothing written ---------------------------


def test_a_file_that_is_not_hkex_layout_is_refused(tmp_path: Path) -> None:
    path = bad_file(tmp_path, [["Ticker", "Lot"], ["700", "100"]])
    with pytest.raises(UniverseImportError, match=r"not HKEX's List of Securities.*Stock Code"):
        import_document(path)


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    cells = sheet(AS_AT, ROWS)
    drop = HEADER.index("Board Lot")
    path = bad_file(tmp_path, [[c for i, c in enumerate(r) if i != drop] for r in cells])
    with pytest.raises(UniverseImportError, match=r"header row \(row 3\) has no column 'Board Lot'"):
        import_document(path)


@pytest.mark.parametrize("lot", ["1OO", "", "0", "-100", "1.5"])
def test_a_non_numeric_lot_names_its_row_and_column(tmp_path: Path, lot: str) -> None:
    cells = sheet(AS_AT, ROWS)
    cells[5][HEADER.index("Board Lot")] = lot  # the third security: spreadsheet row 6
    path = bad_file(tmp_path, cells)
    with pytest.raises(UniverseImportError, match=r"row 6, column E \(Board Lot\):.*not a board lot"):
        import_document(path)


def test_a_duplicate_code_names_both_rows(tmp_path: Path) -> None:
    path = bad_file(tmp_path, sheet(AS_AT, [*ROWS, ListRow(700, "TENCENT AGAIN", 100)]), ".csv")
    with pytest.raises(UniverseImportError) as err:
        import_document(path)
    assert "row 15, column A (Stock Code): stock code 00700 appears again (first at row 4)" in str(err.value)


def test_an_unknown_flag_and_spread_code_are_named(tmp_path: Path) -> None:
    cells = sheet(AS_AT, ROWS)
    cells[3][HEADER.index("Shortsell Eligible")] = "maybe"
    cells[4][HEADER.index("Spread Table\n1 = Part A\n3 = Part B\n5 = Part D\n4 & 6 = Part E")] = "9"
    with pytest.raises(UniverseImportError) as err:
        import_document(bad_file(tmp_path, cells))
    text = str(err.value)
    assert "row 4, column I (Shortsell Eligible): 'maybe' is not a flag" in text
    assert "row 5, column P (Spread Table 1 = Part A" in text and "'9' is not a spread-table code" in text


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_an_empty_file_is_refused(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"empty{suffix}"
    if suffix == ".csv":
        path.write_text("")
    else:
        write_xlsx(path, [])
    with pytest.raises(UniverseImportError, match="is empty"):
        import_document(path)


def test_a_list_with_a_header_but_no_securities_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UniverseImportError, match=r"header row \(row 3\) but no securities"):
        import_document(bad_file(tmp_path, sheet(AS_AT, [])))


def test_a_list_without_its_as_at_date_is_refused(tmp_path: Path) -> None:
    cells = sheet(AS_AT, ROWS)
    cells[1][0] = "Updated recently"
    with pytest.raises(UniverseImportError, match="no 'Updated as at DD/MM/YYYY' line"):
        import_document(bad_file(tmp_path, cells))


def test_a_file_that_is_not_a_workbook_or_csv_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "ListOfSecurities.xlsx"
    fake.write_text("<html>not a workbook</html>")
    with pytest.raises(UniverseImportError, match=r"not a readable \.xlsx workbook"):
        import_document(fake)
    pdf = tmp_path / "ListOfSecurities.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    with pytest.raises(UniverseImportError, match=r"as \.xlsx .* or \.csv, not '\.pdf'"):
        import_document(pdf)
