"""Which account a command that does not connect to the broker acts for.

`catalyst risk status|reset|unlock` read and write the ledger only. Their account is the one given
(``--account``), else the configured one (``broker.account``), else the one account the ledger has
recorded anything for (risk events, intents, orders: every row carries the account the broker
session resolved at connect). Several, or none, and the command refuses and says how to choose:
guessing would show, reset or unlock another account's state, or state kept under no account.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from catalyst.risk.errors import AccountAmbiguousError

if TYPE_CHECKING:
    from catalyst.ledger import Ledger

_TABLES = ("risk_events", "intents", "orders")


def known_accounts(ledger: Ledger) -> list[str]:
    """The distinct non-empty accounts the ledger has rows for, sorted."""
    union = " UNION ".join(f"SELECT DISTINCT account FROM {t}" for t in _TABLES)
    frame = ledger.query(
        f"SELECT DISTINCT trim(account) AS account FROM ({union}) "
        "WHERE account IS NOT NULL AND trim(account) <> '' ORDER BY 1"
    )
    return [str(a) for a in frame["account"]]


def choose_account(*, given: str | None, configured: str, known: list[str]) -> str:
    """The account to act for (see the module's docstring); :class:`AccountAmbiguousError` else."""
    for value in (given, configured):
        if value is not None and value.strip():
            return value.strip()
    if len(known) == 1:
        return known[0]
    how = "pass --account ACCOUNT, or set broker.account in catalyst.toml (or CATALYST_BROKER__ACCOUNT)"
    if not known:
        raise AccountAmbiguousError(
            "no account is configured and the ledger has recorded none yet (no cycle or monitor has "
            f"connected to the broker with it): nothing is halted or locked. To name one, {how}"
        )
    raise AccountAmbiguousError(
        f"no account is configured and the ledger holds several: {', '.join(known)}. Choose one: {how}"
    )
