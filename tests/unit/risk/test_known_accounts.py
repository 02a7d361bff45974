"""`catalyst risk` commands do not connect to the broker: their account is the one given, the
configured one, or the single account the ledger knows, never a guess and never ""."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from catalyst.ledger import Ledger
from catalyst.risk.errors import AccountAmbiguousError
from catalyst.risk.known_accounts import choose_account, known_accounts
from catalyst.risk.state import trip_breaker


def test_the_given_account_wins_then_the_configured_one() -> None:
    assert choose_account(given="DU2", configured="DU1", known=["DU3"]) == "DU2"
    assert choose_account(given=None, configured="DU1", known=["DU3", "DU4"]) == "DU1"


def test_with_nothing_configured_the_ledgers_only_account_is_used() -> None:
    assert choose_account(given=None, configured="", known=["DU0000001"]) == "DU0000001"


def test_several_accounts_in_the_ledger_are_refused_naming_them_and_how_to_choose() -> None:
    with pytest.raises(AccountAmbiguousError, match=r"DU1, DU2.*--account.*broker.account"):
        choose_account(given=None, configured="", known=["DU1", "DU2"])


def test_no_account_anywhere_is_refused_saying_nothing_is_halted() -> None:
    with pytest.raises(AccountAmbiguousError, match=r"nothing is halted or locked.*--account"):
        choose_account(given="  ", configured="", known=[])


def test_known_accounts_reads_risk_events_intents_and_orders_and_skips_empty_ones(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.duckdb")
    now = datetime.now(UTC)
    trip_breaker(ledger, account="DU0000002", message="loss", ts=now)
    for ref, account in (("a:P", "DU0000001"), ("b:P", ""), ("c:P", None)):
        ledger.append("orders", order_row(ref, account))
    assert known_accounts(ledger) == ["DU0000001", "DU0000002"]


def order_row(ref: str, account: str | None) -> dict[str, object]:
    return {
        "order_ref": ref,
        "role": "entry",
        "account": account,
        "symbol": "700",
        "side": "BUY",
        "order_type": "LMT",
        "quantity": 100,
        "status": "Submitted",
    }
