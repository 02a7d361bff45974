"""Value types shared by every layer: sides, order types, bracket intents."""

from catalyst.domain.side import Side, UnknownSideError

__all__ = ["Side", "UnknownSideError"]
