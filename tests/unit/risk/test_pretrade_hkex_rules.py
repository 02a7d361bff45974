"""Pre-trade refuses what HKEX would reject outright: more than 3,000 board lots in one order, and an
entry or stop at 9 times the nominal price or more, or at one-ninth of it or less."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D

from catalyst.domain import BracketIntent, Side
from catalyst.market import HK_TZ, MAX_LOTS_PER_ORDER, board_lot
from catalyst.risk.limits import RiskLimits
from catalyst.risk.pretrade import AccountView, PreTradeContext, RejectReason, pre_trade

MORNING = datetime(2026, 11, 24, 10, 30, tzinfo=HK_TZ)
#: Rich enough that no other limit binds, so only HKEX's rules can refuse.
BOUNDLESS = AccountView(equity=D("1000000000000"), buying_power=D("1000000000000"))
LIMITS = RiskLimits(max_risk_fraction=D("1"), max_notional_per_position=None)


def judge(intent: BracketIntent, last: dict[str, D] | None = None):  # type: ignore[no-untyped-def]
    context = PreTradeContext(account=BOUNDLESS, now=MORNING, last=last or {})
    return pre_trade([intent], context, LIMITS)


def long(quantity: int, entry: str = "5.00", stop: str = "4.90", target: str = "5.10") -> BracketIntent:
    return BracketIntent("h-1", "3988", Side.BUY, quantity, D(entry), D(stop), D(target), created_at=MORNING)


def test_3000_lots_is_approved_and_one_lot_more_is_refused_naming_the_maximum() -> None:
    lot = board_lot("3988")
    assert judge(long(MAX_LOTS_PER_ORDER * lot)).approved
    refused = judge(long((MAX_LOTS_PER_ORDER + 1) * lot))
    (rejection,) = refused.rejections
    assert rejection.code is RejectReason.HKEX_ORDER_RULE
    assert f"maximum of 3000 board lots ({3000 * lot} shares" in rejection.text


def test_a_stop_at_one_ninth_of_the_last_price_is_refused_and_one_tick_above_it_is_not() -> None:
    lot = board_lot("3988")
    last = {"3988": D("9.00")}  # one-ninth is 1.00 exactly
    at_limit = judge(long(lot, entry="9.00", stop="1.00", target="9.10"), last)
    (rejection,) = at_limit.rejections
    assert rejection.code is RejectReason.HKEX_ORDER_RULE
    assert rejection.text.startswith("3988 stop: price 1.00 is at or beyond 9x or 1/9")
    assert judge(long(lot, entry="9.00", stop="1.01", target="9.10"), last).approved


def test_an_entry_at_nine_times_the_last_price_is_refused() -> None:
    lot = board_lot("3988")
    refused = judge(long(lot, entry="45.00", stop="44.00", target="46.00"), {"3988": D("5.00")})
    (rejection,) = refused.rejections
    assert rejection.code is RejectReason.HKEX_ORDER_RULE and "entry" in rejection.text
