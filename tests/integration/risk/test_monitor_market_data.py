"""The monitor never relies on missing or delayed quotes silently: without a subscription
(the simulator's ``no-market-data`` fault) it alerts once per symbol with the specific message and
sends nothing; on delayed data (``broker.market_data_type = "delayed"``) it says so at start, in the
log and in an alert, naming what still protects the position (the broker-held stop)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from risk_sim_helpers import SIM_CLOCK, Rig, make_rig, record_position, run

from catalyst.broker import BrokerSession
from catalyst.log import configure_logging, reset_logging
from catalyst.risk.alerts import read_alert_file
from catalyst.risk.limits import RiskLimits
from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("risk_sim_md")]

ACCOUNTS = ("DU0000041", "DU0000042")


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHandle]:
    handle = start_gateway(tmp_path_factory.mktemp("risk-gw-md"), clock=SIM_CLOCK, accounts=ACCOUNTS)
    try:
        yield handle
    finally:
        handle.stop()


def delayed_rig(gw: GatewayHandle, account: str, tmp_path: Path) -> Rig:
    """A rig whose session asks IB for delayed data at connect."""
    rig = make_rig(gw.host, gw.port, account, tmp_path, RiskLimits())
    settings = rig.session.settings.model_copy(
        update={"broker": rig.session.settings.broker.model_copy(update={"market_data_type": "delayed"})}
    )
    session = BrokerSession(settings, ledger=rig.ledger, run_id="risk-it", reconnect_delays=(0.2, 0.5))
    rig.monitor.broker = session
    return Rig(rig.monitor, session, rig.ledger, rig.alert_file)


def test_without_market_data_the_monitor_alerts_by_name_and_sends_nothing(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    account = ACCOUNTS[0]
    gw.control.drift(account, "700", 100)
    rig = make_rig(gw.host, gw.port, account, tmp_path, RiskLimits())
    orders_before = len(gw.control.orders())

    async def scenario(r: Rig) -> list[str]:
        record_position(r.ledger, account, "700", 100, Decimal("300"), Decimal("500"))
        gw.control.fault("no-market-data", True, symbols="700")
        try:
            first = await r.monitor.check_quotes()
            await r.monitor.check_quotes()  # a second pass does not alert again
        finally:
            gw.control.fault("no-market-data", False)
        assert first.breaches == [] and first.actions == [], "no price is not a price of zero"
        return [a["title"] + "\n" + a["body"] for a in read_alert_file(r.alert_file)]

    alerts = run(rig, scenario)
    no_data = [a for a in alerts if "no market data for 700" in a]
    assert len(no_data) == 1, alerts
    assert "IB error 354" in no_data[0] and "market-data subscription" in no_data[0]
    assert "stop" in no_data[0] and "held at the broker" in no_data[0], "what still protects is named"
    assert len(gw.control.orders()) == orders_before, "nothing was sent"


def test_on_delayed_data_the_monitor_says_so_at_start_and_names_the_broker_held_stop(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    account = ACCOUNTS[1]
    gw.control.drift(account, "700", 100)
    rig = delayed_rig(gw, account, tmp_path)

    async def scenario(r: Rig) -> tuple[list[str], str]:
        record_position(r.ledger, account, "700", 100, Decimal("300"), Decimal("500"))
        gw.control.fault("no-market-data", True, symbols="700")
        stop = asyncio.Event()
        task = asyncio.create_task(r.monitor.run(stop, tick=0.1))
        try:
            for _ in range(100):  # the start message comes before the first pass
                if r.monitor.passes >= 2:
                    break
                await asyncio.sleep(0.1)
            served = (await r.session.quote("700")).data_type
        finally:
            stop.set()
            await task
            gw.control.fault("no-market-data", False)
        return [a["title"] + "\n" + a["body"] for a in read_alert_file(r.alert_file)], served

    alerts, served = run(rig, scenario)
    assert served == "delayed", "the position's quotes arrive delayed"
    delayed = [a for a in alerts if "DELAYED market data" in a]
    assert len(delayed) == 1, alerts
    assert not [a for a in alerts if "delayed prices for 700" in a], "said once at start, not per quote"
    assert "layer 2" in delayed[0] and "delayed prices" in delayed[0]
    assert "stop" in delayed[0] and "held at the broker" in delayed[0]


def test_on_live_data_the_monitor_says_nothing_about_market_data(gw: GatewayHandle, tmp_path: Path) -> None:
    rig = make_rig(gw.host, gw.port, ACCOUNTS[1], tmp_path, RiskLimits())

    async def scenario(r: Rig) -> str | None:
        return await r.monitor.announce_market_data()

    assert run(rig, scenario) is None
    assert not rig.alert_file.exists() or not read_alert_file(rig.alert_file)


def test_missing_market_data_is_logged_loudly_once_not_on_every_quote_pass(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    account = ACCOUNTS[0]
    gw.control.drift(account, "700", 100)  # its own position: not one an earlier test left
    rig = make_rig(gw.host, gw.port, account, tmp_path, RiskLimits())
    log_file = tmp_path / "monitor.jsonl"

    async def scenario(r: Rig) -> None:
        record_position(r.ledger, account, "700", 100, Decimal("300"), Decimal("500"))
        gw.control.fault("no-market-data", True, symbols="700")
        try:
            for _ in range(5):
                await r.monitor.check_quotes()
        finally:
            gw.control.fault("no-market-data", False)

    quiet = open(os.devnull, "w")  # noqa: SIM115 - closed below
    configure_logging(json_file=log_file, level="INFO", console=False, stream=quiet)
    try:
        run(rig, scenario)
    finally:
        reset_logging()
        quiet.close()
    records = [json.loads(line) for line in log_file.read_text().splitlines() if line.strip()]
    prefixes = ("broker.market_data", "monitor.market_data")
    loud = [r["event"] for r in records if r["event"].startswith(prefixes)]
    assert loud == ["broker.market_data.not_subscribed", "monitor.market_data"], loud
