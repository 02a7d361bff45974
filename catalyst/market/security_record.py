"""One security as HKEX's List of Securities describes it, and the kinds Catalyst sorts them into.

The kind decides whether a security is in the tradable set: equities, ETFs/ETPs and REITs are
(:data:`DEFAULT_TRADABLE_KINDS`); RMB counters, warrants, CBBCs, debt and everything else are kept
out unless the settings let their kind in (``market.universe_include``). Even a kind let in stays
out when Catalyst cannot price it (a spread table other than A or D) or when it is a foreign
currency counter other than RMB: the reason is recorded so ``security()`` can say it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from catalyst.market.errors import UnknownSymbolError
from catalyst.market.spread_table import TABLES

Kind = Literal["equity", "etf", "reit", "rmb_counter", "warrant", "cbbc", "debt", "other"]
KINDS: tuple[Kind, ...] = ("equity", "etf", "reit", "rmb_counter", "warrant", "cbbc", "debt", "other")
#: Kinds in the tradable set without any setting.
DEFAULT_TRADABLE_KINDS: frozenset[Kind] = frozenset({"equity", "etf", "reit"})
#: Readable names for messages ("warrants are kept out ...").
KIND_PLURALS: dict[str, str] = {
    "equity": "equities",
    "etf": "ETFs/ETPs",
    "reit": "REITs",
    "rmb_counter": "RMB counters",
    "warrant": "warrants",
    "cbbc": "CBBCs",
    "debt": "debt securities",
    "other": "other securities",
}


@dataclass(frozen=True)
class Security:
    """One security of the universe, with the per-security rules from HKEX's List of Securities."""

    symbol: str
    name: str
    board_lot: int
    spread_table: str
    stamp_duty: bool
    shortsell_eligible: bool
    rmb_counter: str | None
    ref_price: Decimal | None
    """Indicative price level for displays and examples; never market data. None when unknown
    (a security imported from HKEX's list that is not one of the shipped 20)."""
    kind: Kind = "equity"
    category: str = "Equity"
    sub_category: str = ""
    isin: str = ""
    currency: str = "HKD"
    cas_eligible: bool = True
    vcm_eligible: bool = True
    pos_eligible: bool = True

    @property
    def is_etf(self) -> bool:
        """ETFs/ETPs trade on spread table D and pay no stamp duty."""
        return self.kind == "etf" or self.spread_table == "D"


def exclusion_reason(sec: Security, let_in: frozenset[str]) -> str | None:
    """Why ``sec`` is not tradable with the kinds ``let_in`` (None: it is tradable)."""
    if sec.kind not in DEFAULT_TRADABLE_KINDS and sec.kind not in let_in:
        return (
            f"{KIND_PLURALS[sec.kind]} are kept out of the tradable set "
            f"(let them in with the setting market.universe_include = [\"{sec.kind}\"])"
        )
    if sec.spread_table not in TABLES:
        return f"it trades on spread table {sec.spread_table}, which Catalyst cannot price (only A and D)"
    if sec.currency not in ("HKD", "RMB"):
        return f"it trades in {sec.currency}; Catalyst trades HKD (and RMB counters when let in)"
    return None


def normalize_symbol(symbol: str | int) -> str:
    """IB-style code of ``symbol``: leading zeros and spaces stripped ("00700" -> "700").

    Raises UnknownSymbolError for anything that is not a positive stock code of 1-5 digits
    (e.g. "700.HK", "TENCENT", "", "0", None). Membership in the universe is not checked here.
    """
    if isinstance(symbol, bool) or not isinstance(symbol, (str, int)):
        raise UnknownSymbolError(f"stock code must be text such as '700', got {type(symbol).__name__}")
    text = str(symbol).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 5 or int(text) == 0:
        raise UnknownSymbolError(
            f"{symbol!r} is not an HKEX stock code; use the number without suffix, e.g. '700' or '0700'"
        )
    return str(int(text))
