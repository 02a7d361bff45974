"""Which bars lie inside HKEX continuous trading, decided by ``catalyst.market``'s calendar.

A bar is tradable when it starts at or after a continuous segment's start and ends at or before
that segment's end: 09:30-12:00 and 13:00-16:00, or 09:30-12:00 on a half day (the closing
auction then runs 12:00-12:10). Pre-open, lunch and closing-auction bars, and every bar on a
holiday or weekend, are outside. A daily bar is inside when its date is a trading day.

The calendar is consulted once per distinct day (``catalyst.market.session_for``), then the test
is vectorised over the bars of that day, so a year of one-minute bars is checked in milliseconds.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from catalyst.market.calendar import session_for
from catalyst.research.bar_frame import NS_PER_DAY, NS_PER_SECOND, local_ns


def _wall_ns(ts: datetime) -> int:
    """Hong Kong wall-clock nanoseconds of a tz-aware datetime (matches ``local_ns``)."""
    return int(pd.Timestamp(ts).tz_convert("UTC").value) + 8 * 3600 * NS_PER_SECOND


def continuous_segments(day: date) -> list[tuple[int, int]]:
    """(start, end) wall-clock nanoseconds of the continuous sessions of ``day``; [] when closed."""
    td = session_for(day)
    if td is None:
        return []
    if td.break_start is None or td.break_end is None:
        return [(_wall_ns(td.open), _wall_ns(td.close))]
    return [(_wall_ns(td.open), _wall_ns(td.break_start)), (_wall_ns(td.break_end), _wall_ns(td.close))]


def continuous_mask(times: pd.Series, seconds_per_bar: int) -> np.ndarray:
    """Boolean array: True where the bar starting at ``times[i]`` lies inside continuous trading."""
    ns = local_ns(times)
    if ns.size == 0:
        return np.zeros(0, dtype=bool)
    days = ns // NS_PER_DAY
    unique_days, where = np.unique(days, return_inverse=True)
    epoch = date(1970, 1, 1).toordinal()
    # Two segments per day; a closed day gets empty segments, a half day an empty second one.
    bounds = np.zeros((unique_days.size, 4), dtype=np.int64)
    trading = np.zeros(unique_days.size, dtype=bool)
    for i, d in enumerate(unique_days):
        segments = continuous_segments(date.fromordinal(epoch + int(d)))
        trading[i] = bool(segments)
        for j, (lo, hi) in enumerate(segments):
            bounds[i, 2 * j] = lo
            bounds[i, 2 * j + 1] = hi
    if seconds_per_bar >= 86_400:
        return trading[where]
    end = ns + int(seconds_per_bar) * NS_PER_SECOND
    b = bounds[where]
    first = (ns >= b[:, 0]) & (end <= b[:, 1])
    second = (ns >= b[:, 2]) & (end <= b[:, 3]) & (b[:, 3] > 0)
    return np.asarray(trading[where] & (first | second))
