"""Where the research notebook's bars come from: one call per data source.

* ``sim``: the simulator's deterministic price model, the very prices ``catalyst gateway`` serves
  (no network, no gateway; labelled ``synthetic``: never market data);
* ``cache``: the bar cache under ``state/bars/`` (labelled with what each file was served as);
* ``file``: a trader's CSV or Parquet file, validated like ``catalyst bars import`` (``file``);
* ``broker``: the configured gateway (sim, paper or live), paced by ``catalyst.broker`` and written
  into the cache (labelled with the connection's ``broker.market_data_type``).

One-minute bars; the days are sessions from ``first`` to ``last`` inclusive.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Final

import pandas as pd

from catalyst.config.settings import Settings
from catalyst.market import HK_TZ
from catalyst.research.bar_download import download_bars
from catalyst.research.bar_import import ImportReport, bars_from_records, import_bars
from catalyst.research.bar_store import BarStore
from catalyst.research.errors import BarImportError

DATA_SOURCES: Final[tuple[str, ...]] = ("sim", "cache", "file", "broker")


async def research_bars(
    source: str,
    symbols: list[str],
    first: date,
    last: date,
    *,
    settings: Settings,
    store: BarStore,
    bars_file: str | Path = "",
    sim_seed: int = 7,
) -> tuple[pd.DataFrame, ImportReport | None]:
    """One-minute bars of ``symbols`` from ``first`` to ``last`` out of ``source``, with the import
    report where the bars were validated on the way in (None for the cache)."""
    if source == "sim":
        return simulated_bars(symbols, first, last, seed=sim_seed)
    if source == "file":
        if not str(bars_file):
            raise BarImportError("data_source file needs bars_file, the path of a CSV or Parquet file")
        return import_bars(bars_file)
    if source == "broker":
        return await _from_broker(symbols, first, last, settings=settings, store=store)
    if source == "cache":
        return store.read(symbols, first, last), None
    raise BarImportError(f"data_source must be one of {', '.join(DATA_SOURCES)}, got {source!r}")


def simulated_bars(
    symbols: list[str], first: date, last: date, *, seed: int
) -> tuple[pd.DataFrame, ImportReport]:
    """The simulator's price model's one-minute bars (what ``catalyst gateway`` would serve)."""
    from catalyst.sim.engine.prices import PriceModel  # synthetic, deterministic: never market data

    model = PriceModel(seed)
    start = datetime(first.year, first.month, first.day, tzinfo=HK_TZ)
    end = datetime(last.year, last.month, last.day, tzinfo=HK_TZ) + timedelta(days=1)
    records = {s: model.bars_between(s, start.timestamp(), end.timestamp(), 60) for s in symbols}
    return bars_from_records(records, seconds_per_bar=60, data_type="synthetic")


async def _from_broker(
    symbols: list[str], first: date, last: date, *, settings: Settings, store: BarStore
) -> tuple[pd.DataFrame, ImportReport]:
    from catalyst.broker import BrokerSession

    session = BrokerSession(settings)
    await session.connect()
    try:
        return await download_bars(session.bars, symbols, first, last, store)
    finally:
        await session.close()


__all__ = ["DATA_SOURCES", "research_bars", "simulated_bars"]
