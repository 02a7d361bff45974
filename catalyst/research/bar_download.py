"""Historical bars from the broker into the cache, one session per request.

``download_bars`` takes the broker's async bar fetcher (``BrokerSession.bars``, which paces
requests by IB's historical-data rules in ``catalyst.broker.historical_pacing``: at most 60
requests in 10 minutes, no identical request within 15 s, at most 6 per contract in 2 s), asks
for one trading day at a time (``duration="1 D"``, ending at that day's close), skips days the
cache already holds, validates what comes back like a file import (off-session bars dropped and
counted), labels it with the data type the connection served (``bars.attrs``, see
``bar_provenance``) and writes it to the :class:`~catalyst.research.bar_store.BarStore`.

Research does not pace on its own: a fetcher other than ``BrokerSession.bars`` must pace itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import date, datetime
from typing import Any

import pandas as pd
import structlog

from catalyst.market import HK_TZ, normalize_symbol
from catalyst.market.calendar import session_for, sessions_between
from catalyst.research.bar_frame import local_ns
from catalyst.research.bar_import import ImportReport, normalize_bars
from catalyst.research.bar_provenance import UNKNOWN, join_types, label
from catalyst.research.bar_store import BarStore
from catalyst.research.errors import BarCacheMissError

log = structlog.get_logger(__name__)

#: The broker's bar fetcher: ``await fetch(symbol, duration=..., bar_size=..., end=...) -> DataFrame``
#: with columns time, open, high, low, close, volume (``BrokerSession.bars``).
BarFetcher = Callable[..., Awaitable[pd.DataFrame]]

_IB_BAR_SIZE = {"1min": "1 min", "1day": "1 day"}
_SECONDS = {"1min": 60, "1day": 86_400}


def _cached_days(store: BarStore, symbol: str, bar_size: str) -> set[date]:
    try:
        times = store.read([symbol], bar_size=bar_size)["time"]
    except BarCacheMissError:
        return set()
    days = local_ns(times) // 86_400_000_000_000
    return {date.fromordinal(date(1970, 1, 1).toordinal() + int(d)) for d in set(days.tolist())}


async def download_bars(
    fetch: BarFetcher,
    symbols: Iterable[str],
    start: date,
    end: date,
    store: BarStore,
    *,
    bar_size: str = "1min",
) -> tuple[pd.DataFrame, ImportReport]:
    """Fetch the sessions from ``start`` to ``end`` missing from ``store``; return every bar in range."""
    syms = [normalize_symbol(s) for s in symbols]
    frames: list[pd.DataFrame] = []
    kinds: dict[str, list[str]] = {}
    requests = 0
    for sym in syms:
        have = _cached_days(store, sym, bar_size)
        for day in sessions_between(start, end):
            if day in have:
                continue
            td = session_for(day)
            assert td is not None
            close: datetime = td.close
            raw = await fetch(sym, duration="1 D", bar_size=_IB_BAR_SIZE[bar_size], end=close)
            requests += 1
            if raw is not None and len(raw):
                frames.append(_as_rows(sym, raw))
                kinds.setdefault(sym, []).append(str(raw.attrs.get("data_type") or UNKNOWN))
    report = ImportReport("broker", 0, 0, 0, 0, tuple(syms), None, None)
    served = {s: join_types(k) for s, k in kinds.items()}
    if frames:
        fresh, report = normalize_bars(
            pd.concat(frames, ignore_index=True), source="broker", seconds_per_bar=_SECONDS[bar_size]
        )
        store.write(label(fresh, served), bar_size)
    log.info(
        "research.bars.downloaded",
        symbols=syms,
        start=str(start),
        end=str(end),
        requests=requests,
        rows=report.rows_kept,
        off_session=report.off_session_dropped,
        data_types=served,
    )
    return store.read(syms, start, end, bar_size), report


def _as_rows(symbol: str, raw: pd.DataFrame) -> pd.DataFrame:
    out: dict[str, Any] = {"symbol": symbol, "time": pd.to_datetime(raw["time"]).dt.tz_convert(HK_TZ)}
    for col in ("open", "high", "low", "close", "volume"):
        out[col] = [float(x) for x in raw[col]]
    return pd.DataFrame(out)


__all__ = ["BarFetcher", "download_bars"]
