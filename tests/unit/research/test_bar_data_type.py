"""Cached bars keep the data type they were served as, and research says it.

A backtest on delayed or imported bars must not read as if it stood on live data weeks later: the
bar cache stores each file's data type, merges add theirs, and ``data_type_note`` names it.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from research_fixtures import bars

from catalyst.market import HK_TZ
from catalyst.research import bar_summary, data_type_note, data_type_of
from catalyst.research.bar_download import download_bars
from catalyst.research.bar_import import bars_from_records, import_bars
from catalyst.research.bar_provenance import label_all
from catalyst.research.bar_store import BarStore
from catalyst.research.errors import BarDataError

MORNING = [("700", "2025-03-03 09:30", 500, 501, 499, 500), ("700", "2025-03-03 09:31", 500, 501, 499, 500)]
LATER = [("700", "2025-03-03 09:32", 502, 503, 501, 502)]


def test_the_cache_remembers_the_data_type_of_each_file(tmp_path: Path) -> None:
    store = BarStore(tmp_path / "bars")
    store.write(label_all(bars(MORNING), "delayed"))
    store.write(bars([("5", "2025-03-03 09:30", 60, 61, 59, 60)]), data_type="live")
    got = store.read(["700", "5"])
    assert got.attrs["data_types"] == {"700": "delayed", "5": "live"}
    assert data_type_of(got) == "delayed, live"
    assert dict(zip(store.coverage()["symbol"], store.coverage()["data_type"], strict=True)) == {
        "5": "live",
        "700": "delayed",
    }


def test_bars_of_another_type_merged_into_a_file_add_their_type(tmp_path: Path) -> None:
    store = BarStore(tmp_path / "bars")
    store.write(bars(MORNING), data_type="delayed")
    store.write(bars(LATER), data_type="live")
    got = store.read(["700"])
    assert len(got) == 3
    assert got.attrs["data_types"] == {"700": "delayed, live"}
    assert "DELAYED" in data_type_note(got) and "live market data" in data_type_note(got)


def test_unlabelled_bars_are_cached_as_unknown_not_as_live(tmp_path: Path) -> None:
    store = BarStore(tmp_path / "bars")
    store.write(bars(MORNING))
    assert data_type_of(store.read(["700"])) == "unknown"


def test_a_data_type_outside_the_vocabulary_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    store = BarStore(tmp_path / "bars")
    with pytest.raises(BarDataError, match="'realtime' is not one of live, frozen, delayed"):
        store.write(bars(MORNING), data_type="realtime")
    assert store.coverage().empty


def test_an_imported_file_is_labelled_as_a_file_and_the_sim_model_as_synthetic(tmp_path: Path) -> None:
    path = tmp_path / "bars.csv"
    bars(MORNING).to_csv(path, index=False)
    imported, _ = import_bars(path)
    assert data_type_of(imported) == "file"
    records = {
        "700": [
            {
                "time": pd.Timestamp("2025-03-03 09:30", tz=HK_TZ),
                "open": 1,
                "high": 1,
                "low": 1,
                "close": 1,
                "volume": 1,
            }
        ]
    }
    synthetic, _ = bars_from_records(records, seconds_per_bar=60, data_type="synthetic")
    assert "never market data" in data_type_note(synthetic)


def test_the_summary_table_has_a_data_type_per_symbol(tmp_path: Path) -> None:
    store = BarStore(tmp_path / "bars")
    store.write(bars(MORNING), data_type="delayed-frozen")
    table = bar_summary(store.read(["700"]))
    assert table.loc["700", "count"] == 2
    assert table.loc["700", "data_type"] == "delayed-frozen"


def test_download_labels_the_cache_with_what_the_broker_served(tmp_path: Path) -> None:
    async def fetch(symbol: str, *, duration: str, bar_size: str, end: datetime) -> pd.DataFrame:
        frame = pd.DataFrame(
            {
                "time": [pd.Timestamp(f"{end.date().isoformat()} 09:30", tz=HK_TZ)],
                "open": [500],
                "high": [501],
                "low": [499],
                "close": [500],
                "volume": [100],
            }
        )
        frame.attrs["data_type"] = "delayed"  # as BrokerSession.bars labels a delayed connection's bars
        return frame

    store = BarStore(tmp_path / "bars")
    got, _ = asyncio.run(download_bars(fetch, ["700"], date(2025, 3, 3), date(2025, 3, 4), store))
    assert got.attrs["data_types"] == {"700": "delayed"}
    assert store.read(["700"]).attrs["data_types"] == {"700": "delayed"}  # a later reader still knows


def test_the_research_notebooks_sources_label_what_they_give(tmp_path: Path) -> None:
    from catalyst.config import Settings
    from catalyst.research import research_bars

    store = BarStore(tmp_path / "bars")
    simulated, report = asyncio.run(
        research_bars("sim", ["700"], date(2025, 3, 3), date(2025, 3, 3), settings=Settings(), store=store)
    )
    assert report is not None and len(simulated) == 330  # one session of one-minute bars
    assert data_type_of(simulated) == "synthetic"
    store.write(simulated)
    cached, none = asyncio.run(
        research_bars("cache", ["700"], date(2025, 3, 3), date(2025, 3, 3), settings=Settings(), store=store)
    )
    assert none is None and data_type_of(cached) == "synthetic"  # the cache kept the label


def test_an_unknown_research_source_or_a_file_source_without_a_file_is_refused(tmp_path: Path) -> None:
    from catalyst.config import Settings
    from catalyst.research import research_bars
    from catalyst.research.errors import BarImportError

    store = BarStore(tmp_path / "bars")
    day = date(2025, 3, 3)
    with pytest.raises(
        BarImportError, match="data_source must be one of sim, cache, file, broker, got 'yahoo'"
    ):
        asyncio.run(research_bars("yahoo", ["700"], day, day, settings=Settings(), store=store))
    with pytest.raises(BarImportError, match="data_source file needs bars_file"):
        asyncio.run(research_bars("file", ["700"], day, day, settings=Settings(), store=store))
