"""The account a broker session acts for, from the configured one and the login's managed accounts."""

from __future__ import annotations

import pytest

from catalyst.broker import AccountNotManagedError
from catalyst.broker.connection import resolve_account


def test_nothing_configured_and_one_managed_account_is_that_account() -> None:
    assert resolve_account("", ["DU0000001"]) == "DU0000001"


def test_a_configured_account_must_be_managed() -> None:
    assert resolve_account("DU2", ["DU1", "DU2"]) == "DU2"
    with pytest.raises(AccountNotManagedError, match=r"DU9 is not managed.*DU1, DU2.*broker.account"):
        resolve_account("DU9", ["DU1", "DU2"])


def test_several_managed_accounts_and_none_configured_is_refused_naming_them() -> None:
    with pytest.raises(AccountNotManagedError, match=r"several accounts \(DU1, DU2\).*set broker.account"):
        resolve_account("", ["DU1", "DU2"])


@pytest.mark.parametrize("managed", [[], [""], ["  "]])
def test_no_managed_account_is_refused_rather_than_trading_under_an_empty_name(managed: list[str]) -> None:
    with pytest.raises(AccountNotManagedError, match="no managed account"):
        resolve_account("", managed)


def test_blanks_around_names_do_not_make_another_account() -> None:
    assert resolve_account(" DU1 ", ["DU1 "]) == "DU1"
