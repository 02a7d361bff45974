"""IB's answers without a market-data subscription, sorted and put in a trader's words."""

from __future__ import annotations

import pytest

from catalyst.broker.market_data_entitlements import (
    entitlement_answer,
    market_data_type_code,
    market_data_type_name,
    refusal_message,
)
from catalyst.config import BrokerSettings
from catalyst.config.errors import ConfigError


def test_the_setting_names_ibs_four_market_data_types() -> None:
    assert [market_data_type_code(n) for n in ("live", "frozen", "delayed", "delayed-frozen")] == [1, 2, 3, 4]
    assert [market_data_type_name(c) for c in (1, 2, 3, 4)] == ["live", "frozen", "delayed", "delayed-frozen"]
    assert market_data_type_name(None) == "live"
    with pytest.raises(ValueError, match="is not one of live, frozen, delayed, delayed-frozen"):
        market_data_type_code("realtime")


def test_the_setting_defaults_to_live_and_refuses_other_words() -> None:
    assert BrokerSettings().market_data_type == "live"
    with pytest.raises((ValueError, ConfigError)):
        BrokerSettings(market_data_type="realtime")  # type: ignore[arg-type]


@pytest.mark.parametrize("code", [354, 10089, 10168])
def test_not_subscribed_codes_refuse(code: int) -> None:
    notice = entitlement_answer(code, "Requested market data is not subscribed.")
    assert notice is not None and notice.answer == "not_subscribed"


def test_10167_means_delayed_data_instead() -> None:
    notice = entitlement_answer(
        10167, "Requested market data is not subscribed. Displaying delayed market data."
    )
    assert notice is not None and notice.answer == "delayed_instead"


def test_162_is_an_entitlement_refusal_only_when_it_says_permissions() -> None:
    assert entitlement_answer(162, "Historical Market Data Service error message:No market data permissions")
    assert entitlement_answer(162, "Historical Market Data Service error message:pacing violation") is None
    assert entitlement_answer(200, "No security definition has been found for the request") is None


def test_a_refusal_names_the_symbol_what_is_missing_and_the_setting_that_helps() -> None:
    notice = entitlement_answer(354, "Requested market data is not subscribed.")
    assert notice is not None
    live = refusal_message("700", "quotes", notice, "live")
    assert "quotes for 700" in live and "IB error 354" in live and "market-data subscription" in live
    assert 'broker.market_data_type = "delayed"' in live
    delayed = refusal_message("700", "quotes", notice, "delayed")
    assert "broker.market_data_type" not in delayed, "delayed is already asked for: only subscribing helps"
