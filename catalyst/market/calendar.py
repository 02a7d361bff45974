"""Which phase of the HKEX trading day a moment falls in, built on exchange_calendars' XHKG.

XHKG models only continuous trading (09:30-12:00, 13:00-16:00; 09:30-12:00 on the eves of
Christmas, New Year and Lunar New Year) and the holidays. HKEX's day has two auctions around it,
which this module adds (``hkex-rules.md`` §3):

==================  ===============  ===============
phase               full day         half day
==================  ===============  ===============
PRE_OPEN            09:00-09:30      09:00-09:30
MORNING             09:30-12:00      09:30-12:00
LUNCH               12:00-13:00      (none)
AFTERNOON           13:00-16:00      (none)
CLOSING_AUCTION     16:00-16:10      12:00-12:10
CLOSED              otherwise, and all day on holidays and weekends
==================  ===============  ===============

Each phase includes its start and excludes its end (09:30:00 is MORNING, 16:10:00 is CLOSED).
Full-day closures that XHKG misses are added from :data:`EXTRA_CLOSURES`. Since 2024-09-23 HKEX
trades through typhoons and black rain, so no weather closures are expected after that date.
Partial weather days before it (e.g. 2023-10-09, reopened 14:00) are not modelled.

exchange_calendars is imported and the calendar built on first use (about 0.7 s), then kept in
memory, and on disk under ``$XDG_CACHE_HOME/catalyst`` (``~/.cache/catalyst``) so the next process
(a CLI command, a notebook kernel, the gateway) reads it in milliseconds. The cache is keyed by the
exchange_calendars version and this module's own source, so a change to either rebuilds it;
it covers :data:`CALENDAR_FIRST_YEAR` to :data:`CALENDAR_LAST_YEAR`. Every datetime passed in must
be tz-aware; results are in Hong Kong time.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import importlib.metadata
import json
import os
import threading
import warnings
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from catalyst.market.errors import CalendarRangeError
from catalyst.market.hk_timezone import HK_TZ, as_hk_date, to_hk

CALENDAR_FIRST_YEAR = 2012
CALENDAR_LAST_YEAR = 2028
PRE_OPEN_MINUTES = 30
CLOSING_AUCTION_MINUTES = 10

#: Full-day HKEX closures (severe weather) that exchange_calendars 4.13.2 does not list.
EXTRA_CLOSURES: frozenset[date] = frozenset({date(2023, 9, 1), date(2023, 9, 8)})


class Phase(StrEnum):
    CLOSED = "CLOSED"
    PRE_OPEN = "PRE_OPEN"
    MORNING = "MORNING"
    LUNCH = "LUNCH"
    AFTERNOON = "AFTERNOON"
    CLOSING_AUCTION = "CLOSING_AUCTION"


#: Phases in which HKEX matches continuously and Catalyst may send new orders.
CONTINUOUS_PHASES: frozenset[Phase] = frozenset({Phase.MORNING, Phase.AFTERNOON})


@dataclass(frozen=True)
class TradingDay:
    """Every phase boundary of one trading day, tz-aware in Hong Kong time."""

    day: date
    pre_open: datetime
    open: datetime
    break_start: datetime | None
    break_end: datetime | None
    close: datetime
    auction_end: datetime

    @property
    def half_day(self) -> bool:
        """True on the eves with no afternoon session (the closing auction follows the morning)."""
        return self.break_start is None

    def phase_at(self, ts: datetime) -> Phase:
        """The phase at ``ts`` (which should fall on this day; other days give CLOSED)."""
        t = to_hk(ts)
        if t < self.pre_open or t >= self.auction_end:
            return Phase.CLOSED
        if t < self.open:
            return Phase.PRE_OPEN
        if t >= self.close:
            return Phase.CLOSING_AUCTION
        if self.break_start is not None and self.break_end is not None:
            if t < self.break_start:
                return Phase.MORNING
            if t < self.break_end:
                return Phase.LUNCH
            return Phase.AFTERNOON
        return Phase.MORNING

    def boundaries(self) -> list[tuple[datetime, Phase]]:
        """(start, phase) for every phase of the day in order, ending with CLOSED at the auction end."""
        out = [(self.pre_open, Phase.PRE_OPEN), (self.open, Phase.MORNING)]
        if self.break_start is not None and self.break_end is not None:
            out += [(self.break_start, Phase.LUNCH), (self.break_end, Phase.AFTERNOON)]
        out += [(self.close, Phase.CLOSING_AUCTION), (self.auction_end, Phase.CLOSED)]
        return out


@dataclass(frozen=True)
class _Calendar:
    days: dict[date, TradingDay]
    ordered: list[date]
    first: date
    last: date


_lock = threading.Lock()
_calendar: _Calendar | None = None


def _build() -> _Calendar:
    """The calendar from the disk cache when it is there and whole, else built and cached."""
    path = _cache_path()
    if path is not None:
        cached = _read_cache(path)
        if cached is not None:
            return cached
    cal = _build_from_exchange_calendars()
    if path is not None:
        _write_cache(path, cal)
    return cal


def _cache_path() -> Path | None:
    """Where the built calendar is cached: one file per exchange_calendars version and source of
    this module (which holds the phase rules and the extra closures)."""
    try:
        version = importlib.metadata.version("exchange_calendars")
        source = Path(__file__).read_bytes()
    except (importlib.metadata.PackageNotFoundError, OSError):
        return None
    key = hashlib.sha256(version.encode() + b"|" + source).hexdigest()[:16]
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "catalyst"
    return root / f"xhkg-calendar-{key}.json"


_DAY_FIELDS = ("pre_open", "open", "break_start", "break_end", "close", "auction_end")


def _read_cache(path: Path) -> _Calendar | None:
    """The cached calendar, or None when the file is missing, unreadable or not whole."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        days: dict[date, TradingDay] = {}
        for row in data["days"]:
            day = date.fromisoformat(row[0])
            times = [None if v is None else datetime.fromisoformat(v).astimezone(HK_TZ) for v in row[1:]]
            fields = dict(zip(_DAY_FIELDS, times, strict=True))
            days[day] = TradingDay(day=day, **fields)  # type: ignore[arg-type]
        first, last = date.fromisoformat(data["first"]), date.fromisoformat(data["last"])
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None
    if not days or (first, last) != (date(CALENDAR_FIRST_YEAR, 1, 1), date(CALENDAR_LAST_YEAR, 12, 31)):
        return None
    return _Calendar(days=days, ordered=sorted(days), first=first, last=last)


