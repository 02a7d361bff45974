"""Synthetic prices: deterministic, on tick, U-shaped, with catalysts; bars agree with the live path."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from engine_support import MORNING, make_exchange

from catalyst.market import HK_TZ, is_on_tick, universe
from catalyst.sim.engine.errors import BarRequestError
from catalyst.sim.engine.prices import PriceModel, price_from_milli

DAY = date(2026, 11, 24)


def test_same_seed_gives_the_same_prices_and_another_seed_different_ones() -> None:
    a, b, c = PriceModel(7), PriceModel(7), PriceModel(8)
    t = MORNING.timestamp() + 1234
    assert a.quote("700", t) == b.quote("700", t)
    assert a.quote("700", t).last != c.quote("700", t).last


def test_every_print_is_on_the_tick_ladder_of_its_day() -> None:
    model = PriceModel(7)
    for symbol, sec in universe().items():
        path = model.path(symbol, DAY)
        assert path is not None
        for milli in np.unique(path.price)[:: max(1, len(np.unique(path.price)) // 50)]:
            assert is_on_tick(price_from_milli(int(milli)), on=DAY, table=sec.spread_table), (symbol, milli)


def test_prices_stay_near_the_reference_levels_of_the_universe() -> None:
    model = PriceModel(7)
    for symbol, sec in universe().items():
        close = price_from_milli(model.close_milli(symbol, DAY))
        assert sec.ref_price / 3 < close < sec.ref_price * 3, symbol


def test_board_lots_are_the_real_ones() -> None:
    ex = make_exchange()
    assert {c.symbol: c.board_lot for c in ex.contracts()} == {
        s: sec.board_lot for s, sec in universe().items()
    }


def test_intraday_volatility_is_u_shaped() -> None:
    model = PriceModel(7)
    edge, middle = [], []
    for symbol in ("700", "9988", "1810", "3690"):
        for offset in range(20):
            path = model.path(symbol, date(2026, 10, 1) + timedelta(days=offset))
            if path is None or len(path.ts) < 19_000:
                continue
            r = np.abs(np.diff(np.log(path.price.astype(float))))
            edge.append(r[:1800].mean() + r[-1800:].mean())
            middle.append(2 * r[7000:8800].mean())
    assert np.mean(edge) > 1.3 * np.mean(middle)


def test_catalyst_days_show_a_volume_surge() -> None:
    model = PriceModel(7)
    chain = model.chain("700")
    days = [
        d for d, cat in zip(chain.days, chain.catalyst, strict=True) if cat and date(2026, 1, 1) <= d <= DAY
    ]
    assert days, "some catalyst days per year"
    normal = [
        d
        for d in chain.days
        if date(2026, 6, 1) <= d <= date(2026, 6, 30) and not chain.catalyst[chain.index[d]]
    ]
    surge = np.mean([model.path("700", d).volume.sum() for d in days])  # type: ignore[union-attr]
    base = np.mean([model.path("700", d).volume.sum() for d in normal])  # type: ignore[union-attr]
    assert surge > 1.2 * base


def test_bars_agree_with_the_live_path_second_by_second() -> None:
    ex = make_exchange()
    first = ex.quote("700")
    lasts, volumes = [first.last], [first.last_size]
    prev_volume = first.volume
    for _ in range(120):
        ex.advance(1)
        q = ex.quote("700")
        lasts.append(q.last)
        volumes.append(q.volume - prev_volume)
        prev_volume = q.volume
    bars = ex.bars("700", end=None, duration="120 S", bar_size="1 min", use_rth=True)
    assert [b.time for b in bars] == [MORNING + timedelta(minutes=m) for m in range(3)]
    for bar, (lo, hi) in zip(bars, [(0, 60), (60, 120), (120, 121)], strict=True):
        live = lasts[lo:hi]
        assert (bar.open, bar.high, bar.low, bar.close) == (live[0], max(live), min(live), live[-1])
        assert bar.volume == sum(volumes[lo:hi]) and bar.count == hi - lo


def test_daily_bars_of_past_days_equal_the_days_prints() -> None:
    ex = make_exchange()
    bars = ex.bars("700", end=None, duration="5 D", bar_size="1 day", use_rth=True)
    assert [b.time.date() for b in bars][-1] == DAY and len(bars) == 5
    model = PriceModel(7)
    path = model.path("700", bars[0].time.date())
    assert path is not None
    assert bars[0].close == price_from_milli(int(path.price[-1])) and bars[0].volume == int(path.volume.sum())
    assert bars[-2].close == ex.quote("700").prev_close


def test_bars_never_reach_past_the_simulated_clock() -> None:
    ex = make_exchange()
    bars = ex.bars(
        "700", end=datetime(2026, 11, 30, tzinfo=HK_TZ), duration="1 D", bar_size="5 mins", use_rth=True
    )
    assert bars[-1].time == MORNING and bars[-1].count == 1  # only the print at the clock itself


@pytest.mark.parametrize(
    ("duration", "bar_size"), [("1 X", "1 min"), ("1 D", "7 parsecs"), ("1 D", "1 week")]
)
def test_unsupported_bar_requests_raise_a_clear_error(duration: str, bar_size: str) -> None:
    ex = make_exchange()
    with pytest.raises(BarRequestError):
        ex.bars("700", end=None, duration=duration, bar_size=bar_size, use_rth=True)


def test_quotes_are_one_tick_wide_around_the_last_trade() -> None:
    q = make_exchange().quote("700")
    assert q.ask - q.bid == Decimal("0.5") and q.last in (q.bid, q.ask)


def test_move_price_prints_a_trade_at_the_new_price() -> None:
    ex = make_exchange()
    ex.move_price("700", pct=Decimal("-10"))
    q = ex.quote("700")
    assert abs(q.last / q.prev_close - 1) > Decimal("0.05")


def test_contract_details_are_labelled_synthetic_and_carry_ib_fields() -> None:
    c = make_exchange().contract(symbol="700")
    assert c is not None
    assert c.long_name.endswith(" (SIM)") and c.board_lot == 100 and c.time_zone == "Asia/Hong_Kong"
    assert c.trading_hours.startswith("20261124:0900-20261124:1200;20261124:1300-20261124:1610")
    assert "20261128:CLOSED" in c.trading_hours
    ladder = make_exchange().market_rule(c.market_rule_id)
    assert ladder is not None and ladder[0] == (Decimal(0), Decimal("0.001"))
