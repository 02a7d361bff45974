"""Importing the user's bar files: validation, time zones, duplicates, off-session bars; the cache."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from research_fixtures import bars

from catalyst.market import HK_TZ
from catalyst.research.bar_download import download_bars
from catalyst.research.bar_frame import require_bars
from catalyst.research.bar_import import import_bars
from catalyst.research.bar_store import BarStore
from catalyst.research.errors import BarCacheMissError, BarDataError, BarImportError

ROWS = [
    # symbol, time (naive HK wall clock), o, h, l, c, v
    ("00700", "2025-03-03 09:15", 500, 500, 500, 500, 100),  # pre-open auction
    ("00700", "2025-03-03 09:30", 500, 501, 499, 500, 100),
    ("00700", "2025-03-03 09:31", 500, 501, 499, 500, 100),
    ("00700", "2025-03-03 09:31", 500, 501, 499, 500, 100),  # duplicate
    ("00700", "2025-03-03 12:30", 500, 501, 499, 500, 100),  # lunch
    ("00700", "2025-03-03 13:00", 500, 501, 499, 500, 100),
    ("00700", "2025-03-03 16:05", 500, 501, 499, 500, 100),  # closing auction
    ("00700", "2025-03-08 10:00", 500, 501, 499, 500, 100),  # Saturday
    ("00700", "2024-12-24 13:30", 500, 501, 499, 500, 100),  # Christmas Eve half day: afternoon closed
]


def write_csv(path: Path, rows: list[tuple], header: str = "symbol,time,open,high,low,close,volume") -> Path:
    path.write_text(header + "\n" + "\n".join(",".join(str(x) for x in r) for r in rows) + "\n")
    return path


def test_import_keeps_only_continuous_trading_bars_and_reports_the_rest(tmp_path: Path) -> None:
    frame, report = import_bars(write_csv(tmp_path / "bars.csv", ROWS))
    assert [t.strftime("%m-%d %H:%M") for t in frame["time"]] == ["03-03 09:30", "03-03 09:31", "03-03 13:00"]
    assert (report.rows_read, report.duplicates_dropped, report.off_session_dropped) == (9, 1, 5)


def test_imported_bars_follow_the_schema(tmp_path: Path) -> None:
    frame, _ = import_bars(write_csv(tmp_path / "bars.csv", ROWS))
    require_bars(frame)
    assert set(frame["symbol"]) == {"700"}


def test_naive_times_are_read_as_hong_kong_wall_clock(tmp_path: Path) -> None:
    frame, _ = import_bars(write_csv(tmp_path / "bars.csv", ROWS[1:2]))
    assert frame["time"].iloc[0] == pd.Timestamp(datetime(2025, 3, 3, 9, 30, tzinfo=HK_TZ))


def test_utc_times_are_converted_to_hong_kong_time(tmp_path: Path) -> None:
    rows = [("700", "2025-03-03T01:30:00Z", 500, 501, 499, 500, 100)]
    frame, _ = import_bars(write_csv(tmp_path / "bars.csv", rows))
    assert frame["time"].iloc[0].strftime("%H:%M %Z") == "09:30 HKT"


def test_a_missing_column_is_named_in_the_error(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "bars.csv", [("700", "2025-03-03 09:30", 1, 1, 1, 1)], "symbol,time,open,high,low,close"
    )
    with pytest.raises(BarImportError, match="volume"):
        import_bars(path)


def test_a_bar_with_high_below_low_is_refused_with_its_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bars.csv", [("700", "2025-03-03 09:30", 500, 499, 501, 500, 100)])
    with pytest.raises(BarImportError, match="high below low"):
        import_bars(path)


def test_parquet_files_import_like_csv(tmp_path: Path) -> None:
    frame, _ = import_bars(write_csv(tmp_path / "bars.csv", ROWS))
    frame.to_parquet(tmp_path / "bars.parquet")
    again, report = import_bars(tmp_path / "bars.parquet")
    pd.testing.assert_frame_equal(frame, again)
    assert report.off_session_dropped == 0


def test_unsorted_bars_are_refused_by_the_schema_check() -> None:
    frame = bars([("700", "2025-03-03 09:31", 1, 1, 1, 1), ("700", "2025-03-03 09:30", 1, 1, 1, 1)])
    with pytest.raises(BarDataError, match="sorted"):
        require_bars(frame.iloc[::-1].reset_index(drop=True))


def test_the_cache_round_trips_and_merges_new_bars(tmp_path: Path) -> None:
    store = BarStore(tmp_path / "bars")
    first = bars(
        [("700", "2025-03-03 09:30", 500, 501, 499, 500), ("700", "2025-03-03 09:31", 500, 501, 499, 500)]
    )
    second = bars(
        [("700", "2025-03-03 09:31", 502, 503, 501, 502), ("700", "2025-03-03 09:32", 500, 501, 499, 500)]
    )
    store.write(first)
    store.write(second)
    got = store.read(["700"], date(2025, 3, 3), date(2025, 3, 3))
    assert list(got["close"]) == [500.0, 502.0, 500.0]  # the newer 09:31 bar replaced the old one
    assert store.coverage()["rows"].tolist() == [3]


def test_reading_an_uncached_symbol_says_how_to_fill_the_cache(tmp_path: Path) -> None:
    with pytest.raises(BarCacheMissError, match="catalyst bars import"):
        BarStore(tmp_path).read(["5"])


def test_download_asks_for_each_missing_session_once_and_caches_it(tmp_path: Path) -> None:
    calls: list[tuple[str, datetime]] = []

    async def fetch(symbol: str, *, duration: str, bar_size: str, end: datetime) -> pd.DataFrame:
        calls.append((symbol, end))
        day = end.date().isoformat()
        return pd.DataFrame(
            {
                "time": [pd.Timestamp(f"{day} 09:30", tz=HK_TZ), pd.Timestamp(f"{day} 12:30", tz=HK_TZ)],
                "open": [500, 500],
                "high": [501, 501],
                "low": [499, 499],
                "close": [500, 500],
                "volume": [100, 100],
            }
        )

    store = BarStore(tmp_path / "bars")
    got, report = asyncio.run(download_bars(fetch, ["700"], date(2025, 3, 3), date(2025, 3, 5), store))
    assert [end.strftime("%m-%d %H:%M") for _, end in calls] == ["03-03 16:00", "03-04 16:00", "03-05 16:00"]
    assert (len(got), report.off_session_dropped) == (3, 3)  # the 12:30 lunch bars are dropped
    asyncio.run(download_bars(fetch, ["700"], date(2025, 3, 3), date(2025, 3, 5), store))
    assert len(calls) == 3  # everything came from the cache the second time
