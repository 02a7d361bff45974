"""Hong Kong time: the one zone every exchange rule in Catalyst is stated in (UTC+8, no DST)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from catalyst.market.errors import NaiveDatetimeError

HK_TZ = ZoneInfo("Asia/Hong_Kong")


def hk_today() -> date:
    """Today's date in Hong Kong (the default ``on`` of every dated rule)."""
    return datetime.now(HK_TZ).date()


def to_hk(ts: datetime) -> datetime:
    """``ts`` converted to Hong Kong time; a naive datetime raises (its instant is ambiguous)."""
    if not isinstance(ts, datetime):
        raise TypeError(f"expected a tz-aware datetime, got {type(ts).__name__} {ts!r}")
    if ts.tzinfo is None or ts.tzinfo.utcoffset(ts) is None:
        raise NaiveDatetimeError(
            f"datetime {ts.isoformat()} has no time zone; pass e.g. "
            "datetime(..., tzinfo=catalyst.market.HK_TZ) or a UTC datetime"
        )
    return ts.astimezone(HK_TZ)


def as_hk_date(on: date | datetime | None) -> date:
    """Resolve an ``on=`` argument: None is today in Hong Kong, a datetime is its Hong Kong date."""
    if on is None:
        return hk_today()
    if isinstance(on, datetime):
        return to_hk(on).date()
    if isinstance(on, date):
        return on
    raise TypeError(f"on= must be a date, a tz-aware datetime or None, got {type(on).__name__} {on!r}")
