"""Turn the user's CSV/Parquet files (or bar records from any source) into validated bars.

``import_bars(path)`` reads a file, maps its columns onto the schema of ``bar_frame``, and
returns the clean bars with an :class:`ImportReport` of everything it changed or dropped:

* columns: ``symbol, time, open, high, low, close, volume`` are required (case-insensitive;
  ``date``/``datetime``/``timestamp`` are accepted for ``time``, ``code``/``ticker`` for
  ``symbol``); a missing one raises BarImportError naming it;
* time zone: tz-aware times are converted to Hong Kong time; naive times are read as Hong Kong
  wall-clock time (``naive_tz="Asia/Hong_Kong"``), or as the zone given;
* symbols: normalised to IB style ("00700" -> "700"); not-a-code values raise;
* values: non-numeric or non-positive prices, ``high < low``, open/close outside the high-low
  range, or negative volume raise BarImportError with the first offending row;
* duplicates: repeated (symbol, time) rows are dropped (first kept) and counted;
* sessions: bars outside continuous trading (pre-open, lunch, closing auction, holidays,
  weekends) are dropped and counted, using ``catalyst.market``'s calendar with half days.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import structlog

from catalyst.market import HK_TZ, normalize_symbol
from catalyst.market.errors import UnknownSymbolError
from catalyst.research.bar_frame import BAR_COLUMNS, PRICE_COLUMNS, bar_seconds, empty_bars
from catalyst.research.bar_provenance import FILE, UNKNOWN, label_all
from catalyst.research.continuous_session import continuous_mask
from catalyst.research.errors import BarImportError

log = structlog.get_logger(__name__)

_ALIASES: dict[str, str] = {
    "symbol": "symbol",
    "code": "symbol",
    "ticker": "symbol",
    "stock": "symbol",
    "time": "time",
    "date": "time",
    "datetime": "time",
    "timestamp": "time",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "volume": "volume",
    "vol": "volume",
}


@dataclass(frozen=True)
class ImportReport:
    """What an import kept and dropped, with examples of dropped bars for the trader to check."""

    source: str
    rows_read: int
    rows_kept: int
    duplicates_dropped: int
    off_session_dropped: int
    symbols: tuple[str, ...]
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    off_session_examples: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        text = (
            f"{self.source}: read {self.rows_read} rows, kept {self.rows_kept} bars of "
            f"{len(self.symbols)} symbol(s) from {self.first} to {self.last}; dropped "
            f"{self.duplicates_dropped} duplicate(s) and {self.off_session_dropped} bar(s) outside "
            "continuous trading"
        )
        if self.off_session_examples:
            text += f" (e.g. {', '.join(self.off_session_examples)})"
        return text


def read_bar_file(path: Path | str) -> pd.DataFrame:
    """The raw table of a ``.csv``, ``.csv.gz`` or ``.parquet`` file."""
    p = Path(path)
    if not p.exists():
        raise BarImportError(f"bar file {p} does not exist")
    name = p.name.lower()
    try:
        if name.endswith(".parquet") or name.endswith(".pq"):
            return pd.read_parquet(p)
        if name.endswith(".csv") or name.endswith(".csv.gz"):
            return pd.read_csv(p, dtype={"symbol": str, "code": str, "ticker": str})
    except (OSError, ValueError) as exc:
        raise BarImportError(f"cannot read {p}: {exc}") from exc
    raise BarImportError(f"{p} is neither CSV (.csv, .csv.gz) nor Parquet (.parquet); convert it first")


def import_bars(
    path: Path | str,
    *,
    naive_tz: str = "Asia/Hong_Kong",
    symbol: str | None = None,
    seconds_per_bar: int | None = None,
) -> tuple[pd.DataFrame, ImportReport]:
    """Read and validate a bar file; ``symbol`` fills a file that has no symbol column."""
    raw = read_bar_file(path)
    if symbol is not None and not any(
        str(c).lower() in ("symbol", "code", "ticker", "stock") for c in raw.columns
    ):
        raw = raw.assign(symbol=symbol)
    frame, report = normalize_bars(raw, source=str(path), naive_tz=naive_tz, seconds_per_bar=seconds_per_bar)
    return label_all(frame, FILE), report


def bars_from_records(
    records: Mapping[str, Iterable[Any]], *, seconds_per_bar: int | None = None, data_type: str = UNKNOWN
) -> tuple[pd.DataFrame, ImportReport]:
    """Bars from per-symbol records with attributes or keys time/open/high/low/close/volume.

    Used for bars from the broker (``BrokerSession.bars``) or the simulator's price model; the
    same validation as a file import applies. ``data_type`` labels them (``synthetic`` for the
    simulator's model, the connection's type for the broker's; see ``bar_provenance``).
    """
    rows: list[dict[str, Any]] = []
    for sym, recs in records.items():
        for r in recs:
            rows.append(
                {
                    "symbol": sym,
                    "time": _field(r, "time"),
                    **{k: float(_field(r, k)) for k in ("open", "high", "low", "close", "volume")},
                }
            )
    if not rows:
        return label_all(empty_bars(), data_type), ImportReport("records", 0, 0, 0, 0, (), None, None)
    frame, report = normalize_bars(pd.DataFrame(rows), source="records", seconds_per_bar=seconds_per_bar)
    return label_all(frame, data_type), report


def _field(record: Any, name: str) -> Any:
    return record[name] if isinstance(record, Mapping) else getattr(record, name)


def normalize_bars(
    raw: pd.DataFrame,
    *,
    source: str = "frame",
    naive_tz: str = "Asia/Hong_Kong",
    seconds_per_bar: int | None = None,
) -> tuple[pd.DataFrame, ImportReport]:
    """Validate and normalise any table of bars (see the module docstring).

    ``seconds_per_bar`` (60 for one-minute bars, 86400 for daily) is inferred from the smallest
    step between bars of a symbol and day when not given.
    """
    frame = _rename(raw, source)
    n_read = len(frame)
    frame["symbol"] = _symbols(frame["symbol"], source)
    frame["time"] = _times(frame["time"], naive_tz, source)
    for col in (*PRICE_COLUMNS, "volume"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    _check_values(frame, source)
    frame = frame.sort_values(["symbol", "time"], kind="mergesort")
    dup = frame.duplicated(["symbol", "time"], keep="first").to_numpy()
    frame = frame.loc[~dup].reset_index(drop=True)
    step = seconds_per_bar or (bar_seconds(frame) if len(frame) else 60)
    inside = continuous_mask(frame["time"], step) if len(frame) else np.zeros(0, dtype=bool)
    dropped = frame.loc[~inside]
    examples = tuple(
        f"{s} {t:%Y-%m-%d %H:%M}" for s, t in zip(dropped["symbol"][:3], dropped["time"][:3], strict=True)
    )
    frame = frame.loc[inside].reset_index(drop=True)
    report = ImportReport(
        source=source,
        rows_read=n_read,
        rows_kept=len(frame),
        duplicates_dropped=int(dup.sum()),
        off_session_dropped=int((~inside).sum()),
        symbols=tuple(sorted(frame["symbol"].unique())),
        first=frame["time"].min() if len(frame) else None,
        last=frame["time"].max() if len(frame) else None,
        off_session_examples=examples,
    )
    log.info(
        "research.bars.imported",
        source=source,
        rows_read=n_read,
        rows_kept=len(frame),
        duplicates=report.duplicates_dropped,
        off_session=report.off_session_dropped,
    )
    return frame, report


def _rename(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    mapping: dict[str, str] = {}
    for col in raw.columns:
        target = _ALIASES.get(str(col).strip().lower())
        if target is not None and target not in mapping.values():
            mapping[col] = target
    frame = raw.rename(columns=mapping)
    missing = [c for c in BAR_COLUMNS if c not in frame.columns]
    if missing:
        raise BarImportError(
            f"{source} lacks the column(s) {missing}; bar files need {list(BAR_COLUMNS)} "
            f"(found {list(raw.columns)})"
        )
    return frame.loc[:, list(BAR_COLUMNS)].copy()


def _symbols(col: pd.Series, source: str) -> pd.Series:
    cache: dict[Any, str] = {}
    out = []
    for value in col.to_numpy():
        if value not in cache:
            try:
                cache[value] = normalize_symbol(
                    str(value).split(".")[0] if isinstance(value, float) else value
                )
            except UnknownSymbolError as exc:
                raise BarImportError(f"{source}: {exc}") from exc
        out.append(cache[value])
    return pd.Series(out, index=col.index, dtype=object)


def _times(col: pd.Series, naive_tz: str, source: str) -> pd.Series:
    try:
        times = (
            pd.to_datetime(col, format="mixed")
            if col.dtype == object or pd.api.types.is_string_dtype(col.dtype)
            else pd.to_datetime(col)
        )
    except (ValueError, TypeError) as exc:
        raise BarImportError(f"{source}: cannot read the time column as dates/times: {exc}") from exc
    if getattr(times.dtype, "tz", None) is None:
        times = times.dt.tz_localize(naive_tz)
    return times.dt.tz_convert(HK_TZ).dt.as_unit("ns")


def _check_values(frame: pd.DataFrame, source: str) -> None:
    prices = frame.loc[:, list(PRICE_COLUMNS)]
    problems = [
        (prices.isna().any(axis=1) | frame["volume"].isna(), "a missing or non-numeric value"),
        ((prices <= 0).any(axis=1), "a price at or below zero"),
        (frame["high"] < frame["low"], "high below low"),
        (
            (frame["open"] > frame["high"])
            | (frame["open"] < frame["low"])
            | (frame["close"] > frame["high"])
            | (frame["close"] < frame["low"]),
            "open/close outside high-low",
        ),
        (frame["volume"] < 0, "negative volume"),
    ]
    for mask, what in problems:
        if mask.any():
            i = int(np.flatnonzero(mask.to_numpy())[0])
            row = frame.iloc[i]
            raise BarImportError(
                f"{source}: row {i} ({row['symbol']} {row['time']}) has {what}: "
                f"open {row['open']} high {row['high']} low {row['low']} close {row['close']} "
                f"volume {row['volume']}; fix or remove it and import again"
            )
