"""IB's historical-data request strings (duration, bar size) turned into a time window.

* Bar sizes: ``"N secs"``, ``"1 min"``, ``"N mins"``, ``"1 hour"``, ``"N hours"`` and ``"1 day"``
  (IB's spellings; ``"1 sec"``/``"1 secs"`` both accepted). Weekly and monthly bars are refused.
* Durations: ``"N S"`` seconds back from the end; ``"N D"`` the last N trading sessions up to the
  end (the end's own day included when it trades); ``"N W"`` 7N calendar days; ``"N M"`` N calendar
  months; ``"N Y"`` N calendar years.
* Intraday bars start on multiples of their size from midnight HK (09:30, 09:35, ... for 5 mins).
"""

from __future__ import annotations

import bisect
import re
from datetime import date, datetime

from catalyst.market import HK_TZ
from catalyst.sim.engine.errors import BarRequestError

_UNIT_SECONDS = {"sec": 1, "secs": 1, "min": 60, "mins": 60, "hour": 3600, "hours": 3600}
_DURATION = re.compile(r"^\s*(\d+)\s+([SDWMY])\s*$")
_BAR = re.compile(r"^\s*(\d+)\s+(secs?|mins?|hours?|day|days|week|weeks|month|months)\s*$")


def bar_seconds(bar_size: str) -> int | None:
    """Seconds per bar, or None for daily bars; anything else raises BarRequestError."""
    m = _BAR.match(bar_size or "")
    if not m:
        raise BarRequestError(f"bar size {bar_size!r} is not one of IB's, e.g. '5 mins', '1 hour', '1 day'")
    n, unit = int(m.group(1)), m.group(2)
    if n <= 0:
        raise BarRequestError(f"bar size {bar_size!r} must be positive")
    if unit.startswith("day"):
        if n != 1:
            raise BarRequestError(f"bar size {bar_size!r}: only '1 day' daily bars are served")
        return None
    if unit.startswith(("week", "month")):
        raise BarRequestError(
            f"bar size {bar_size!r}: weekly and monthly bars are not served by the simulator"
        )
    return n * _UNIT_SECONDS[unit]


def _minus_months(d: date, months: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    m += 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(y, m, day)
        except ValueError:
            continue
    raise AssertionError("every month has a 28th")  # pragma: no cover


def window_start(end_t: float, duration: str, trading_days: list[date]) -> float:
    """POSIX start of the window ``duration`` back from ``end_t``."""
    m = _DURATION.match(duration or "")
    if not m:
        raise BarRequestError(f"duration {duration!r} is not IB's 'N S|D|W|M|Y', e.g. '1 D' or '30 D'")
    n, unit = int(m.group(1)), m.group(2)
    if n <= 0:
        raise BarRequestError(f"duration {duration!r} must be positive")
    end = datetime.fromtimestamp(end_t, tz=HK_TZ)
    if unit == "S":
        return end_t - n
    if unit == "D":
        k = bisect.bisect_right(trading_days, end.date())
        first = trading_days[max(k - n, 0)] if trading_days else end.date()
        return datetime(first.year, first.month, first.day, tzinfo=HK_TZ).timestamp()
    if unit == "W":
        return end_t - 7 * 86400 * n
    start_day = _minus_months(end.date(), n if unit == "M" else 12 * n)
    return datetime.combine(start_day, end.timetz()).timestamp()


def bar_window(
    end_t: float, duration: str, bar_size: str, trading_days: list[date]
) -> tuple[float, int | None]:
    """(start, bar seconds or None for daily) for a request ending at ``end_t``."""
    size = bar_seconds(bar_size)
    return window_start(end_t, duration, trading_days), size
