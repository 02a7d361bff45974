"""A bad strategy is a clear error naming it and what it returned, in scan (the cycle's call) and in the
backtest, before anything is sized: it raises, returns NaN, a price off the spread table, a wrong
side, an unknown symbol, a duplicate candidate, or takes longer than research.strategy_timeout_seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalyst.research import run_backtest
from catalyst.research.errors import StrategyOutputError
from catalyst.research.strategy_base import Strategy
from catalyst.research.strategy_registry import get_strategy
from tests.unit.research.own_strategy_files import own_folder, write_strategy
from tests.unit.research.research_fixtures import hk, momentum_history

__all__ = ["own_folder"]

ROW = (
    'dict(symbol="700", at=pd.Timestamp(hk_at), side="BUY", entry=500.0, stop=495.0, target=510.0, '
    'score=1.0, reason="x")'
)


def _body(*rows: str, before: str = "") -> str:
    return (
        f"{before}\n"
        "hk_at = datetime(2025, 3, 24, 10, 0, tzinfo=HK_TZ)\n"
        f"rows = [{', '.join(rows)}]\n"
        "frame = pd.DataFrame(rows, columns=list(SIGNAL_COLUMNS))\n"
        "return frame if at is None else frame.loc[frame['at'] == pd.Timestamp(to_hk(at))]\n"
    )


BAD = {
    "raises": (
        _body(ROW, before="raise ZeroDivisionError('division by zero in my indicator')"),
        r"raised ZeroDivisionError: division by zero in my indicator",
    ),
    "nan": (_body(ROW.replace("stop=495.0", "stop=float('nan')")), r"stop is nan \(not a finite price\)"),
    "off-ladder": (
        _body(ROW.replace("target=510.0", "target=12000.0")),
        r"target 12000 is off the spread table",
    ),
    "negative": (_body(ROW.replace("stop=495.0", "stop=-1.0")), r"stop -1 is off the spread table"),
    "side-word": (
        _body(ROW.replace('side="BUY"', 'side="LONGISH"')),
        r"side 'LONGISH' is neither BUY nor SELL",
    ),
    "wrong-side": (
        _body(ROW.replace("stop=495.0", "stop=505.0")),
        r"a BUY bracket needs stop < entry < target.*wrong side",
    ),
    "unknown-symbol": (_body(ROW.replace('symbol="700"', 'symbol="99999"')), r"unknown symbol: .*99999"),
    "duplicate": (_body(ROW, ROW), r"proposed 700 twice at 2025-03-24 10:00:00\+08:00 \(rows 0 and 1\)"),
    "not-a-frame": ("return [1, 2, 3]", r"returned list, not a pandas DataFrame"),
    "slow": (
        _body(ROW, before="import time as _t\n_t.sleep(3)"),
        r"took longer than 0.5 s \(research.strategy_timeout_seconds\)",
    ),
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_a_bad_strategy_is_refused_by_scan_naming_it_and_what_it_returned(
    own_folder: Path, kind: str
) -> None:
    body, message = BAD[kind]
    write_strategy(own_folder, "bad", f"bad-{kind}", body)
    strategy = get_strategy(f"bad-{kind}")
    strategy.signal_timeout = 0.5
    with pytest.raises(StrategyOutputError, match=message) as err:
        strategy.scan(momentum_history(), hk("2025-03-24 10:00"))
    assert f"strategy 'bad-{kind}'" in str(err.value)


@pytest.mark.parametrize("kind", ["raises", "nan", "wrong-side", "unknown-symbol", "duplicate", "slow"])
def test_a_bad_strategy_is_refused_by_the_backtest_before_any_trade(own_folder: Path, kind: str) -> None:
    body, message = BAD[kind]
    write_strategy(own_folder, "bad", f"bad-{kind}", body)
    strategy = get_strategy(f"bad-{kind}")
    strategy.signal_timeout = 0.5
    with pytest.raises(StrategyOutputError, match=message):
        run_backtest(momentum_history(), strategy)


def test_the_same_good_row_passes(own_folder: Path) -> None:
    write_strategy(own_folder, "good", "good-row", _body(ROW))
    [cand] = get_strategy("good-row").scan(momentum_history(), hk("2025-03-24 10:00"))
    assert (cand.symbol, str(cand.entry), str(cand.stop), str(cand.target)) == ("700", "500", "495", "510")


def test_get_strategy_gives_the_settings_time_limit(own_folder: Path) -> None:
    write_strategy(own_folder, "timed", "timed")
    assert get_strategy("timed").signal_timeout == 5.0  # the fixture's search says 5 s


def test_a_strategy_may_not_replace_scan_so_its_output_is_always_checked() -> None:
    with pytest.raises(TypeError, match=r"overrides Strategy\.scan; a strategy implements `signals` only"):

        class Sneaky(Strategy):
            name = "sneaky"

            def signals(self, bars, *, at=None):  # type: ignore[no-untyped-def]
                raise AssertionError

            def scan(self, bars, at):  # type: ignore[no-untyped-def]
                return []


def test_one_bad_row_among_thousands_is_named_by_its_position() -> None:
    import pandas as pd

    from catalyst.market import HK_TZ
    from catalyst.research.strategy_checks import check_signals

    days = pd.bdate_range("2024-01-02", periods=3000)
    rows = [
        {"symbol": "700", "at": pd.Timestamp(d.replace(hour=10), tz=HK_TZ), "side": "BUY", "entry": 100.0,
         "stop": 99.0, "target": 102.0, "score": 1.0, "reason": "x"}
        for d in days
    ]  # fmt: skip
    check_signals(pd.DataFrame(rows), "many")  # all good
    rows[2345]["target"] = 98.0
    with pytest.raises(StrategyOutputError, match=r"strategy 'many' row 2345 .*wrong side"):
        check_signals(pd.DataFrame(rows), "many")
