"""`catalyst strategy new NAME` writes a working, commented starting file into the project's
strategies/ folder, refuses a taken name or a bad one with a clear message; `strategy list` shows it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from catalyst.cli.app import app
from catalyst.research.strategy_registry import use_search


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CATALYST_PATHS__ROOT", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    use_search(None)  # the command pointed the registry at this project


def test_strategy_new_writes_a_starting_file_that_strategy_list_then_shows(project: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["strategy", "new", "gap-fade"])
    assert made.exit_code == 0, made.output
    path = project / "strategies" / "gap_fade.py"
    assert f"wrote {path}" in made.output
    text = path.read_text(encoding="utf-8")
    assert 'name: ClassVar[str] = "gap-fade"' in text and "class GapFadeStrategy(Strategy)" in text
    listed = runner.invoke(app, ["strategy", "list"])
    assert listed.exit_code == 0, listed.output
    assert f"gap-fade\n  from: file {path}" in listed.output
    assert "  min_move_pct = 0.01\n" in listed.output and "  entry_time = 10:00\n" in listed.output


def test_strategy_new_refuses_a_taken_name_and_a_bad_one(project: Path) -> None:
    runner = CliRunner()
    taken = runner.invoke(app, ["strategy", "new", "catalyst-momentum"])
    assert taken.exit_code == 2
    assert "a strategy named 'catalyst-momentum' exists already (built-in" in taken.output
    bad = runner.invoke(app, ["strategy", "new", "My Idea"])
    assert bad.exit_code == 2 and "must be lowercase letters and digits" in bad.output
    assert "Traceback" not in bad.output
    assert not (project / "strategies").exists() or not list((project / "strategies").iterdir())
