"""-p NAME VALUE parameters: JSON or text, checked against the notebook, never a secret."""

from __future__ import annotations

import pytest

from catalyst.cli.runs_cli import parse_param_args
from catalyst.runs.run_parameters import check_parameters, parse_pairs
from catalyst.runs.runs_errors import BadRunParameterError

KNOWN = ["strategy", "universe", "dry_run", "limit_overrides"]


def test_values_are_json_when_they_parse_and_text_otherwise() -> None:
    assert parse_pairs(
        [("dry_run", "true"), ("universe", "700,5"), ("limit_overrides", '{"max_positions": 2}')]
    ) == {"dry_run": True, "universe": "700,5", "limit_overrides": {"max_positions": 2}}


def test_an_unknown_parameter_lists_the_notebooks_parameters() -> None:
    with pytest.raises(BadRunParameterError, match="its parameters: dry_run, limit_overrides"):
        check_parameters({"dryrun": True}, KNOWN, [], notebook="trading_cycle.ipynb")


def test_the_mode_cannot_be_set_as_a_parameter() -> None:
    with pytest.raises(BadRunParameterError, match="--mode"):
        check_parameters({"mode": "live"}, [*KNOWN, "mode"], [], notebook="nb")


def test_a_parameter_carrying_a_secret_value_is_refused() -> None:
    with pytest.raises(BadRunParameterError, match="secret"):
        check_parameters({"strategy": "x-s3cr3t"}, KNOWN, ["s3cr3t"], notebook="nb")


def test_command_line_pairs_are_read_in_threes() -> None:
    assert parse_param_args(["-p", "a", "1", "--param", "b", "x y"]) == [("a", "1"), ("b", "x y")]


def test_a_dangling_p_is_refused() -> None:
    import typer

    with pytest.raises(typer.BadParameter, match="NAME and a VALUE"):
        parse_param_args(["-p", "a"])
