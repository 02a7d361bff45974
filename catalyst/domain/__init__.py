"""Value types shared by every layer: sides, order types, bracket intents."""

from catalyst.domain.bracket_intent import (
    MAX_ORDER_REF_LEN,
    BracketIntent,
    make_intent_id,
    parse_order_ref,
)
from catalyst.domain.domain_errors import (
    DomainError,
    InvalidIntentError,
    UnknownOrderTypeError,
    UnknownSideError,
)
from catalyst.domain.order_type import OrderType
from catalyst.domain.side import Side

__all__ = [
    "MAX_ORDER_REF_LEN",
    "BracketIntent",
    "DomainError",
    "InvalidIntentError",
    "OrderType",
    "Side",
    "UnknownOrderTypeError",
    "UnknownSideError",
    "make_intent_id",
    "parse_order_ref",
]
