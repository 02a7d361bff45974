"""Layer 1: each pre-trade check refuses with its reason code, and only then."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pandas as pd
import pytest

from catalyst.domain import BracketIntent, Side
from catalyst.market import HK_TZ, board_lot, snap_to_tick, universe
from catalyst.risk.errors import RiskInputError
from catalyst.risk.limits import RiskLimits
from catalyst.risk.pretrade import (
    AccountView,
    PreTradeContext,
    RejectReason,
    open_entry_symbols,
    positions_by_symbol,
    pre_trade,
    risk_of,
)
from catalyst.risk.state import RiskState

TUESDAY_MORNING = datetime(2026, 11, 24, 10, 30, tzinfo=HK_TZ)
LUNCH = datetime(2026, 11, 24, 12, 30, tzinfo=HK_TZ)
RICH = AccountView(equity=Decimal("10000000"), buying_power=Decimal("10000000"))
SYMBOLS = sorted(universe(), key=int)


def intent(
    symbol: str = "700", side: Side = Side.BUY, lots: int = 1, stop_pct: str = "0.02", seq: int = 0
) -> BracketIntent:
    sec = universe()[symbol]
    entry = snap_to_tick(sec.ref_price, "nearest", on=TUESDAY_MORNING.date(), table=sec.spread_table)
    dist = entry * Decimal(stop_pct)
    sign = 1 if side is Side.BUY else -1
    stop = snap_to_tick(
        entry - sign * dist, "down" if sign > 0 else "up", on=TUESDAY_MORNING.date(), table=sec.spread_table
    )
    target = snap_to_tick(
        entry + sign * 2 * dist,
        "up" if sign > 0 else "down",
        on=TUESDAY_MORNING.date(),
        table=sec.spread_table,
    )
    return BracketIntent(
        f"t-{symbol}-{seq}",
        symbol,
        side,
        lots * board_lot(symbol),
        entry,
        stop,
        target,
        created_at=TUESDAY_MORNING,
    )


def ctx(**kw: object) -> PreTradeContext:
    base: dict[str, object] = {"account": RICH, "now": TUESDAY_MORNING}
    base.update(kw)
    return PreTradeContext(**base)  # type: ignore[arg-type]


def codes(result: object) -> list[str]:
    return [r.code.value for r in result.rejections]  # type: ignore[attr-defined]


def test_a_sound_intent_in_the_morning_session_is_approved() -> None:
    result = pre_trade([intent()], ctx(), RiskLimits())
    assert [i.symbol for i in result.approved] == ["700"] and result.rejections == ()


def test_the_eleventh_position_is_refused_with_max_positions() -> None:
    held = {s: board_lot(s) for s in SYMBOLS[:10]}
    result = pre_trade([intent(SYMBOLS[10])], ctx(positions=held), RiskLimits(max_positions=10))
    assert codes(result) == ["max_positions"]
    assert "limit is 10" in result.rejections[0].text


def test_open_entry_orders_count_toward_the_position_limit() -> None:
    held = {s: board_lot(s) for s in SYMBOLS[:8]}
    entries = frozenset(SYMBOLS[8:10])
    result = pre_trade([intent(SYMBOLS[10])], ctx(positions=held, open_entry_symbols=entries), RiskLimits())
    assert codes(result) == ["max_positions"]


def test_a_batch_cannot_jointly_exceed_the_position_limit() -> None:
    batch = [intent(s) for s in SYMBOLS[:3]]
    result = pre_trade(batch, ctx(), RiskLimits(max_positions=2))
    assert len(result.approved) == 2 and codes(result) == ["max_positions"]


def test_a_symbol_already_held_is_refused_as_duplicate() -> None:
    result = pre_trade([intent("700")], ctx(positions={"700": 100}), RiskLimits())
    assert codes(result) == ["duplicate_symbol"]


def test_a_symbol_with_an_open_entry_is_refused_as_duplicate() -> None:
    result = pre_trade([intent("700")], ctx(open_entry_symbols=frozenset({"700"})), RiskLimits())
    assert codes(result) == ["duplicate_symbol"]


def test_two_intents_for_one_symbol_in_a_batch_approve_only_the_first() -> None:
    result = pre_trade([intent("700", seq=1), intent("700", seq=2)], ctx(), RiskLimits())
    assert [i.intent_id for i in result.approved] == ["t-700-1"] and codes(result) == ["duplicate_symbol"]


def test_an_entry_at_lunch_is_refused_with_market_phase() -> None:
    result = pre_trade([intent()], ctx(now=LUNCH), RiskLimits())
    assert codes(result) == ["market_phase"]
    assert "LUNCH" in result.rejections[0].text


@pytest.mark.parametrize(
    ("when", "code"),
    [
        (datetime(2026, 11, 24, 9, 10, tzinfo=HK_TZ), "market_phase"),  # pre-open
        (datetime(2026, 11, 24, 16, 5, tzinfo=HK_TZ), "market_phase"),  # closing auction
        (datetime(2026, 11, 24, 15, 50, tzinfo=HK_TZ), "near_close"),  # last minutes
        (datetime(2026, 11, 24, 11, 55, tzinfo=HK_TZ), "near_close"),  # before the lunch break
        (datetime(2026, 12, 25, 10, 30, tzinfo=HK_TZ), "holiday"),  # Christmas
        (datetime(2026, 11, 28, 10, 30, tzinfo=HK_TZ), "holiday"),  # Saturday
    ],
)
def test_entries_outside_continuous_trading_are_refused(when: datetime, code: str) -> None:
    result = pre_trade([intent()], ctx(now=when), RiskLimits(no_entry_minutes_before_close=15))
    assert codes(result) == [code]


def test_an_oversized_risk_is_refused_with_risk_per_trade() -> None:
    account = AccountView(equity=Decimal("100000"), buying_power=Decimal("10000000"))
    big = intent("700", lots=10, stop_pct="0.05")  # 1000 shares x ~30 HKD stop distance
    result = pre_trade([big], ctx(account=account), RiskLimits(max_risk_fraction=Decimal("0.01")))
    assert codes(result) == ["risk_per_trade"]
    assert "1.00% of equity = 1,000.00 HKD" in result.rejections[0].text


def test_risk_includes_round_trip_fees() -> None:
    i = intent("700")
    assert risk_of(i) > abs(i.entry - i.stop) * i.quantity


def test_fees_alone_can_push_risk_over_the_limit() -> None:
    i = intent("700")
    bare = abs(i.entry - i.stop) * i.quantity
    equity = bare * 100  # 1 % of equity equals the stop distance alone, fees not covered
    account = AccountView(equity=equity, buying_power=Decimal("10000000"))
    result = pre_trade([i], ctx(account=account), RiskLimits(max_risk_fraction=Decimal("0.01")))
    assert codes(result) == ["risk_per_trade"]


def test_notional_above_the_per_position_limit_is_refused() -> None:
    result = pre_trade([intent("700")], ctx(), RiskLimits(max_notional_per_position=Decimal("50000")))
    assert codes(result) == ["max_notional"]


def test_insufficient_buying_power_is_refused() -> None:
    account = AccountView(equity=Decimal("10000000"), buying_power=Decimal("50000"))
    result = pre_trade([intent("700")], ctx(account=account), RiskLimits())
    assert codes(result) == ["buying_power"]


def test_buying_power_is_used_up_by_earlier_approvals() -> None:
    account = AccountView(equity=Decimal("10000000"), buying_power=Decimal("70000"))
    result = pre_trade([intent("700"), intent("388")], ctx(account=account), RiskLimits())
    assert [i.symbol for i in result.approved] == ["700"] and codes(result) == ["buying_power"]


def test_a_tripped_breaker_refuses_every_entry() -> None:
    halted = RiskState(halted=True, halt_reason="day loss 31,000 HKD")
    result = pre_trade([intent("700"), intent("388")], ctx(risk_state=halted), RiskLimits())
    assert codes(result) == ["breaker_halted", "breaker_halted"]
    assert "catalyst risk reset" in result.rejections[0].text


def test_a_locked_symbol_is_refused_and_others_pass() -> None:
    locked = RiskState(locks={"700": "unexplained quantity_mismatch"})
    result = pre_trade([intent("700"), intent("388")], ctx(risk_state=locked), RiskLimits())
    assert codes(result) == ["symbol_locked"] and [i.symbol for i in result.approved] == ["388"]
    assert "catalyst risk unlock 700" in result.rejections[0].text


def test_a_short_entry_is_refused_while_shorts_are_disabled() -> None:
    result = pre_trade([intent("700", side=Side.SELL)], ctx(), RiskLimits(allow_shorts=False))
    assert codes(result) == ["shorts_disabled"]


def test_a_short_entry_in_a_designated_security_passes_when_shorts_are_enabled() -> None:
    result = pre_trade([intent("700", side=Side.SELL)], ctx(), RiskLimits(allow_shorts=True))
    assert result.rejections == () and result.approved[0].side is Side.SELL


def test_the_verdict_frame_lists_every_intent_with_its_reason() -> None:
    result = pre_trade([intent("700"), intent("700", seq=2)], ctx(), RiskLimits())
    frame = result.to_frame()
    assert list(frame["verdict"]) == ["approved", "rejected"]
    assert list(frame["code"]) == ["", RejectReason.DUPLICATE_SYMBOL.value]


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(RiskInputError, match="timezone-aware"):
        PreTradeContext(account=RICH, now=datetime(2026, 11, 24, 10, 30))


def test_non_positive_equity_is_refused() -> None:
    with pytest.raises(RiskInputError, match="equity must be positive"):
        AccountView(equity=Decimal(0), buying_power=Decimal(0))


def test_account_view_reads_a_broker_snapshot_mapping() -> None:
    view = AccountView.from_snapshot({"net_liquidation": 1_000_000.0, "buying_power": "500000"})
    assert view == AccountView(Decimal("1000000.0"), Decimal("500000"))


def test_open_entries_are_parent_legs_only() -> None:
    orders = pd.DataFrame({"order_ref": ["a:P", "a:SL", "b:TP", None], "symbol": ["700", "700", "5", "9"]})
    assert open_entry_symbols(orders) == frozenset({"700"})


def test_positions_by_symbol_drops_flat_symbols() -> None:
    frame = pd.DataFrame({"account": "DU1", "symbol": ["700", "5"], "quantity": [100, 0]})
    assert positions_by_symbol(frame) == {"700": 100}


def test_a_position_reported_twice_counts_once() -> None:
    frame = pd.DataFrame({"account": "DU1", "symbol": ["5", "5"], "quantity": [1200, 1200]})
    assert positions_by_symbol(frame) == {"5": 1200}
