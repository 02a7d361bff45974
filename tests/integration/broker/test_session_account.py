"""One account identity per session, resolved from the gateway login at connect, in the default
settings (no broker.account): the login's only account, a configured one only if the login manages
it, and a clear refusal when the login manages several and none is configured (issue 10)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from catalyst.broker import AccountNotManagedError, BrokerSession
from catalyst.config import BrokerSettings, Settings
from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("session_account")]

SIM_CLOCK = "2026-11-24T10:00:00+08:00"
TWO = ("DU0000041", "DU0000042")


@pytest.fixture(scope="module")
def one_account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHandle]:
    handle = start_gateway(tmp_path_factory.mktemp("one-acct"), clock=SIM_CLOCK, accounts=("DU0000040",))
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture(scope="module")
def two_accounts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHandle]:
    handle = start_gateway(tmp_path_factory.mktemp("two-acct"), clock=SIM_CLOCK, accounts=TWO)
    try:
        yield handle
    finally:
        handle.stop()


def settings(gw: GatewayHandle, account: str = "", client_id: int = 61) -> Settings:
    return Settings(
        mode="sim",
        broker=BrokerSettings(
            host=gw.host, port=gw.port, client_id=client_id, account=account, connect_timeout=5
        ),
    )


def connect_account(s: Settings) -> str:
    async def main() -> str:
        session = BrokerSession(s)
        try:
            await session.connect()
            return session.account
        finally:
            await session.close()

    return asyncio.run(main())


def test_with_no_account_configured_the_session_acts_for_the_logins_only_account(
    one_account: GatewayHandle,
) -> None:
    assert connect_account(settings(one_account)) == "DU0000040"


def test_several_accounts_and_none_configured_is_refused_naming_them_and_the_setting(
    two_accounts: GatewayHandle,
) -> None:
    with pytest.raises(
        AccountNotManagedError, match=r"several accounts \(DU0000041, DU0000042\).*broker.account"
    ):
        connect_account(settings(two_accounts, client_id=62))


def test_a_configured_account_among_several_is_the_sessions(two_accounts: GatewayHandle) -> None:
    assert connect_account(settings(two_accounts, account="DU0000042", client_id=63)) == "DU0000042"


def test_a_configured_account_the_login_does_not_manage_is_refused_naming_both(
    one_account: GatewayHandle,
) -> None:
    with pytest.raises(AccountNotManagedError, match=r"DU0000099 is not managed.*DU0000040.*broker.account"):
        connect_account(settings(one_account, account="DU0000099", client_id=64))
