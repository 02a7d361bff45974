"""A market snapshot made of the rules alone: phase, sessions and per-security lot and tick.

No quotes are involved: the price per security is the universe's indicative ``ref_price`` (blank
for a security imported from HKEX's list that has none, so its tick and lot value are blank too). The
CLI (``catalyst market snapshot``) and notebooks render it; this module only gathers the values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from catalyst.market.calendar import (
    CONTINUOUS_PHASES,
    Phase,
    TradingDay,
    minutes_to_close,
    next_session_open,
    phase,
    session_for,
)
from catalyst.market.hk_timezone import HK_TZ, to_hk
from catalyst.market.spread_table import PHASE1_DATE, phase2_date, tick_size
from catalyst.market.universe import Security, active_universe, security, universe


@dataclass(frozen=True)
class SecurityLine:
    """One security's rules at a moment, priced at its indicative reference price."""

    symbol: str
    name: str
    board_lot: int
    spread_table: str
    ref_price: Decimal | None
    tick: Decimal | None
    lot_value: Decimal | None
    stamp_duty: bool
    shortsell_eligible: bool
    kind: str = "equity"
    cas_eligible: bool = True
    vcm_eligible: bool = True
    pos_eligible: bool = True


@dataclass(frozen=True)
class MarketSnapshot:
    at: datetime
    phase: Phase
    accepts_new_orders: bool
    minutes_to_close: float | None
    today: TradingDay | None
    next_open: datetime
    part_a_regime: str
    universe_as_of: str
    lines: tuple[SecurityLine, ...]
    #: which universe is active (file or shipped default), its HKEX date and size
    universe_source: str = ""
    #: set when the active universe is older than ``market.universe_max_age_days``
    universe_warning: str | None = None


def part_a_regime(at: datetime) -> str:
    """Which Part A ladder is in force at ``at`` (names as in hkex-rules.md §1)."""
    day = to_hk(at).date()
    if day < PHASE1_DATE:
        return f"pre-reform (before {PHASE1_DATE})"
    if day < phase2_date():
        return f"Phase 1 (from {PHASE1_DATE}; Phase 2 expected {phase2_date()})"
    return f"Phase 2 (from {phase2_date()})"


def security_line(sec: Security, at: datetime) -> SecurityLine:
    day = to_hk(at).date()
    return SecurityLine(
        symbol=sec.symbol,
        name=sec.name,
        board_lot=sec.board_lot,
        spread_table=sec.spread_table,
        ref_price=sec.ref_price,
        tick=None if sec.ref_price is None else tick_size(sec.ref_price, on=day, table=sec.spread_table),
        lot_value=None if sec.ref_price is None else sec.ref_price * sec.board_lot,
        stamp_duty=sec.stamp_duty,
        shortsell_eligible=sec.shortsell_eligible,
        kind=sec.kind,
        cas_eligible=sec.cas_eligible,
        vcm_eligible=sec.vcm_eligible,
        pos_eligible=sec.pos_eligible,
    )


def market_snapshot(at: datetime | None = None, symbols: Iterable[str] | None = None) -> MarketSnapshot:
    """The snapshot at ``at`` (default: now) for ``symbols`` (default: the whole universe)."""
    ts = to_hk(at) if at is not None else datetime.now(HK_TZ)
    secs = [security(s) for s in symbols] if symbols is not None else list(universe().values())
    ph = phase(ts)
    active = active_universe()
    return MarketSnapshot(
        at=ts,
        phase=ph,
        accepts_new_orders=ph in CONTINUOUS_PHASES,
        minutes_to_close=minutes_to_close(ts),
        today=session_for(ts.date()),
        next_open=next_session_open(ts),
        part_a_regime=part_a_regime(ts),
        universe_as_of=active.as_of.isoformat(),
        lines=tuple(security_line(s, ts) for s in secs),
        universe_source=active.describe(),
        universe_warning=active.age_warning(ts.date()),
    )
