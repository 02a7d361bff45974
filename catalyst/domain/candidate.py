"""A trade a strategy proposes: the input of the one decision (sizing, then the pre-trade checks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from catalyst.domain.side import Side


@dataclass(frozen=True)
class Candidate:
    """A trade a strategy proposes at one decision time; not yet sized or risk-checked.

    Prices are Decimals on the spread table, snapped for their role. ``score`` ranks candidates
    (higher is better); ``reason`` is the human-readable why, shown in notebooks and stored with
    the intent.
    """

    symbol: str
    side: Side
    entry: Decimal
    stop: Decimal
    target: Decimal
    score: float
    reason: str
    at: datetime
    strategy: str = ""

    def __post_init__(self) -> None:
        for name in ("entry", "stop", "target"):
            if not isinstance(getattr(self, name), Decimal):
                raise TypeError(f"candidate {name} must be a Decimal, got {getattr(self, name)!r}")
        if not isinstance(self.side, Side):
            raise TypeError(f"candidate side must be catalyst.domain.Side, got {self.side!r}")
        lo, hi = (self.stop, self.target) if self.side is Side.BUY else (self.target, self.stop)
        if not lo < self.entry < hi:
            raise ValueError(
                f"{self.side} candidate in {self.symbol} needs "
                f"{'stop < entry < target' if self.side is Side.BUY else 'target < entry < stop'}, "
                f"got entry {self.entry} stop {self.stop} target {self.target}"
            )
