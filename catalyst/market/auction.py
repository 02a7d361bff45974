"""HKEX's two auctions as pure rules: the closing auction (CAS) and the pre-opening session (POS).

The simulator (``catalyst.sim``) and the backtester (``catalyst.research``) both match their
auctions with these functions, so a DAY limit that fills at the close in one fills in the other.
Facts from ``hkex-rules.md`` §3 and §5 (marks as there), times in Hong Kong time:

=========================  =====================  =====================  ==========================
step                       full day               half day               rule
=========================  =====================  =====================  ==========================
CAS reference price        16:00-16:01            12:00-12:01            median of 5 snapshots of
                                                                         the nominal price at 15 s
                                                                         intervals from 15:59:00
                                                                         (:func:`reference_price`)
                                                                         [V3]
CAS order input            16:01-16:06            12:01-12:06            at-auction limits within
                                                                         +-5 % of the reference
                                                                         price (:func:`within_band`)
                                                                         [V]
CAS random close           16:08-16:10            12:08-12:10            :func:`cas_close_time` [V3]
POS order input            09:00-09:15            09:00-09:15            at-auction limits within
                                                                         +-15 % of the previous
                                                                         close [V3]
POS random matching        09:20-09:22            09:20-09:22            :func:`pos_match_time`
                                                                         [V3]
=========================  =====================  =====================  ==========================

**Carried into the CAS.** Limit orders still working at the end of continuous trading are carried
into the closing auction when their price lies within the +-5 % band ("orders within price limit
will be automatically carried forward", S-hsbc); the others take no part in it and end with the
day (:func:`carried_into_cas`). **Out of the POS.** Unfilled at-auction limits carry into
continuous trading as limits at their price; unfilled at-auction orders are cancelled [V].

**One price** (:func:`match`). The final IEP is the price at which the most shares trade; among
equals, the one with the smallest imbalance between the shares wanted at that price on either
side; then, when every such price leaves buyers over, the highest, when every one leaves sellers
over, the lowest; else the one nearest the reference price (CAS) or previous close (POS), and
the higher of two as near (that last tie is Catalyst's choice [U]). With no crossing orders
the reference price stands as the IEP [V3] (S-webull), so at-auction orders on both sides still
trade there. At the IEP, at-auction orders go first, then limits by price and then by time.

**Random times.** HKEX draws the close (and the POS match) at random within two minutes; here the
draw is a number ``u`` in [0, 1) from the caller's seeded stream, turned into a whole second:
``u = 0`` is 16:08:00, ``u`` just below 1 is 16:09:59.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from catalyst.market.calendar import TradingDay
from catalyst.market.errors import AuctionPriceError

Action = Literal["BUY", "SELL"]

#: The CAS price limit: at-auction limits within this fraction of the reference price [V].
CAS_BAND = Decimal("0.05")
#: The POS price limit: at-auction limits within this fraction of the previous close [V3].
POS_BAND = Decimal("0.15")
#: Snapshots of the nominal price taken for the CAS reference price, 15 s apart from 15:59:00.
REFERENCE_SNAPSHOTS = 5
REFERENCE_SNAPSHOT_SECONDS = 15
#: After the end of continuous trading (16:00 or 12:00): reference fixing, input, random close.
CAS_INPUT_FROM = timedelta(minutes=1)
CAS_NO_CANCEL_FROM = timedelta(minutes=6)
CAS_RANDOM_CLOSE_FROM = timedelta(minutes=8)
RANDOM_SPAN_SECONDS = 120
#: After the start of the pre-opening session (09:00): end of input, start of random matching.
POS_INPUT_UNTIL = timedelta(minutes=15)
POS_MATCH_FROM = timedelta(minutes=20)


@dataclass(frozen=True)
class AuctionOrder:
    """One order in an auction book: ``limit`` None is an at-auction order (no price).

    ``priority`` orders equal prices by time (lower first); ``key`` is the caller's handle.
    """

    key: object
    action: Action
    quantity: int
    limit: Decimal | None
    priority: float = 0.0


@dataclass(frozen=True)
class AuctionResult:
    """The final IEP, the shares traded at it, and each order's share of them (by key)."""

    price: Decimal
    volume: int
    fills: dict[object, int]


# --- times ---------------------------------------------------------------------------------------


def reference_snapshot_times(td: TradingDay) -> list[datetime]:
    """When the nominal price is sampled for the CAS reference price: 15:59:00 ... 16:00:00."""
    first = td.close - timedelta(seconds=REFERENCE_SNAPSHOT_SECONDS * (REFERENCE_SNAPSHOTS - 1))
    return [first + timedelta(seconds=REFERENCE_SNAPSHOT_SECONDS * i) for i in range(REFERENCE_SNAPSHOTS)]


def _random_second(start: datetime, u: float) -> datetime:
    if not 0.0 <= u < 1.0:
        raise ValueError(f"a random draw must lie in [0, 1), got {u}")
    return start + timedelta(seconds=min(int(u * RANDOM_SPAN_SECONDS), RANDOM_SPAN_SECONDS - 1))


def cas_close_time(td: TradingDay, u: float) -> datetime:
    """The random close of the CAS: 16:08:00-16:09:59 (12:08-12:09:59 on a half day), from ``u``."""
    return _random_second(td.close + CAS_RANDOM_CLOSE_FROM, u)


def pos_match_time(td: TradingDay, u: float) -> datetime:
    """The random POS matching moment, 09:20:00-09:21:59, from ``u`` in [0, 1)."""
    return _random_second(td.pre_open + POS_MATCH_FROM, u)


def cas_input_open(td: TradingDay, ts: datetime) -> bool:
    """True from the end of the reference-price minute (16:01) until the CAS closes (16:10)."""
    return td.close + CAS_INPUT_FROM <= ts < td.auction_end


