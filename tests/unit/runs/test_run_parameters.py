"""-p NAME VALUE parameters: typed by the notebook's defaults, checked before a run, never a secret."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from catalyst.cli.runs import parse_param_args
from catalyst.runs.notebook_runner import default_notebooks_dir
from catalyst.runs.parameter_checks import check_values
from catalyst.runs.parameters import (
    UNTYPED,
    check_parameters,
    literal_default,
    notebook_parameters,
    parse_pairs,
)
from catalyst.runs.errors import BadRunParameterError

#: As the trading cycle's parameters cell declares them.
DEFAULTS: dict[str, Any] = {
    "mode": "sim",
    "run_id": "",
    "strategy": "catalyst-momentum",
    "strategy_params": {},
    "universe": "",
    "limit_overrides": {},
    "dry_run": False,
    "lookback_days": 20,
    "show_code": False,
}


def _typed(**given: str) -> dict[str, Any]:
    return check_parameters(given, DEFAULTS, [], notebook="trading_cycle.ipynb")


def test_the_defaults_are_read_as_values_from_the_notebooks_parameters_cell() -> None:
    defaults = notebook_parameters(default_notebooks_dir() / "trading_cycle.ipynb")
    assert defaults == DEFAULTS


def test_a_default_that_is_not_a_literal_takes_any_value() -> None:
    assert literal_default("datetime.now()") is UNTYPED
    assert check_parameters({"x": "[1]"}, {"x": UNTYPED}, [], notebook="nb") == {"x": [1]}


def test_values_take_the_type_of_their_default() -> None:
    assert _typed(
        dry_run="true", universe="700,5", limit_overrides='{"max_positions": 2}', lookback_days="5"
    ) == {"dry_run": True, "universe": "700,5", "limit_overrides": {"max_positions": 2}, "lookback_days": 5}


@pytest.mark.parametrize("text", ["700", "99999", '"700"'])
def test_a_number_given_for_a_text_parameter_is_that_text(text: str) -> None:
    """`-p universe 700` is the stock 700 (it used to reach the notebook as the int 700: TypeError)."""
    assert _typed(universe=text) == {"universe": text.strip('"')}


@pytest.mark.parametrize("text", ["maybe", "1", "yes", '"true"', ""])
def test_a_flag_takes_only_true_or_false(text: str) -> None:
    """`-p dry_run maybe` used to run as a dry run (a non-empty string is truthy)."""
    with pytest.raises(BadRunParameterError, match=r"dry_run takes true or false .*default is false"):
        _typed(dry_run=text)


@pytest.mark.parametrize("text", ["abc", "2.5", "true", "[20]"])
def test_a_whole_number_parameter_refuses_anything_else(text: str) -> None:
    expected = "lookback_days takes a whole number.*got '" + re.escape(text)
    with pytest.raises(BadRunParameterError, match=expected):
        _typed(lookback_days=text)


@pytest.mark.parametrize(("name", "text"), [("limit_overrides", "3"), ("strategy_params", "[1]")])
def test_an_object_parameter_refuses_anything_else(name: str, text: str) -> None:
    with pytest.raises(BadRunParameterError, match=f"{name} takes a JSON object"):
        _typed(**{name: text})


def test_a_list_for_a_text_parameter_is_refused() -> None:
    with pytest.raises(BadRunParameterError, match="universe takes text"):
        _typed(universe='["700"]')


def test_an_unknown_parameter_lists_the_notebooks_parameters() -> None:
    with pytest.raises(BadRunParameterError, match="its parameters: dry_run, limit_overrides"):
        _typed(dryrun="true")


def test_a_parameter_given_twice_is_refused() -> None:
    with pytest.raises(BadRunParameterError, match="given twice"):
        parse_pairs([("universe", "700"), ("universe", "5")])


def test_the_mode_cannot_be_set_as_a_parameter() -> None:
    with pytest.raises(BadRunParameterError, match="--mode"):
        _typed(mode="live")


def test_a_parameter_carrying_a_secret_value_is_refused() -> None:
    with pytest.raises(BadRunParameterError, match="secret"):
        check_parameters({"strategy": "x-s3cr3t"}, DEFAULTS, ["s3cr3t"], notebook="nb")


def test_command_line_pairs_are_read_in_threes() -> None:
    assert parse_param_args(["-p", "a", "1", "--param", "b", "x y"]) == [("a", "1"), ("b", "x y")]


def test_a_dangling_p_is_refused() -> None:
    import typer

    with pytest.raises(typer.BadParameter, match="NAME and a VALUE"):
        parse_param_args(["-p", "a"])


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from catalyst.config import load_settings

    monkeypatch.chdir(tmp_path)
    return load_settings()


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"universe": "99999"}, "stock 99999 is not in Catalyst's universe"),
        ({"lookback_days": 0}, "lookback_days must be 1..365"),
        ({"strategy": "nosuch"}, "no strategy named 'nosuch'"),
        ({"strategy_params": {"nope": 1}}, "unknown parameter"),
        ({"limit_overrides": {"nope": 1}}, "unknown limit override"),
    ],
)
def test_a_cycle_value_the_notebook_would_refuse_is_refused_before_the_run(
    given: dict[str, Any], message: str, settings: Any
) -> None:
    with pytest.raises(BadRunParameterError, match=message):
        check_values("cycle", given, DEFAULTS, settings, notebook="trading_cycle.ipynb")


def test_valid_cycle_values_pass(settings: Any) -> None:
    check_values("cycle", {"universe": "700, 5", "lookback_days": 5}, DEFAULTS, settings, notebook="nb")


@pytest.mark.parametrize(
    ("given", "message"), [({"day": "2026-13-01"}, "day must be YYYY-MM-DD"), ({"days": 0}, "days must be")]
)
def test_a_review_period_that_cannot_be_is_refused(given: dict[str, Any], message: str) -> None:
    defaults = {"day": "", "days": 1, "compare_backtest": True}
    with pytest.raises(BadRunParameterError, match=message):
        check_values("review", given, defaults, None, notebook="review.ipynb")
