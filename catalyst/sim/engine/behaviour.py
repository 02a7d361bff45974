"""Named settings for every IB behaviour the simulator reproduces without certainty.

``tws-protocol.md`` marks such behaviours [U]. Each one is a field of :class:`SimBehaviour`, set to
the behaviour we think most likely; a run against a real IB paper gateway can settle it, and then
only the default changes. The README lists these settings.

=====================================  =========================  =========================================
setting                                default                    meaning
=====================================  =========================  =========================================
``day_expiry_sends_202``               True                       a DAY order expiring after the closing
                                                                  auction gets error 202 besides its
                                                                  ``Cancelled`` status
``children_size_on_partial_parent``    "filled"                   "filled": bracket children start working
                                                                  on the parent's first fill and may fill
                                                                  only up to what the parent has filled;
                                                                  "full": they wait for the parent to fill
                                                                  completely
``mkt_conversion_ticks``               5                          an IB MKT (or a triggered STP) on SEHK is
                                                                  sent as a limit this many ticks through
                                                                  the touch ...
``mkt_conversion_max_pct``             3                          ... but never more than this % away
                                                                  (IB's odd-lot rule: 3% / 5 ticks)
``odd_lot_fill_probability``           0.0                        chance per simulated minute that a
                                                                  marketable odd-lot order fills (HKEX's
                                                                  odd-lot book is thin: never, by default)
``stamp_duty_per_execution``           True                       stamp duty rounded up per execution
                                                                  (False: per order, charged on the
                                                                  cumulative value)
``commission_minimum_per_order``       True                       IB's HK$18 minimum applies once per order
                                                                  across its partial fills
``cash_account``                       True                       cash account: buying power = cash, buys
                                                                  beyond cash and short sales are rejected
                                                                  (201); False = margin account
``margin_leverage``                    4                          margin account only: buying power =
                                                                  equity x this
``outside_hours_warning_399``          True                       orders accepted outside continuous trading
                                                                  (pre-open, lunch, auction, closed) get a
                                                                  399 warning and are held PreSubmitted
``reject_unknown_order_type_code``     387                        error code for an order type other than
                                                                  LMT, MKT, STP, STP LMT
``quotation_rule_breach``              "reject"                   a LMT 24 spreads or more beyond the best
                                                                  price on its side when it reaches the
                                                                  exchange (continuous trading): "reject"
                                                                  = Inactive with a 201, as HKEX does;
                                                                  "hold" = kept PreSubmitted (whyHeld
                                                                  ``quotation``) and sent once in range,
                                                                  as some brokers do
``cancel_window_pending``              True                       a cancel inside an HKEX no-cancel window
                                                                  (09:15-09:30, 12:00-12:30, 16:06-16:10)
                                                                  is PendingCancel until the window opens;
                                                                  False = cancelled at once (the old model)
``amend_window``                       "hold"                     an amendment inside an HKEX no-amendment
                                                                  window (09:15-09:30, 12:00-13:00,
                                                                  16:06-16:10; 12:06-12:10 on a half day):
                                                                  "hold" = accepted and sent when the window
                                                                  opens (openOrder and orderStatus at once
                                                                  with the order's old terms, the new ones
                                                                  when it opens), as HK brokers queue
                                                                  amendments; "reject" = refused with a
                                                                  201, the order keeps its terms
``auction_fills``                      True                       HKEX's auctions match
                                                                  (``catalyst.market.auction``): DAY limits
                                                                  working at 16:00 within +-5 % of the
                                                                  reference price, and at-auction orders
                                                                  (TIF AUC), fill at the one CAS price at
                                                                  the random close (16:08-16:10; 12:08-12:10
                                                                  on a half day) when it is at or better
                                                                  than their limit; AUC orders entered
                                                                  09:00-09:15 match at 09:20-09:22 (POS).
                                                                  False: nothing matches in the auctions,
                                                                  DAY orders rest through the CAS and expire
                                                                  at its end, AUC orders are rejected
=====================================  =========================  =========================================

``amend_window``'s default follows what HK brokers document: Dah Sing Bank's order FAQ
(dahsing.com, wealth_management/faq_amend.html) says HKEX's AMS/3 takes no amendment 12:00-13:00
nor 09:15-09:30 and that one received then "will be sent to market after" the window; IB's own
handling is not documented ([U]); a capture of a real session settles it (``gateway conform``
names this setting when the answers differ).

Other simplifications that are not settings (fixed choices, see ``exchange.py``): a parent that is
cancelled or expires after a partial fill leaves its children working for the filled quantity;
a sell larger than the long position is rejected at placement in a cash account; the stop of a
bracket stays ``PreSubmitted`` with whyHeld ``trigger`` until a trade touches its price.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Literal

ChildSizing = Literal["filled", "full"]
QuotationBreach = Literal["reject", "hold"]
AmendWindow = Literal["hold", "reject"]


@dataclass(frozen=True)
class SimBehaviour:
    """Behaviours of IB that are documented but not verified ([U]); see the module docstring."""

    day_expiry_sends_202: bool = True
    children_size_on_partial_parent: ChildSizing = "filled"
    mkt_conversion_ticks: int = 5
    mkt_conversion_max_pct: int = 3
    odd_lot_fill_probability: float = 0.0
    stamp_duty_per_execution: bool = True
    commission_minimum_per_order: bool = True
    cash_account: bool = True
    margin_leverage: int = 4
    outside_hours_warning_399: bool = True
    reject_unknown_order_type_code: int = 387
    quotation_rule_breach: QuotationBreach = "reject"
    cancel_window_pending: bool = True
    amend_window: AmendWindow = "hold"
    auction_fills: bool = True

    def __post_init__(self) -> None:
        if self.children_size_on_partial_parent not in ("filled", "full"):
            raise ValueError(
                "children_size_on_partial_parent must be 'filled' or 'full', "
                f"got {self.children_size_on_partial_parent!r}"
            )
        if self.quotation_rule_breach not in ("reject", "hold"):
            raise ValueError(
                f"quotation_rule_breach must be 'reject' or 'hold', got {self.quotation_rule_breach!r}"
            )
        if self.amend_window not in ("hold", "reject"):
            raise ValueError(f"amend_window must be 'hold' or 'reject', got {self.amend_window!r}")
        if self.mkt_conversion_ticks < 1 or self.mkt_conversion_max_pct <= 0:
            raise ValueError("mkt_conversion_ticks must be >= 1 and mkt_conversion_max_pct > 0")
        if not 0.0 <= self.odd_lot_fill_probability <= 1.0:
            raise ValueError(
                f"odd_lot_fill_probability must be in [0, 1], got {self.odd_lot_fill_probability}"
            )
        if self.margin_leverage < 1:
            raise ValueError(f"margin_leverage must be >= 1, got {self.margin_leverage}")


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def behaviour_from_specs(specs: Sequence[str]) -> SimBehaviour:
    """``["NAME=VALUE", ...]`` (``catalyst gateway start --behaviour``) over the defaults.

    Each value is read as its field's type; an unknown name, a malformed spec or a value of the
    wrong type raises ``ValueError`` naming the setting and the settings that exist.
    """
    known = {f.name: f for f in fields(SimBehaviour)}
    values: dict[str, object] = {}
    for spec in specs:
        name, sep, raw = spec.partition("=")
        name, raw = name.strip(), raw.strip()
        if not sep or not name or not raw:
            raise ValueError(f"--behaviour takes NAME=VALUE, got {spec!r}")
        if name not in known:
            raise ValueError(f"unknown simulator behaviour {name!r}; known: {', '.join(sorted(known))}")
        default = getattr(SimBehaviour(), name)
        if isinstance(default, bool):
            if raw.lower() not in _TRUE | _FALSE:
                raise ValueError(f"behaviour {name} takes true or false, got {raw!r}")
            values[name] = raw.lower() in _TRUE
        elif isinstance(default, int):
            try:
                values[name] = int(raw)
            except ValueError:
                raise ValueError(f"behaviour {name} takes a whole number, got {raw!r}") from None
        elif isinstance(default, float):
            try:
                values[name] = float(raw)
            except ValueError:
                raise ValueError(f"behaviour {name} takes a number, got {raw!r}") from None
        else:
            values[name] = raw
    return SimBehaviour(**values)  # type: ignore[arg-type]
