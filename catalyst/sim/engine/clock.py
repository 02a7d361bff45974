"""The simulated clock: wall-clock time times a speed, from an anchor the caller can move.

``speed=0`` freezes the clock (time then moves only through ``advance``/``set``), which is what
unit tests use. The clock never goes backwards: the market behind it has already happened.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from catalyst.market import HK_TZ, to_hk
from catalyst.sim.engine.errors import SimClockError


class SimClock:
    """Simulated time, tz-aware in Hong Kong."""

    def __init__(self, start: datetime, speed: float = 1.0, *, wall: Callable[[], float] = time.monotonic):
        self._check_speed(speed)
        self._wall = wall
        self._anchor_sim = to_hk(start).timestamp()
        self._anchor_wall = wall()
        self._speed = float(speed)

    @staticmethod
    def _check_speed(speed: float) -> None:
        if not speed >= 0 or speed == float("inf"):
            raise SimClockError(
                f"clock speed must be a finite number >= 0 (0 freezes the clock), got {speed}"
            )

    @property
    def speed(self) -> float:
        return self._speed

    def epoch(self) -> float:
        """Simulated time as POSIX seconds."""
        return self._anchor_sim + (self._wall() - self._anchor_wall) * self._speed

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.epoch(), tz=HK_TZ)

    def set(self, ts: datetime) -> None:
        target = to_hk(ts).timestamp()
        current = self.epoch()
        if target < current - 1e-6:
            raise SimClockError(
                f"the simulated clock cannot go back from {self.now().isoformat()} "
                f"to {to_hk(ts).isoformat()}; "
                "start the gateway with --fresh to begin at an earlier time"
            )
        self._anchor_sim = target
        self._anchor_wall = self._wall()

    def advance(self, seconds: float) -> None:
        if not seconds >= 0:
            raise SimClockError(f"advance needs a number of seconds >= 0, got {seconds}")
        self._anchor_sim = self.epoch() + seconds
        self._anchor_wall = self._wall()

    def set_speed(self, speed: float) -> None:
        self._check_speed(speed)
        self._anchor_sim = self.epoch()
        self._anchor_wall = self._wall()
        self._speed = float(speed)
