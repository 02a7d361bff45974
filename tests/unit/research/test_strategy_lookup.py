"""The trader's own strategies are found without editing catalyst/: a strategies/ folder, modules named
in the settings, and the `catalyst.strategies` entry points; one name, one piece of code."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from catalyst.config import load_settings
from catalyst.research.errors import StrategyLoadError, UnknownStrategyError
from catalyst.research.strategy_loader import StrategySearch
from catalyst.research.strategy_registry import (
    configure_from_settings,
    current_search,
    get_strategy,
    list_strategies,
    provenance,
    strategy_info,
    use_search,
)
from tests.unit.research.own_strategy_files import own_folder, strategy_source, write_strategy

__all__ = ["own_folder"]


def test_a_file_in_the_strategies_folder_is_a_strategy_by_its_name(own_folder: Path) -> None:
    path = write_strategy(own_folder, "my_idea", "my-idea")
    assert "my-idea" in list_strategies()
    assert "catalyst-momentum" in list_strategies()  # the built-in stays
    info = strategy_info("my-idea")
    assert info.origin == f"file {path}"
    assert info.defaults() == {"lookback": 3}
    assert get_strategy("my-idea", lookback="5").params.lookback == 5


def test_the_default_folder_is_strategies_at_the_project_root(tmp_path: Path) -> None:
    write_strategy(tmp_path / "strategies", "rooted", "rooted-idea")
    settings = load_settings(environ={"CATALYST_PATHS__ROOT": str(tmp_path)})
    configure_from_settings(settings)
    try:
        assert current_search().folders == ((tmp_path / "strategies").resolve(),)
        assert strategy_info("rooted-idea").origin.endswith("strategies/rooted.py")
    finally:
        use_search(None)


def test_an_edited_file_is_read_again_and_its_hash_changes(own_folder: Path) -> None:
    path = write_strategy(own_folder, "edit_me", "edit-me")
    before = strategy_info("edit-me").sha256[str(path)]
    path.write_text(strategy_source("edit-me", params="lookback: int = 9"), encoding="utf-8")
    after = strategy_info("edit-me")
    assert after.sha256[str(path)] != before
    assert after.defaults() == {"lookback": 9}


def test_an_unknown_name_lists_the_known_ones_and_says_where_own_strategies_go(own_folder: Path) -> None:
    write_strategy(own_folder, "known", "known-one")
    with pytest.raises(UnknownStrategyError, match=r"no strategy named 'nope'.*known-one.*strategies/"):
        get_strategy("nope")


def test_a_name_defined_in_two_files_is_an_error_naming_both(own_folder: Path) -> None:
    a = write_strategy(own_folder, "a_first", "twice")
    b = write_strategy(own_folder, "b_second", "twice")
    with pytest.raises(StrategyLoadError, match="'twice' is defined twice") as err:
        list_strategies()
    assert str(a) in str(err.value) and str(b) in str(err.value)


def test_a_file_reusing_a_built_in_name_is_an_error_naming_both(own_folder: Path) -> None:
    path = write_strategy(own_folder, "mine", "catalyst-momentum")
    with pytest.raises(StrategyLoadError, match="defined twice") as err:
        get_strategy("catalyst-momentum")
    assert "built-in (catalyst.research.momentum)" in str(err.value) and str(path) in str(err.value)


def test_a_file_that_does_not_import_is_an_error_naming_the_file(own_folder: Path) -> None:
    (own_folder / "broken.py").write_text("def oops(:\n", encoding="utf-8")
    with pytest.raises(StrategyLoadError, match=r"broken\.py failed to import: SyntaxError"):
        list_strategies()


def test_a_module_named_in_the_settings_is_searched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "desk_pkg"
    write_strategy(pkg, "__init__", "desk-idea")
    monkeypatch.syspath_prepend(str(tmp_path))
    toml = tmp_path / "catalyst.toml"
    toml.write_text('[research]\nstrategy_modules = ["desk_pkg"]\n', encoding="utf-8")
    settings = load_settings(toml, environ={})
    configure_from_settings(settings)
    try:
        assert strategy_info("desk-idea").origin == "module desk_pkg"
    finally:
        use_search(None)
        sys.modules.pop("desk_pkg", None)


def _install_entry_point(site: Path, dist: str, value: str) -> None:
    """A real installed distribution (a .dist-info folder on sys.path) declaring a strategy entry point."""
    info = site / f"{dist}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        textwrap.dedent(f"""
            [catalyst.strategies]
            packaged = {value}
        """),
        encoding="utf-8",
    )


def test_a_packaged_strategy_is_found_by_its_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    write_strategy(site / "packaged_strats", "__init__", "packaged-idea")
    _install_entry_point(site, "packaged_strats", "packaged_strats:PackagedIdeaStrategy")
    monkeypatch.syspath_prepend(str(site))
    use_search(StrategySearch(folders=(), entry_points=True))
    try:
        info = strategy_info("packaged-idea")
        assert info.origin.startswith("entry point packaged = packaged_strats:PackagedIdeaStrategy")
        assert "package packaged_strats 1.0" in info.origin
        assert info.sha256  # the package's source file is hashed like a folder's
    finally:
        use_search(None)
        sys.modules.pop("packaged_strats", None)


def test_a_name_both_in_the_folder_and_an_entry_point_is_an_error_naming_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    write_strategy(site / "clash_pkg", "__init__", "clash")
    _install_entry_point(site, "clash_pkg", "clash_pkg:ClashStrategy")
    monkeypatch.syspath_prepend(str(site))
    path = write_strategy(tmp_path / "strategies", "clash", "clash")
    use_search(StrategySearch(folders=(tmp_path / "strategies",), entry_points=True))
    try:
        with pytest.raises(StrategyLoadError, match="'clash' is defined twice") as err:
            list_strategies()
        assert str(path) in str(err.value) and "entry point packaged = clash_pkg:ClashStrategy" in str(
            err.value
        )
    finally:
        use_search(None)
        sys.modules.pop("clash_pkg", None)


def test_provenance_names_the_code_and_parameters_a_run_used(own_folder: Path) -> None:
    path = write_strategy(own_folder, "traced", "traced")
    record = provenance("traced", {"lookback": 4})
    assert record["name"] == "traced"
    assert record["params"] == {"lookback": 4}
    import hashlib

    assert record["sources"] == {str(path): hashlib.sha256(path.read_bytes()).hexdigest()}
    assert len(record["fingerprint"]) == 64
