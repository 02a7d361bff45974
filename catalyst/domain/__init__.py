"""Value types shared by every layer: sides, order types, candidates, bracket intents."""

from catalyst.domain.bracket_intent import (
    MAX_ORDER_REF_LEN,
    RESUMABLE_INTENT_STATUSES,
    BracketIntent,
    IntentNumbering,
    intent_id_prefix,
    make_intent_id,
    parse_order_ref,
)
from catalyst.domain.candidate import Candidate
from catalyst.domain.errors import (
    DomainError,
    InvalidIntentError,
    UnknownOrderStatusError,
    UnknownOrderTypeError,
    UnknownSideError,
)
from catalyst.domain.order_status import OrderStatus, can_move
from catalyst.domain.order_type import OrderType
from catalyst.domain.side import Side

__all__ = [
    "MAX_ORDER_REF_LEN",
    "RESUMABLE_INTENT_STATUSES",
    "BracketIntent",
    "Candidate",
    "DomainError",
    "IntentNumbering",
    "InvalidIntentError",
    "OrderStatus",
    "OrderType",
    "Side",
    "UnknownOrderStatusError",
    "UnknownOrderTypeError",
    "UnknownSideError",
    "can_move",
    "intent_id_prefix",
    "make_intent_id",
    "parse_order_ref",
]
