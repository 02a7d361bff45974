"""Order types Catalyst uses, parsed by an explicit table (rule 2)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import structlog

from catalyst.domain.errors import UnknownOrderTypeError

_log = structlog.get_logger("catalyst.domain.order_type")


class OrderType(StrEnum):
    LIMIT = "LMT"
    MARKET = "MKT"
    STOP = "STP"
    STOP_LIMIT = "STP LMT"

    @classmethod
    def parse(cls, text: Any) -> OrderType:
        if not isinstance(text, str) or text.strip().upper() not in ORDER_TYPE_TABLE:
            _log.error("order_type.parse.rejected", input=repr(text))
            raise UnknownOrderTypeError(
                f"order type must be one of {sorted(ORDER_TYPE_TABLE)}, got {text!r}"
            )
        out = ORDER_TYPE_TABLE[text.strip().upper()]
        _log.debug("order_type.parse", input=text, output=out.value)
        return out


ORDER_TYPE_TABLE: dict[str, OrderType] = {
    "LMT": OrderType.LIMIT,
    "LIMIT": OrderType.LIMIT,
    "MKT": OrderType.MARKET,
    "MARKET": OrderType.MARKET,
    "STP": OrderType.STOP,
    "STOP": OrderType.STOP,
    "STP LMT": OrderType.STOP_LIMIT,
    "STOP_LIMIT": OrderType.STOP_LIMIT,
    "STOP LIMIT": OrderType.STOP_LIMIT,
}