def _write_cache(path: Path, cal: _Calendar) -> None:
    """Best effort: a read-only home only costs the next process the build again."""
    rows = [
        [
            d.isoformat(),
            *(None if (v := getattr(cal.days[d], f)) is None else v.isoformat() for f in _DAY_FIELDS),
        ]
        for d in cal.ordered
    ]
    body = json.dumps({"first": cal.first.isoformat(), "last": cal.last.isoformat(), "days": rows})
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(body, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _build_from_exchange_calendars() -> _Calendar:
    import exchange_calendars  # lazy: importing it costs ~0.6 s and most users never need it
    import pandas as pd

    first, last = date(CALENDAR_FIRST_YEAR, 1, 1), date(CALENDAR_LAST_YEAR, 12, 31)
    with warnings.catch_warnings():
        # exchange_calendars 4.13 triggers pandas 3 deprecation warnings; they say nothing about us.
        warnings.simplefilter("ignore", category=DeprecationWarning)
        warnings.simplefilter("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", message=".*deprecated.*")
        cal = exchange_calendars.get_calendar("XHKG", start=first.isoformat(), end=last.isoformat())
        sched = cal.schedule

    def hk(value: Any) -> datetime | None:
        if pd.isna(value):
            return None
        assert isinstance(value, pd.Timestamp)
        return value.to_pydatetime().astimezone(HK_TZ)

    days: dict[date, TradingDay] = {}
    for label, row in zip(sched.index, sched.itertuples(index=False), strict=True):
        day = label.date()
        if day in EXTRA_CLOSURES:
            continue
        open_, close = hk(row.open), hk(row.close)
        assert open_ is not None and close is not None
        days[day] = TradingDay(
            day=day,
            pre_open=open_ - timedelta(minutes=PRE_OPEN_MINUTES),
            open=open_,
            break_start=hk(row.break_start),
            break_end=hk(row.break_end),
            close=close,
            auction_end=close + timedelta(minutes=CLOSING_AUCTION_MINUTES),
        )
    return _Calendar(days=days, ordered=sorted(days), first=first, last=last)


def _cal() -> _Calendar:
    global _calendar
    if _calendar is None:
        with _lock:
            if _calendar is None:
                _calendar = _build()
    return _calendar


def _check_range(day: date) -> _Calendar:
    cal = _cal()
    if not cal.first <= day <= cal.last:
        raise CalendarRangeError(
            f"{day} is outside the HKEX calendar Catalyst carries ({cal.first} to {cal.last}); "
            "extend CALENDAR_FIRST_YEAR/CALENDAR_LAST_YEAR in catalyst/market/calendar.py"
        )
    return cal


def session_for(day: date | datetime) -> TradingDay | None:
    """The phase times of ``day`` (a datetime counts by its HK date), or None if HKEX is closed."""
    d = as_hk_date(day)
    return _check_range(d).days.get(d)


def is_trading_day(day: date | datetime) -> bool:
    """True when HKEX trades on ``day`` (half days included)."""
    return session_for(day) is not None


def phase(ts: datetime) -> Phase:
    """The phase of the HKEX trading day at ``ts`` (tz-aware; naive raises)."""
    t = to_hk(ts)
    td = session_for(t.date())
    return Phase.CLOSED if td is None else td.phase_at(t)


def accepts_new_orders(ts: datetime) -> bool:
    """True only during continuous trading (MORNING, AFTERNOON): never in an auction or at lunch."""
    return phase(ts) in CONTINUOUS_PHASES


def next_session_open(ts: datetime) -> datetime:
    """The next start of continuous trading (09:30 HK) strictly after ``ts``.

    At 09:10 on a trading day that is 09:30 the same day; from 09:30 on, the next trading day's.
    The afternoon reopening after lunch does not count as a session open.
    """
    t = to_hk(ts)
    cal = _check_range(t.date())
    i = bisect.bisect_left(cal.ordered, t.date())
    for d in cal.ordered[i:]:
        if cal.days[d].open > t:
            return cal.days[d].open
    raise CalendarRangeError(f"no HKEX session after {t.isoformat()} within the calendar (ends {cal.last})")


def minutes_to_close(ts: datetime) -> float | None:
    """Minutes from ``ts`` to the end of continuous trading today (16:00, or 12:00 on a half day).

    None when the market is CLOSED or already in the closing auction; lunch counts as open time.
    """
    t = to_hk(ts)
    td = session_for(t.date())
    if td is None or not td.pre_open <= t < td.close:
        return None
    return (td.close - t).total_seconds() / 60.0


def sessions_between(start: date, end: date) -> list[date]:
    """Trading days from ``start`` to ``end``, both included."""
    cal = _check_range(start)
    _check_range(end)
    return cal.ordered[bisect.bisect_left(cal.ordered, start) : bisect.bisect_right(cal.ordered, end)]
