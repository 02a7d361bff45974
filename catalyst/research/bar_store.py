"""The bar cache: one Parquet file per symbol and bar size under ``state/bars/``.

Layout: ``<root>/<bar_size>/<symbol>.parquet`` with ``bar_size`` "1min" or "1day" and the
schema of ``bar_frame``. Writes merge with what is there (a re-downloaded bar replaces the cached
one), sort, and replace the file atomically (write to a temporary file, then ``os.replace``), so
a reader never sees half a file. Only validated bars go in (``normalize_bars`` output).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd
import structlog

from catalyst.market import HK_TZ, normalize_symbol
from catalyst.research.bar_frame import BAR_COLUMNS, empty_bars, frequency, require_bars
from catalyst.research.errors import BarCacheMissError, BarDataError

log = structlog.get_logger(__name__)

BAR_SIZES: tuple[str, ...] = ("1min", "1day")


def default_bar_root(state_dir: Path | str = "state") -> Path:
    """``<state_dir>/bars``: where the cache lives (``settings.paths.state_dir``)."""
    return Path(state_dir) / "bars"


class BarStore:
    """Read and write cached bars under ``root``."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _path(self, symbol: str, bar_size: str) -> Path:
        if bar_size not in BAR_SIZES:
            raise BarDataError(f"bar size {bar_size!r} is not cached; use one of {BAR_SIZES}")
        return self.root / bar_size / f"{normalize_symbol(symbol)}.parquet"

    def write(self, bars: pd.DataFrame, bar_size: str | None = None) -> list[Path]:
        """Merge ``bars`` into the cache (newer rows win); returns the files written."""
        require_bars(bars)
        if bars.empty:
            return []
        size = bar_size or ("1day" if frequency(bars) == "daily" else "1min")
        written = []
        for sym, part in bars.groupby("symbol", sort=True):
            path = self._path(str(sym), size)
            path.parent.mkdir(parents=True, exist_ok=True)
            merged = part
            if path.exists():
                old = pd.read_parquet(path)
                merged = pd.concat([old, part], ignore_index=True)
            merged = (
                merged.drop_duplicates(["symbol", "time"], keep="last")
                .sort_values("time", kind="mergesort")
                .reset_index(drop=True)
            )
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            merged.loc[:, list(BAR_COLUMNS)].to_parquet(tmp, index=False)
            os.replace(tmp, path)
            written.append(path)
            log.info("research.bars.cached", symbol=str(sym), bar_size=size, rows=len(merged), path=str(path))
        return written

    def read(
        self,
        symbols: Iterable[str],
        start: date | datetime | None = None,
        end: date | datetime | None = None,
        bar_size: str = "1min",
    ) -> pd.DataFrame:
        """Cached bars of ``symbols`` from ``start`` to ``end`` (dates inclusive), schema-ordered."""
        parts = []
        for sym in symbols:
            path = self._path(sym, bar_size)
            if not path.exists():
                raise BarCacheMissError(
                    f"no cached {bar_size} bars for {normalize_symbol(sym)} under {self.root}; "
                    "import a file (`catalyst bars import FILE`) or download from the broker first"
                )
            frame = pd.read_parquet(path)
            frame["time"] = frame["time"].dt.tz_convert(HK_TZ).dt.as_unit("ns")
            lo, hi = _bound(start, time.min), _bound(end, time.max)
            if lo is not None:
                frame = frame.loc[frame["time"] >= lo]
            if hi is not None:
                frame = frame.loc[frame["time"] <= hi]
            parts.append(frame)
        if not parts:
            return empty_bars()
        out = pd.concat(parts, ignore_index=True).sort_values(["symbol", "time"], kind="mergesort")
        return out.reset_index(drop=True)

    def coverage(self) -> pd.DataFrame:
        """One row per cached file: bar_size, symbol, rows, first, last."""
        rows = []
        for size in BAR_SIZES:
            for path in sorted((self.root / size).glob("*.parquet")):
                times = pd.read_parquet(path, columns=["time"])["time"]
                rows.append(
                    {
                        "bar_size": size,
                        "symbol": path.stem,
                        "rows": len(times),
                        "first": times.min(),
                        "last": times.max(),
                    }
                )
        return pd.DataFrame(rows, columns=["bar_size", "symbol", "rows", "first", "last"])


def _bound(value: date | datetime | None, edge: time) -> pd.Timestamp | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return (
            pd.Timestamp(value).tz_convert(HK_TZ) if value.tzinfo else pd.Timestamp(value).tz_localize(HK_TZ)
        )
    return pd.Timestamp(datetime.combine(value, edge, tzinfo=HK_TZ))
