"""`research.cycle_strategy` names the strategy of `catalyst cycle` (and so of `catalyst schedule`, which
runs it without -p); an explicit -p strategy or -p strategy_params still wins; other kinds are untouched."""

from __future__ import annotations

from catalyst.config import Settings
from catalyst.runs.launcher import strategy_from_settings


def _settings(name: str = "mean-reversion", params: dict[str, object] | None = None) -> Settings:
    settings = Settings()
    settings.research.cycle_strategy = name
    settings.research.cycle_strategy_params = params or {}
    return settings


def test_the_setting_names_the_cycles_strategy_and_its_parameters() -> None:
    pairs = strategy_from_settings("cycle", [("universe", "700")], _settings(params={"min_z": 2.5}))
    assert pairs == [
        ("strategy", "mean-reversion"),
        ("strategy_params", '{"min_z": 2.5}'),
        ("universe", "700"),
    ]


def test_an_explicit_strategy_or_its_parameters_win_over_the_setting() -> None:
    given = [("strategy", "catalyst-momentum")]
    assert strategy_from_settings("cycle", given, _settings()) == given
    only_params = [("strategy_params", '{"min_z": 3}')]
    assert strategy_from_settings("cycle", only_params, _settings(params={"min_z": 2.5})) == [
        ("strategy", "mean-reversion"),
        *only_params,
    ]


def test_no_setting_or_another_kind_leaves_the_parameters_alone() -> None:
    assert strategy_from_settings("cycle", [], _settings(name="")) == []
    assert strategy_from_settings("research", [], _settings()) == []
