"""The bar cache: one Parquet file per symbol and bar size under ``state/bars/``.

Layout: ``<root>/<bar_size>/<symbol>.parquet`` with ``bar_size`` "1min" or "1day" and the
schema of ``bar_frame``. Writes merge with what is there (a re-downloaded bar replaces the cached
one), sort, and replace the file atomically (write to a temporary file, then ``os.replace``), so
a reader never sees half a file. Only validated bars go in (``normalize_bars`` output).

Each file keeps the data type its bars were served as (``catalyst.data_type`` in the Parquet
schema's metadata: live, delayed, file, ... see :mod:`catalyst.research.bar_provenance`); bars of
another type merged into it add theirs ("delayed, live"). ``read`` labels the frame it returns
(``bars.attrs["data_types"]`` per symbol) and ``coverage`` lists the type of each file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import structlog

from catalyst.market import HK_TZ, normalize_symbol
from catalyst.research.bar_frame import BAR_COLUMNS, empty_bars, frequency, require_bars
from catalyst.research.bar_provenance import UNKNOWN, join_types, label, require_data_type, require_label
from catalyst.research.errors import BarCacheMissError, BarDataError

log = structlog.get_logger(__name__)

BAR_SIZES: tuple[str, ...] = ("1min", "1day")
_DATA_TYPE_KEY = b"catalyst.data_type"


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

    def write(
        self, bars: pd.DataFrame, bar_size: str | None = None, *, data_type: str | None = None
    ) -> list[Path]:
        """Merge ``bars`` into the cache (newer rows win); returns the files written.

        ``data_type`` (live, delayed, file, ...) labels every symbol's bars; without it the
        frame's own label (``bars.attrs``) is kept, and unlabelled bars are cached as ``unknown``.
        """
        require_bars(bars)
        if bars.empty:
            return []
        size = bar_size or ("1day" if frequency(bars) == "daily" else "1min")
        written = []
        for sym, part in bars.groupby("symbol", sort=True):
            path = self._path(str(sym), size)
            path.parent.mkdir(parents=True, exist_ok=True)
            merged = part
            kind = require_data_type(data_type) if data_type else _frame_type(bars, str(sym))
            if path.exists():
                old = pd.read_parquet(path)
                merged = pd.concat([old, part], ignore_index=True)
                kind = join_types([_file_type(path), kind])
            merged = (
                merged.drop_duplicates(["symbol", "time"], keep="last")
                .sort_values("time", kind="mergesort")
                .reset_index(drop=True)
            )
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            _write_labelled(merged.loc[:, list(BAR_COLUMNS)], tmp, kind)
            os.replace(tmp, path)
            written.append(path)
            log.info(
                "research.bars.cached",
                symbol=str(sym),
                bar_size=size,
                rows=len(merged),
                data_type=kind,
                path=str(path),
            )
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
        kinds: dict[str, str] = {}
        for sym in symbols:
            path = self._path(sym, bar_size)
            if not path.exists():
                raise BarCacheMissError(
                    f"no cached {bar_size} bars for {normalize_symbol(sym)} under {self.root}; "
                    "import a file (`catalyst bars import FILE`) or download from the broker first"
                )
            frame = pd.read_parquet(path)
            kinds[normalize_symbol(sym)] = _file_type(path)
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
        return label(out.reset_index(drop=True), kinds)

    def coverage(self) -> pd.DataFrame:
        """One row per cached file: bar_size, symbol, rows, first, last, data_type."""
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
                        "data_type": _file_type(path),
                    }
                )
        return pd.DataFrame(rows, columns=["bar_size", "symbol", "rows", "first", "last", "data_type"])


def _frame_type(bars: pd.DataFrame, symbol: str) -> str:
    per_symbol = bars.attrs.get("data_types") or {}
    return require_label(str(per_symbol.get(symbol) or bars.attrs.get("data_type") or UNKNOWN))


def _file_type(path: Path) -> str:
    metadata = pq.read_schema(path).metadata or {}
    raw = metadata.get(_DATA_TYPE_KEY)
    return raw.decode() if raw else UNKNOWN


def _write_labelled(frame: pd.DataFrame, path: Path, kind: str) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = {**(table.schema.metadata or {}), _DATA_TYPE_KEY: kind.encode()}
    pq.write_table(table.replace_schema_metadata(metadata), path)


def _bound(value: date | datetime | None, edge: time) -> pd.Timestamp | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return (
            pd.Timestamp(value).tz_convert(HK_TZ) if value.tzinfo else pd.Timestamp(value).tz_localize(HK_TZ)
        )
    return pd.Timestamp(datetime.combine(value, edge, tzinfo=HK_TZ))