def pos_input_open(td: TradingDay, ts: datetime) -> bool:
    """True in the POS order-input period, 09:00-09:15."""
    return td.pre_open <= ts < td.pre_open + POS_INPUT_UNTIL


# --- prices --------------------------------------------------------------------------------------


def reference_price(snapshots: Sequence[Decimal]) -> Decimal:
    """The CAS reference price: the median of the nominal-price snapshots (the lower middle of an
    even count; HKEX takes five)."""
    if not snapshots:
        raise AuctionPriceError("the CAS reference price needs at least one nominal-price snapshot")
    return Decimal(statistics.median_low(snapshots))


def band(reference: Decimal, fraction: Decimal = CAS_BAND) -> tuple[Decimal, Decimal]:
    """(lowest, highest) price an at-auction limit may carry: ``reference`` -/+ ``fraction``."""
    if reference <= 0:
        raise AuctionPriceError(f"an auction reference price must be positive, got {reference}")
    return reference * (1 - fraction), reference * (1 + fraction)


def within_band(price: Decimal, reference: Decimal, fraction: Decimal = CAS_BAND) -> bool:
    """Whether ``price`` lies within the band (both edges included: exactly 5 % away is in)."""
    low, high = band(reference, fraction)
    return low <= price <= high


def band_problem(price: Decimal, reference: Decimal, fraction: Decimal = CAS_BAND) -> str | None:
    """Why HKEX refuses an at-auction limit at ``price``, or None when it lies within the band."""
    if within_band(price, reference, fraction):
        return None
    low, high = band(reference, fraction)
    what = "reference price" if fraction == CAS_BAND else "previous close"
    pct = (fraction * 100).normalize()
    return (
        f"The at-auction limit price {price} is outside the HKEX auction price limit of "
        f"+/-{pct:f}% of the {what} {reference} "
        f"(accepted: {low.normalize():f} to {high.normalize():f})"
    )


def require_within_band(price: Decimal, reference: Decimal, fraction: Decimal = CAS_BAND) -> None:
    """Raise :class:`AuctionPriceError` for an at-auction limit outside the band."""
    problem = band_problem(price, reference, fraction)
    if problem is not None:
        raise AuctionPriceError(problem)


def carried_into_cas(limit: Decimal, reference: Decimal) -> bool:
    """Whether a limit still working at the end of continuous trading takes part in the CAS."""
    return within_band(limit, reference, CAS_BAND)


def fills_at(action: Action, limit: Decimal | None, price: Decimal) -> bool:
    """Whether an order may trade at the auction ``price`` (at it or better; at-auction always)."""
    if limit is None:
        return True
    return limit >= price if action == "BUY" else limit <= price


# --- one price -----------------------------------------------------------------------------------


def _demand(orders: Sequence[AuctionOrder], price: Decimal) -> tuple[int, int]:
    """(shares bought, shares sold) willing to trade at ``price``."""
    buy = sum(o.quantity for o in orders if o.action == "BUY" and fills_at("BUY", o.limit, price))
    sell = sum(o.quantity for o in orders if o.action == "SELL" and fills_at("SELL", o.limit, price))
    return buy, sell


def final_iep(orders: Sequence[AuctionOrder], reference: Decimal) -> Decimal:
    """The single auction price (module docstring): volume, imbalance, surplus side, reference."""
    limits = sorted({o.limit for o in orders if o.limit is not None})
    sides = {p: _demand(orders, p) for p in limits}
    volume = {p: min(b, s) for p, (b, s) in sides.items()}
    best = max(volume.values(), default=0)
    if best == 0:
        return reference
    tied = [p for p in limits if volume[p] == best]
    least = min(abs(sides[p][0] - sides[p][1]) for p in tied)
    tied = [p for p in tied if abs(sides[p][0] - sides[p][1]) == least]
    if len(tied) == 1:
        return tied[0]
    if all(sides[p][0] > sides[p][1] for p in tied):
        return max(tied)
    if all(sides[p][0] < sides[p][1] for p in tied):
        return min(tied)
    return min(tied, key=lambda p: (abs(p - reference), -p))


def _queue(orders: Sequence[AuctionOrder], action: Action, price: Decimal) -> list[AuctionOrder]:
    """The orders of one side that trade at ``price``, in HKEX's order: at-auction, price, time."""
    side = [o for o in orders if o.action == action and fills_at(action, o.limit, price)]
    sign = -1 if action == "BUY" else 1

    def rank(o: AuctionOrder) -> tuple[int, Decimal, float]:
        return (0, Decimal(0), o.priority) if o.limit is None else (1, sign * o.limit, o.priority)

    return sorted(side, key=rank)


def _allocate(queue: Sequence[AuctionOrder], volume: int) -> dict[object, int]:
    out: dict[object, int] = {}
    left = volume
    for o in queue:
        if left <= 0:
            break
        take = min(o.quantity, left)
        out[o.key] = take
        left -= take
    return out


def match(orders: Sequence[AuctionOrder], reference: Decimal) -> AuctionResult:
    """Match an auction book at one price; every order fills at most its quantity at that price."""
    for o in orders:
        if o.quantity <= 0:
            raise AuctionPriceError(
                f"an auction order needs a positive quantity, got {o.quantity} ({o.key!r})"
            )
    price = final_iep(orders, reference)
    buy, sell = _demand(orders, price)
    volume = min(buy, sell)
    fills = _allocate(_queue(orders, "BUY", price), volume)
    fills.update(_allocate(_queue(orders, "SELL", price), volume))
    return AuctionResult(price=price, volume=volume, fills=fills)
