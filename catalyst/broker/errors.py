"""Errors raised by :mod:`catalyst.broker`.

Each message says what happened at the broker boundary and what a trader can do about it. Errors
raised *before* anything reaches the socket (mapping, ladder, lots, read-only mode, locked symbol)
guarantee that nothing was sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from catalyst.errors import CatalystError


class BrokerError(CatalystError):
    """Base of every error raised by :mod:`catalyst.broker`."""


class GatewayUnreachableError(BrokerError, ConnectionError):
    """Nothing accepts connections at the configured host and port."""


class ClientIdInUseError(BrokerError, ConnectionError):
    """The gateway refused the client id (IB error 326): another session uses it."""


class AccountNotManagedError(BrokerError, ValueError):
    """The configured account is not among the accounts the gateway manages for this login."""


class BrokerNotConnectedError(BrokerError, ConnectionError):
    """The session is not connected (or is still reconnecting) and cannot take the request now."""


class BrokerTimeoutError(BrokerError, TimeoutError):
    """The gateway did not answer a request within the configured time."""


class BrokerPacingError(BrokerTimeoutError):
    """IB dropped a request for pacing (error 100: more than 50 messages a second from this client)."""


class ReadOnlySessionError(BrokerError, PermissionError):
    """An order action was attempted on a session opened read-only."""


class PriceNotOnLadderError(BrokerError, ValueError):
    """A price that is not on the HKEX spread-table ladder; refused before the socket."""


class NotWholeLotsError(BrokerError, ValueError):
    """A quantity that is not a positive whole number of board lots; refused before the socket."""


class ProtectionRequestError(BrokerError, ValueError):
    """A protect() request that names nothing to place (no stop and no target, or a blank OCA group)."""


class UnknownBrokerValueError(BrokerError, ValueError):
    """The broker reported a side or order type that is not in the explicit mapping tables."""


class ContractNotFoundError(BrokerError, LookupError):
    """The broker has no unique SEHK stock for this symbol."""


class SymbolLockedError(BrokerError, RuntimeError):
    """The broker's contract details disagree with catalyst.market (board lot or tick ladder).

    Trading the symbol stays refused until a person resolves the difference (fix the universe or
    the spread table, then record a ``symbol_unlocked`` risk event).
    """


class OrderNotFoundError(BrokerError, LookupError):
    """No order with that reference is known at the broker."""


class BracketVerificationError(BrokerError, RuntimeError):
    """A bracket could not be proven at the broker; every leg that existed was cancelled.

    ``evidence`` holds what was intended and what the broker reported, leg by leg.
    """

    def __init__(self, message: str, evidence: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.evidence: dict[str, Any] = dict(evidence)


class SymbolExitsBusyError(BrokerError, RuntimeError):
    """Another process owns this symbol's exit orders right now (the monitor repairing protection,
    flattening or cancelling exits): the bracket was not sent, so the two never act at once."""


class OrdersNotRecordedError(BrokerError, RuntimeError):
    """The ledger could not record a bracket's orders before sending, so nothing was sent."""


class NothingToAdoptError(BrokerError, LookupError):
    """A rerun was to adopt a crashed run's bracket, but the broker lists none of its legs."""


class MarketDataNotSubscribedError(BrokerError, LookupError):
    """IB refused quotes or historical bars of a symbol because the account has no market-data
    subscription for it (errors 354, 10089, 10168, or 162 "no market data permissions"). Nothing is
    priced from the missing data; the message names the symbol, what is missing and the setting
    that would help."""

    def __init__(self, message: str, *, symbol: str, code: int, what: str) -> None:
        super().__init__(message)
        self.symbol = symbol
        self.code = code
        self.what = what


class PlacementConnectionLostError(BrokerError, ConnectionError):
    """The connection dropped while orders were being recorded or sent (``broker/placement.py``);
    what reached the broker is known only from its reports after the reconnect."""
