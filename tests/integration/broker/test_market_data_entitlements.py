"""Market-data entitlements on a real account, reproduced by the simulator's ``no-market-data`` fault.

Without an HKEX subscription IB refuses quotes (354/10089) and historical bars (162); with delayed
data asked for (``broker.market_data_type = "delayed"``) it warns (10167) and serves delayed ticks.
The broker module turns each refusal into a :class:`MarketDataNotSubscribedError` naming the
symbol, what is missing and the setting that would help, quickly (never a wait for a timeout, never
an empty quote that could be read as a price), and every quote says what type it was served as.
"""

from __future__ import annotations

import time

import pytest
from broker_harness import GatewayTarget, run_session

from catalyst.broker import BrokerSession
from catalyst.broker.errors import MarketDataNotSubscribedError

pytestmark = pytest.mark.integration


def test_a_live_quote_is_labelled_live(gateway: GatewayTarget) -> None:
    async def scenario(session: BrokerSession) -> object:
        return await session.quote("700")

    quote = run_session(gateway, None, scenario)
    assert quote.data_type == "live"
    assert quote.bid is not None and quote.ask is not None


def test_without_a_subscription_a_quote_is_refused_by_name_and_quickly(gateway: GatewayTarget) -> None:
    control = gateway.require_control()

    async def scenario(session: BrokerSession) -> tuple[str, int, float, object]:
        control.fault("no-market-data", True, symbols="700")
        try:
            started = time.monotonic()
            with pytest.raises(MarketDataNotSubscribedError) as caught:
                await session.quote("700")
            took = time.monotonic() - started
            other = await session.quote("5")  # a symbol the fault does not name is still served
            return str(caught.value), caught.value.code, took, other
        finally:
            control.fault("no-market-data", False)

    message, code, took, other = run_session(gateway, None, scenario, broker={"request_timeout": 20})
    assert code == 354
    assert "quotes for 700" in message and "market-data subscription" in message
    assert "broker.market_data_type" in message, "the setting that would help is named"
    assert took < 15, "the refusal ends the request; it does not wait for the 20 s timeout"
    assert other.bid is not None and other.data_type == "live"


def test_without_permissions_historical_bars_are_refused_not_empty(gateway: GatewayTarget) -> None:
    control = gateway.require_control()

    async def scenario(session: BrokerSession) -> tuple[str, int]:
        control.fault("no-market-data", True)
        try:
            with pytest.raises(MarketDataNotSubscribedError) as caught:
                await session.bars("700", duration="2 D", bar_size="5 mins")
            return str(caught.value), caught.value.code
        finally:
            control.fault("no-market-data", False)

    message, code = run_session(gateway, None, scenario)
    assert code == 162
    assert "historical bars for 700" in message and "No market data permissions" in message


def test_delayed_data_asked_for_is_served_delayed_and_says_so(gateway: GatewayTarget) -> None:
    control = gateway.require_control()

    async def scenario(session: BrokerSession) -> object:
        control.fault("no-market-data", True, symbols="700")
        try:
            return await session.quote("700")
        finally:
            control.fault("no-market-data", False)

    quote = run_session(gateway, None, scenario, broker={"market_data_type": "delayed"})
    assert quote.data_type == "delayed", "served as IB's delayed tick types (66-76)"
    assert quote.bid is not None and quote.ask is not None and quote.last is not None


def test_delayed_data_not_enabled_is_refused_too(gateway: GatewayTarget) -> None:
    control = gateway.require_control()

    async def scenario(session: BrokerSession) -> int:
        control.fault("no-market-data", True, symbols="700", delayed=0)
        try:
            with pytest.raises(MarketDataNotSubscribedError) as caught:
                await session.quote("700")
            return caught.value.code
        finally:
            control.fault("no-market-data", False)

    assert run_session(gateway, None, scenario, broker={"market_data_type": "delayed"}) == 10168
