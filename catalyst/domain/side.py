"""Order side: exactly two members, parsed from outside text by an explicit table.

The predecessor turned "long" into a short sale because an if/else fell through. Here every
accepted spelling is listed; anything else raises and nothing is sent.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import structlog

from catalyst.domain.errors import UnknownSideError

_log = structlog.get_logger("catalyst.domain.side")


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY

    @property
    def sign(self) -> int:
        """+1 for a buy (position grows), -1 for a sell."""
        return 1 if self is Side.BUY else -1

    @classmethod
    def parse(cls, text: Any) -> Side:
        """Map outside text to a Side through :data:`SIDE_TABLE`; log input and output."""
        if not isinstance(text, str):
            _log.error("side.parse.rejected", input=repr(text), reason="not a string")
            raise UnknownSideError(f"side must be one of {sorted(SIDE_TABLE)}, got {text!r}")
        key = text.strip().lower()
        side = SIDE_TABLE.get(key)
        if side is None:
            _log.error("side.parse.rejected", input=text, reason="not in table")
            raise UnknownSideError(f"side must be one of {sorted(SIDE_TABLE)}, got {text!r}")
        _log.debug("side.parse", input=text, output=side.value)
        return side


#: Every spelling Catalyst accepts for a side. Nothing else maps.
SIDE_TABLE: dict[str, Side] = {
    "buy": Side.BUY,
    "long": Side.BUY,
    "sell": Side.SELL,
    "short": Side.SELL,
}
