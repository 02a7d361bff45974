"""`catalyst bars import|show`: the trader's file goes into the cache and is shown back."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from catalyst.cli.app import app

CSV = (
    "symbol,time,open,high,low,close,volume\n"
    "0700,2025-03-03 09:30,500,501,499,500,100\n"
    "0700,2025-03-03 12:30,500,501,499,500,100\n"
)


def test_bars_import_reports_dropped_lunch_bars_and_caches_the_rest(tmp_path: Path) -> None:
    (tmp_path / "b.csv").write_text(CSV)
    out = CliRunner().invoke(app, ["bars", "import", str(tmp_path / "b.csv"), "--state-dir", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert "kept 1 bars" in out.output and "1 bar(s) outside continuous trading" in out.output
    assert (tmp_path / "bars" / "1min" / "700.parquet").exists()


def test_bars_show_lists_what_the_cache_holds(tmp_path: Path) -> None:
    (tmp_path / "b.csv").write_text(CSV)
    CliRunner().invoke(app, ["bars", "import", str(tmp_path / "b.csv"), "--state-dir", str(tmp_path)])
    out = CliRunner().invoke(app, ["bars", "show", "--state-dir", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert "700" in out.output and "2025-03-03 09:30:00+08:00" in out.output


def test_bars_import_of_a_missing_file_exits_with_a_clear_error(tmp_path: Path) -> None:
    out = CliRunner().invoke(
        app, ["bars", "import", str(tmp_path / "nope.csv"), "--state-dir", str(tmp_path)]
    )
    assert out.exit_code == 2
    assert "does not exist" in out.output
