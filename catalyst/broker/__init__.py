"""The one broker module (rule 4): the only package that imports ib_async.

Everything it returns is a plain value, a dataclass of its own or a DataFrame.
"""

from catalyst.broker.bracket_submit import VerifiedBracket, VerifiedLeg
from catalyst.broker.errors import (
    AccountNotManagedError,
    BracketVerificationError,
    BrokerError,
    BrokerNotConnectedError,
    BrokerTimeoutError,
    ClientIdInUseError,
    ContractNotFoundError,
    GatewayUnreachableError,
    MarketDataNotSubscribedError,
    NotWholeLotsError,
    OrderNotFoundError,
    PriceNotOnLadderError,
    ReadOnlySessionError,
    SymbolLockedError,
    UnknownBrokerValueError,
)
from catalyst.broker.exit_orders import ExitOrder
from catalyst.broker.order_latency import LatencyReport
from catalyst.broker.queries import AccountSnapshot, Quote
from catalyst.broker.session import BrokerSession, SyncBrokerSession

__all__ = [
    "AccountNotManagedError",
    "AccountSnapshot",
    "BracketVerificationError",
    "BrokerError",
    "BrokerNotConnectedError",
    "BrokerSession",
    "BrokerTimeoutError",
    "ClientIdInUseError",
    "ContractNotFoundError",
    "ExitOrder",
    "GatewayUnreachableError",
    "LatencyReport",
    "MarketDataNotSubscribedError",
    "NotWholeLotsError",
    "OrderNotFoundError",
    "PriceNotOnLadderError",
    "Quote",
    "ReadOnlySessionError",
    "SymbolLockedError",
    "SyncBrokerSession",
    "UnknownBrokerValueError",
    "VerifiedBracket",
    "VerifiedLeg",
]
