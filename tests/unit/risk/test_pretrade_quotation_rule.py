"""Pre-trade plans each target inside HKEX's quotation rule (docs/risk-operations.md).

The take-profit is sent when the entry fills, and HKEX rejects a limit 24 spreads or more beyond
the best price on its side. An approved intent's target is therefore at most 20 spreads beyond
its entry (three kept for the market moving); the stop and the size are never touched.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D

from catalyst.domain import BracketIntent, Side
from catalyst.market import HK_TZ, board_lot, ticks_from
from catalyst.risk.limits import RiskLimits
from catalyst.risk.pretrade import (
    AccountView,
    PreTradeContext,
    pre_trade,
    risk_of,
    target_within_quotation_rule,
)

MORNING = datetime(2026, 11, 24, 10, 30, tzinfo=HK_TZ)  # Phase 2 table in force
RICH = AccountView(equity=D("10000000"), buying_power=D("10000000"))


def bracket(side: Side, entry: str, stop: str, target: str, symbol: str = "700") -> BracketIntent:
    lot = board_lot(symbol)
    return BracketIntent("q-1", symbol, side, lot, D(entry), D(stop), D(target), created_at=MORNING)


def up(price: str, n: int) -> D:
    return ticks_from(D(price), n, "up", on=MORNING)


def down(price: str, n: int) -> D:
    return ticks_from(D(price), n, "down", on=MORNING)


def judge(i: BracketIntent):  # type: ignore[no-untyped-def]
    return pre_trade([i], PreTradeContext(account=RICH, now=MORNING), RiskLimits(allow_shorts=True))


def test_a_long_target_40_spreads_above_the_entry_is_approved_at_20_spreads() -> None:
    far = bracket(Side.BUY, "600", "590", str(up("600", 40)))
    result = judge(far)
    (approved,) = result.approved
    assert approved.target == up("600", 20) == D("610")
    assert (approved.entry, approved.stop, approved.quantity) == (far.entry, far.stop, far.quantity)
    assert risk_of(approved) == risk_of(far)
    (moved,) = result.adjustments
    assert (moved.intent_id, moved.planned, moved.target) == ("q-1", D("620"), D("610"))
    row = result.to_frame().iloc[0]
    assert row["verdict"] == "approved" and "quotation rule" in row["reason"] and "610" in row["reason"]


def test_a_target_at_20_spreads_is_kept_and_one_at_21_is_moved() -> None:
    at_20 = bracket(Side.BUY, "600", "590", str(up("600", 20)))
    assert target_within_quotation_rule(at_20) == (at_20, None)
    at_21 = bracket(Side.BUY, "600", "590", str(up("600", 21)))
    moved, adjustment = target_within_quotation_rule(at_21)
    assert moved.target == up("600", 20) and adjustment is not None


def test_a_short_target_is_planned_20_spreads_below_the_entry() -> None:
    far = bracket(Side.SELL, "600", "610", "560")
    (approved,) = judge(far).approved
    assert approved.target == down("600", 20) == D("590")


def test_spreads_are_counted_across_a_band_edge() -> None:
    # 5 (HSBC) at 101: ticks of 0.10 above 100, of 0.05 below; a short's target from 101:
    # 10 ticks down to 100, then 10 of 0.05.
    far = bracket(Side.SELL, "101", "103", "95", symbol="5")
    (approved,) = judge(far).approved
    assert approved.target == D("99.5")


def test_an_intent_already_inside_the_rule_is_approved_unchanged() -> None:
    near = bracket(Side.BUY, "600", "590", "605")
    result = judge(near)
    assert result.approved == (near,) and result.adjustments == ()


def test_an_entry_priced_through_the_touch_has_its_target_planned_from_the_last_price() -> None:
    """A buy limit 10 spreads above the market fills at about the last price; its take-profit is then
    judged against that, so 20 spreads from the entry would be 30 from the market (the demo's cycles
    had brackets refused exactly so)."""
    through = bracket(Side.BUY, "600", "590", str(up("600", 40)))
    context = PreTradeContext(account=RICH, now=MORNING, last={"700": D("595")})
    result = pre_trade([through], context, RiskLimits())
    (approved,) = result.approved
    assert approved.target == up("595", 20) == D("605")
    assert "the last price 595" in result.adjustments[0].text


def test_a_short_priced_through_the_market_has_its_target_planned_from_the_last_price() -> None:
    through = bracket(Side.SELL, "600", "610", "560")
    context = PreTradeContext(account=RICH, now=MORNING, last={"700": D("605")})
    (approved,) = pre_trade([through], context, RiskLimits(allow_shorts=True)).approved
    assert approved.target == down("605", 20) == D("595")


def test_a_last_price_farther_than_the_entry_changes_nothing() -> None:
    resting = bracket(Side.BUY, "600", "590", str(up("600", 40)))
    context = PreTradeContext(account=RICH, now=MORNING, last={"700": D("602.5")})
    (approved,) = pre_trade([resting], context, RiskLimits()).approved
    assert approved.target == up("600", 20)
