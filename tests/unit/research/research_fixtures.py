"""Small hand-made bars and a fixed-signal strategy for the research tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import pandas as pd

from catalyst.market import HK_TZ
from catalyst.research.strategy_base import SIGNAL_COLUMNS, Strategy


def hk(text: str) -> datetime:
    """'2025-03-03 10:00' as a tz-aware Hong Kong datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=HK_TZ)


def bars(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """Bars from (symbol, 'YYYY-MM-DD HH:MM', open, high, low, close[, volume]) tuples."""
    recs = []
    for r in rows:
        sym, t, o, h, lo, c = r[:6]
        vol = r[6] if len(r) > 6 else 1000.0
        recs.append(
            {
                "symbol": sym,
                "time": pd.Timestamp(hk(t)),
                "open": float(o),
                "high": float(h),
                "low": float(lo),
                "close": float(c),
                "volume": float(vol),
            }
        )
    frame = pd.DataFrame(recs)
    frame["time"] = pd.to_datetime(frame["time"]).dt.tz_convert(HK_TZ).dt.as_unit("ns")
    return frame.sort_values(["symbol", "time"]).reset_index(drop=True)


class FixedSignal(Strategy):
    """Emits exactly the signal rows it is given (so backtester tests don't depend on momentum)."""

    name: ClassVar[str] = "fixed-signal"

    class Params:
        pass

    params_type: ClassVar[type[Any]] = Params

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__()
        self.rows = rows

    def signals(self, bars: pd.DataFrame, *, at: datetime | None = None) -> pd.DataFrame:
        frame = pd.DataFrame(self.rows, columns=list(SIGNAL_COLUMNS))
        frame["at"] = pd.to_datetime(frame["at"]).dt.tz_convert(HK_TZ).dt.as_unit("ns")
        if at is not None:
            frame = frame.loc[frame["at"] == pd.Timestamp(at)]
        return frame.reset_index(drop=True)

    def describe(self) -> dict[str, Any]:
        return {"strategy": self.name}


def signal(symbol: str, at: str, side: str, entry: float, stop: float, target: float) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "at": pd.Timestamp(hk(at)),
        "side": side,
        "entry": entry,
        "stop": stop,
        "target": target,
        "score": 1.0,
        "reason": "test",
    }


def session_minutes(day: str) -> list[str]:
    """Every one-minute bar start of a full HKEX day (09:30-11:59, 13:00-15:59)."""
    out = []
    for h0, h1 in ((9, 12), (13, 16)):
        for h in range(h0, h1):
            for m in range(60):
                if (h, m) >= (9, 30) or h > 9:
                    out.append(f"{day} {h:02d}:{m:02d}")
    return out


def momentum_history(
    symbol: str = "700", *, gap_day: str = "2025-03-24", base: float = 500.0
) -> pd.DataFrame:
    """15 quiet sessions wobbling 1 HKD around ``base``, then a +4 % gap day with a volume surge.

    On the gap day the price climbs one tick a minute from the open, on three times the volume.
    """
    from catalyst.market.calendar import sessions_between

    days = [d for d in sessions_between(datetime(2025, 3, 1).date(), datetime.fromisoformat(gap_day).date())]
    days = days[-16:]
    rows: list[tuple[Any, ...]] = []
    for d in days[:-1]:
        for i, t in enumerate(session_minutes(d.isoformat())):
            px = base + (0.5 if i % 2 else 0.0)
            rows.append((symbol, t, px, px + 0.5, px - 0.5, px, 1000.0))
    opening = base * 1.04
    for i, t in enumerate(session_minutes(days[-1].isoformat())):
        px = opening + 0.5 * i
        rows.append((symbol, t, px, px + 0.5, px - 0.5, px + 0.5, 3000.0))
    return bars(rows)
