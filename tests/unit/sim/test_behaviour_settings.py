"""Uncertain IB behaviours are named settings a person can change from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalyst.sim.engine.behaviour import SimBehaviour, behaviour_from_specs
from catalyst.sim.gateway.gateway_main import GatewayConfig, main, make_exchange


def test_no_specs_give_the_documented_defaults() -> None:
    assert behaviour_from_specs([]) == SimBehaviour()


def test_each_value_is_read_as_its_settings_type() -> None:
    b = behaviour_from_specs(
        [
            "day_expiry_sends_202=false",
            "mkt_conversion_ticks=3",
            "odd_lot_fill_probability=0.25",
            "children_size_on_partial_parent=full",
            "cash_account=no",
        ]
    )
    assert b.day_expiry_sends_202 is False
    assert b.mkt_conversion_ticks == 3
    assert b.odd_lot_fill_probability == 0.25
    assert b.children_size_on_partial_parent == "full"
    assert b.cash_account is False


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ("no_such_thing=1", "no_such_thing"),
        ("cash_account=maybe", "cash_account"),
        ("mkt_conversion_ticks=many", "mkt_conversion_ticks"),
        ("odd_lot_fill_probability=2", "odd_lot_fill_probability"),
        ("children_size_on_partial_parent=half", "children_size_on_partial_parent"),
        ("cash_account", "NAME=VALUE"),
    ],
)
def test_a_bad_setting_is_refused_naming_it(spec: str, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        behaviour_from_specs([spec])


def test_the_gateway_program_hands_the_settings_to_the_engine(tmp_path: Path) -> None:
    exchange = make_exchange(
        GatewayConfig(
            state_dir=tmp_path, ephemeral=True, behaviour=["auction_fills=false", "margin_leverage=2"]
        )
    )
    try:
        assert exchange.behaviour.margin_leverage == 2
    finally:
        exchange.close()


def test_the_gateway_refuses_to_start_with_an_unknown_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--state", str(tmp_path), "--port", "0", "--behaviour", "free_money=true"])
    assert code == 2
    assert "free_money" in capsys.readouterr().err
    assert not (tmp_path / "gateway.json").exists(), "nothing may listen"
