"""IB's pacing rules for historical data, kept on the client side so IB never has to refuse us.

IB (TWS API docs, "Historical Data Limitations"): at most 60 requests in any 10 minutes; no
identical request within 15 seconds (error 162 otherwise); at most 6 requests for the same
contract, exchange and tick type within 2 seconds. :class:`HistoricalPacer` says how long to wait
before the next request; identical requests inside 15 seconds are served from a cache instead.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

WINDOW_SECONDS = 600.0
MAX_IN_WINDOW = 60
IDENTICAL_SECONDS = 15.0
BURST_SECONDS = 2.0
MAX_BURST_SAME_CONTRACT = 6


@dataclass
class HistoricalPacer:
    """Bookkeeping of recent historical requests; ``clock`` is injectable for tests."""

    clock: Callable[[], float] = time.monotonic
    _sent: deque[tuple[float, Hashable, Hashable]] = field(default_factory=deque)
    _cache: dict[Hashable, tuple[float, Any]] = field(default_factory=dict)

    def cached(self, key: Hashable) -> Any | None:
        """The result of an identical request made less than 15 s ago, if any."""
        hit = self._cache.get(key)
        if hit is not None and self.clock() - hit[0] < IDENTICAL_SECONDS:
            return hit[1]
        return None

    def delay(self, key: Hashable, contract_key: Hashable) -> float:
        """Seconds to wait before sending ``key`` (0 = send now)."""
        now = self.clock()
        while self._sent and now - self._sent[0][0] >= WINDOW_SECONDS:
            self._sent.popleft()
        waits = [0.0]
        if len(self._sent) >= MAX_IN_WINDOW:
            waits.append(self._sent[len(self._sent) - MAX_IN_WINDOW][0] + WINDOW_SECONDS - now)
        same_key = [t for t, k, _c in self._sent if k == key]
        if same_key:
            waits.append(same_key[-1] + IDENTICAL_SECONDS - now)
        burst = [t for t, _k, c in self._sent if c == contract_key and now - t < BURST_SECONDS]
        if len(burst) >= MAX_BURST_SAME_CONTRACT:
            waits.append(burst[len(burst) - MAX_BURST_SAME_CONTRACT] + BURST_SECONDS - now)
        return max(waits)

    def record(self, key: Hashable, contract_key: Hashable) -> None:
        self._sent.append((self.clock(), key, contract_key))

    def remember(self, key: Hashable, result: Any) -> None:
        self._cache[key] = (self.clock(), result)
