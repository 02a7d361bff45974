"""What kind of market data a bars table holds: IB's data type, a trader's file, or synthetic.

IB serves bars as the connection's ``broker.market_data_type`` (live, frozen, delayed,
delayed-frozen; IB's historical answer names no type of its own, so ``BrokerSession.bars`` labels
the frame with what the connection asked for). Bars imported from a trader's file are ``file``
(Catalyst cannot know what the vendor served) and the simulator's price model gives
``synthetic``. The label travels with the frame as ``bars.attrs``:

* ``attrs["data_types"]``: ``{symbol: "live"}`` (several types joined by ", " when one symbol's
  cache holds bars of more than one kind, for example a delayed download topped up live);
* ``attrs["data_type"]``: every type in the frame, joined by ", ".

The bar cache keeps the label per file (:mod:`catalyst.research.bar_store`), so a research
notebook reading cached bars weeks later still says what they were.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

import pandas as pd

from catalyst.research.errors import BarDataError

IB_DATA_TYPES: Final[tuple[str, ...]] = ("live", "frozen", "delayed", "delayed-frozen")
FILE: Final = "file"
SYNTHETIC: Final = "synthetic"
UNKNOWN: Final = "unknown"  # cached before the cache kept the label
DATA_TYPES: Final[tuple[str, ...]] = (*IB_DATA_TYPES, FILE, SYNTHETIC, UNKNOWN)

_MEANING: Final[dict[str, str]] = {
    "live": "live market data",
    "frozen": "frozen (the last live values, IB's type 2)",
    "delayed": "DELAYED market data (at least 15 minutes late, IB's type 3)",
    "delayed-frozen": "DELAYED-FROZEN market data (IB's type 4)",
    FILE: "imported from a file (its vendor's data type is not known to Catalyst)",
    SYNTHETIC: "synthetic (the simulator's price model: never market data)",
    UNKNOWN: "of unknown data type (cached before Catalyst recorded it)",
}


def require_data_type(name: str) -> str:
    """``name`` if it is one of :data:`DATA_TYPES`; else a BarDataError naming the choices."""
    if name not in DATA_TYPES:
        raise BarDataError(f"bar data type {name!r} is not one of {', '.join(DATA_TYPES)}")
    return name


def join_types(types: Iterable[str]) -> str:
    """One label for a set of data types: sorted, unique, joined by ", "."""
    parts = sorted({p.strip() for t in types for p in str(t).split(",") if p.strip()})
    return ", ".join(parts) or UNKNOWN


def require_label(kind: str) -> str:
    """A label of one or more data types ("delayed, live"), each part checked, in canonical form."""
    for part in kind.split(","):
        require_data_type(part.strip())
    return join_types([kind])


def label(bars: pd.DataFrame, per_symbol: Mapping[str, str]) -> pd.DataFrame:
    """``bars`` with ``attrs`` saying each symbol's data type (validated) and the frame's."""
    bars.attrs["data_types"] = {s: require_label(v) for s, v in per_symbol.items()}
    bars.attrs["data_type"] = join_types(per_symbol.values())
    return bars


def label_all(bars: pd.DataFrame, data_type: str) -> pd.DataFrame:
    """``bars`` labelled with one data type for every symbol it holds."""
    symbols = sorted({str(s) for s in bars["symbol"]}) if "symbol" in bars.columns else []
    if not symbols:
        return _empty(bars, data_type)
    return label(bars, {s: require_label(data_type) for s in symbols})


def _empty(bars: pd.DataFrame, data_type: str) -> pd.DataFrame:
    bars.attrs["data_types"] = {}
    bars.attrs["data_type"] = require_label(data_type)
    return bars


def data_type_of(bars: pd.DataFrame) -> str:
    """The frame's data type label (``unknown`` when nothing labelled it)."""
    return str(bars.attrs.get("data_type") or UNKNOWN)


def data_type_note(bars: pd.DataFrame) -> str:
    """One line for a notebook or report: what kind of data these bars are."""
    per_symbol: Mapping[str, str] = bars.attrs.get("data_types") or {}
    kinds = sorted(set(per_symbol.values())) or [data_type_of(bars)]
    if len(kinds) == 1:
        return f"bars: {_describe(kinds[0])}"
    by_kind = {k: sorted(s for s, v in per_symbol.items() if v == k) for k in kinds}
    return "bars: " + "; ".join(f"{', '.join(syms)}: {_describe(k)}" for k, syms in by_kind.items())


def _describe(kind: str) -> str:
    return " and ".join(_MEANING.get(part, part) for part in kind.split(", "))


def bar_summary(bars: pd.DataFrame) -> pd.DataFrame:
    """Per symbol: bars, first, last and the data type they were served as."""
    table = bars.groupby("symbol")["time"].agg(["count", "min", "max"])
    per_symbol: Mapping[str, str] = bars.attrs.get("data_types") or {}
    table["data_type"] = [per_symbol.get(str(s), data_type_of(bars)) for s in table.index]
    return table


__all__ = [
    "DATA_TYPES",
    "FILE",
    "IB_DATA_TYPES",
    "SYNTHETIC",
    "UNKNOWN",
    "bar_summary",
    "data_type_note",
    "data_type_of",
    "join_types",
    "label",
    "label_all",
    "require_data_type",
    "require_label",
]
