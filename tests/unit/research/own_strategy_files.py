"""Strategy source files the tests write into temporary `strategies/` folders, and a search fixture."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalyst.research.strategy_loader import StrategySearch
from catalyst.research.strategy_registry import use_search

#: The repository's own strategies/ folder (the shipped example), whatever folder pytest runs from.
SHIPPED = StrategySearch(folders=(Path(__file__).resolve().parents[3] / "strategies",), entry_points=False)


@pytest.fixture
def shipped() -> Iterator[None]:
    """The registry searches the repository's strategies/ folder for one test."""
    use_search(SHIPPED)
    yield
    use_search(None)


def shipped_names() -> list[str]:
    """Every strategy name with the repository's folder searched (for parametrize at collection)."""
    from catalyst.research.strategy_registry import list_strategies

    use_search(SHIPPED)
    try:
        return list_strategies()
    finally:
        use_search(None)


def strategy_source(name: str, body: str = "", *, params: str = "lookback: int = 3") -> str:
    """A small strategy ``name``; ``body`` replaces the default ``signals`` body (one BUY of 700 per
    session at 10:00, entry at the last close, stop 1 % below, target 2 % above)."""
    default = """
        require_bars(bars)
        if len(bars) == 0:
            return pd.DataFrame({c: pd.Series([], dtype=object) for c in SIGNAL_COLUMNS})
        rows = []
        local = bars["time"].dt.tz_convert(HK_TZ)
        for day, g in bars.assign(day=local.dt.date).groupby("day"):
            at_ = datetime.combine(day, time(10, 0), tzinfo=HK_TZ)
            if at is not None and at_ != to_hk(at):
                continue
            known = g.loc[(g["symbol"] == "700") & (g["time"] + pd.Timedelta(minutes=1) <= at_)]
            if known.empty:
                continue
            px = float(known["close"].iloc[-1])
            rows.append(dict(symbol="700", at=pd.Timestamp(at_), side="BUY", entry=px, stop=px * 0.99,
                             target=px * 1.02, score=1.0, reason="test"))
        return pd.DataFrame(rows, columns=list(SIGNAL_COLUMNS))
    """
    class_name = "".join(p.capitalize() for p in name.replace("_", "-").split("-")) + "Strategy"
    return (
        textwrap.dedent(
            f'''
        from dataclasses import dataclass
        from datetime import datetime, time
        from typing import ClassVar

        import pandas as pd

        from catalyst.market import HK_TZ, to_hk
        from catalyst.research import Strategy
        from catalyst.research.bar_frame import require_bars
        from catalyst.research.strategy_base import SIGNAL_COLUMNS


        @dataclass(frozen=True)
        class Params:
            {params}


        class {class_name}(Strategy):
            name: ClassVar[str] = "{name}"
            params_type: ClassVar[type] = Params

            def signals(self, bars, *, at=None):
        '''
        )
        + textwrap.indent(textwrap.dedent(body or default).strip("\n"), " " * 8)
        + "\n"
    )


def write_strategy(folder: Path, stem: str, name: str, body: str = "", **kw: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.py"
    path.write_text(strategy_source(name, body, **kw), encoding="utf-8")
    return path


@pytest.fixture
def own_folder(tmp_path: Path) -> Iterator[Path]:
    """A temporary `strategies/` folder that the registry searches (entry points off) for one test."""
    folder = tmp_path / "strategies"
    folder.mkdir()
    use_search(StrategySearch(folders=(folder,), entry_points=False), timeout=5.0)
    yield folder
    use_search(None)
