"""The ``no-market-data`` fault: the simulated account lacks an HKEX market-data subscription.

Switched on for every symbol, or for some (``symbols=700,5``), it answers as IB does without a
subscription: a quote request under live or frozen data (reqMarketDataType 1/2) gets error 354
(``code=10089``: "requires additional subscription for API") and no ticks; under delayed or
delayed-frozen (3/4) the warning 10167 "displaying delayed market data", then marketDataType 3/4
and IB's delayed tick types (66-76, 88), unless ``delayed=0`` (error 10168: delayed data not
enabled). A historical-data request gets error 162 "No market data permissions". A symbol the fault
does not name is served live whatever type was asked for, as IB serves live data wherever the
account is entitled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from catalyst.sim.engine.errors import FaultParameterError

FAULT_NAME = "no-market-data"

NOT_SUBSCRIBED_TEXT = "Requested market data is not subscribed. Delayed market data is available.SEHK/TOP/ALL"
API_SUBSCRIPTION_TEXT = (
    "Requested market data requires additional subscription for API. See link in 'Market Data "
    "Connections' dialog for more details.Delayed market data is available.SEHK/TOP/ALL"
)
DELAYED_INSTEAD_TEXT = "Requested market data is not subscribed. Displaying delayed market data."
DELAYED_NOT_ENABLED_TEXT = "Requested market data is not subscribed. Delayed market data is not enabled."
NO_HISTORICAL_PERMISSIONS_TEXT = (
    "Historical Market Data Service error message:No market data permissions for SEHK STK"
)

#: live tick type -> IB's delayed tick type (bid/ask/last, their sizes, high, low, volume, close,
#: open, last timestamp)
DELAYED_TICK_TYPES: dict[int, int] = {
    1: 66,
    2: 67,
    4: 68,
    0: 69,
    3: 70,
    5: 71,
    6: 72,
    7: 73,
    8: 74,
    9: 75,
    14: 76,
    45: 88,
}
_TICK_MESSAGES = ("1", "2", "45", "46")  # tickPrice, tickSize, tickGeneric, tickString: type at [3]


@dataclass(frozen=True)
class QuoteAnswer:
    """How a market-data request of one symbol is answered."""

    #: the marketDataType the ticks are served as (None: no ticks)
    served_type: int | None
    #: (code, text) errors/warnings sent first, in order
    notices: tuple[tuple[int, str], ...] = ()


def fault_symbols(params: Mapping[str, object]) -> frozenset[str] | None:
    """The symbols the fault names (``symbols=700,5``; also ``symbol=``), None for every symbol."""
    raw = params.get("symbols", params.get("symbol"))
    if raw is None or str(raw).strip() in ("", "all", "*"):
        return None
    names = [p.strip().lstrip("0") or "0" for p in str(raw).split(",") if p.strip()]
    if not names or not all(n.isdigit() for n in names):
        raise FaultParameterError(
            f"fault {FAULT_NAME} parameter symbols must be SEHK codes separated by commas "
            f"(e.g. symbols=700,5) or 'all', got {raw!r}"
        )
    return frozenset(names)


def check_params(params: Mapping[str, object]) -> None:
    """Refuse parameters the fault cannot use, before it is switched on."""
    fault_symbols(params)
    code = str(params.get("code", 354))
    if code not in ("354", "10089"):
        raise FaultParameterError(f"fault {FAULT_NAME} parameter code must be 354 or 10089, got {code!r}")
    if str(params.get("delayed", 1)) not in ("0", "1"):
        raise FaultParameterError(f"fault {FAULT_NAME} parameter delayed must be 0 or 1")


def lacks_subscription(active: Mapping[str, Mapping[str, object]], symbol: str) -> bool:
    """Whether the switched-on faults leave ``symbol`` without a market-data subscription."""
    params = active.get(FAULT_NAME)
    if params is None:
        return False
    names = fault_symbols(params)
    return names is None or (symbol.lstrip("0") or "0") in names


def quote_answer(active: Mapping[str, Mapping[str, object]], symbol: str, requested_type: int) -> QuoteAnswer:
    """The answer to reqMktData of ``symbol`` by a client that asked for ``requested_type``."""
    if not lacks_subscription(active, symbol):
        return QuoteAnswer(served_type=1)
    params = active[FAULT_NAME]
    if requested_type in (3, 4):
        if str(params.get("delayed", 1)) == "0":
            return QuoteAnswer(None, ((10168, DELAYED_NOT_ENABLED_TEXT),))
        return QuoteAnswer(requested_type, ((10167, DELAYED_INSTEAD_TEXT),))
    if str(params.get("code", 354)) == "10089":
        return QuoteAnswer(None, ((10089, API_SUBSCRIPTION_TEXT),))
    return QuoteAnswer(None, ((354, NOT_SUBSCRIBED_TEXT),))


def historical_refusal(active: Mapping[str, Mapping[str, object]], symbol: str) -> tuple[int, str] | None:
    """Error 162 for a historical request of a symbol without permissions, else None."""
    return (162, NO_HISTORICAL_PERMISSIONS_TEXT) if lacks_subscription(active, symbol) else None


def as_delayed(frames: Iterable[Sequence[str]]) -> list[list[str]]:
    """Tick frames with IB's delayed tick types in place of the live ones."""
    out = []
    for frame in frames:
        f = list(frame)
        if f and f[0] in _TICK_MESSAGES and len(f) > 3 and f[3].isdigit():
            f[3] = str(DELAYED_TICK_TYPES.get(int(f[3]), int(f[3])))
        out.append(f)
    return out
