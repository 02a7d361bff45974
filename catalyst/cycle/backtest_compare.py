"""Live beside backtest: replay each cycle's decision through the backtester and compare orders.

Each cycle logs ``cycle.decision_inputs`` (time on the broker's clock, equity, buying power,
positions, open entries, strategy, universe, limits), mirrored into the ledger's ``log_events``. The
review replays that exact decision with ``catalyst.research.backtester.backtest_day_verdict`` on bars
from the broker and lines up the intents the cycle approved with the backtester's, explaining each
difference. Fills, fees and P&L of the day are compared in the review's own tables, not here.

The replay is only a comparison if it runs the cycle's code: each decision names its strategy's
fingerprint (SHA-256 over its source files, as the run's manifest records it). When the strategy
registered under that name today has another fingerprint, or none was recorded, every row of that
cycle says so and does not count as a match.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import structlog

from catalyst.broker import BrokerError, BrokerSession
from catalyst.cycle.request import CycleRequest, limits_with_overrides
from catalyst.cycle.steps import load_bars
from catalyst.research.backtester import backtest_day_verdict, intents_frame
from catalyst.research.strategy_registry import get_strategy, strategy_info
from catalyst.risk.limits import RiskLimits

log = structlog.get_logger(__name__)

KEY = ["symbol", "side"]
COMPARED = ["quantity", "entry", "stop", "target"]
COMPARISON_COLUMNS = [
    "run_id",
    "at",
    "symbol",
    "side",
    *[f"{c}_{s}" for c in COMPARED for s in ("live", "backtest")],
    "live_status",
    "match",
    "explanation",
]


def decision_inputs(ledger: Any, start: datetime, end: datetime) -> pd.DataFrame:
    """Every cycle decision made in [start, end) on the broker's clock (the payload's ``at``, which on
    the simulator need not be the wall-clock time the record was logged at): payload decoded."""
    raw = ledger.query(
        "SELECT ts, run_id, payload FROM log_events WHERE event = 'cycle.decision_inputs' ORDER BY ts"
    )
    rows = []
    for r in raw.to_dict("records"):
        payload = r["payload"] if isinstance(r["payload"], dict) else json.loads(r["payload"] or "{}")
        at = datetime.fromisoformat(str(payload.get("at", "")))
        if start <= at < end:
            rows.append({**payload, "run_id": r["run_id"] or payload.get("run_id", "")})
    return pd.DataFrame(rows)


def live_intents(ledger: Any, run_id: str) -> pd.DataFrame:
    """The intents a cycle approved (everything but pre-trade rejections), with their status."""
    return ledger.query(
        "SELECT symbol, side, quantity, entry_price AS entry, stop_price AS stop, target_price AS target, "
        "status FROM intents WHERE run_id = ? AND status <> 'rejected' ORDER BY symbol",
        [run_id],
    )


def compare_intents(run_id: str, at: str, live: pd.DataFrame, backtest: pd.DataFrame) -> pd.DataFrame:
    """Outer join on (symbol, side) with an explanation per row (pure)."""
    lv = live.rename(columns={c: f"{c}_live" for c in COMPARED}).rename(columns={"status": "live_status"})
    bt = backtest.rename(columns={c: f"{c}_backtest" for c in COMPARED})
    lv["symbol"] = lv["symbol"].astype(str)
    bt["symbol"] = bt["symbol"].astype(str)
    merged = lv.merge(bt, on=KEY, how="outer", indicator=True)
    notes, match = [], []
    for where, d in zip(merged["_merge"].astype(str), merged.to_dict("records"), strict=True):
        if where == "left_only":
            match.append(False)
            notes.append("live only: the backtester would not send it (different bars, positions or equity)")
        elif where == "right_only":
            match.append(False)
            notes.append("backtest only: the cycle did not send it (refused, or not sized the same)")
        else:
            diffs = [
                c
                for c in COMPARED
                if str(d[f"{c}_live"]) != str(d[f"{c}_backtest"])
                and not _same_number(d[f"{c}_live"], d[f"{c}_backtest"])
            ]
            match.append(not diffs)
            notes.append("same order" if not diffs else "differs in " + ", ".join(diffs))
    merged = merged.drop(columns="_merge").assign(run_id=run_id, at=at, match=match, explanation=notes)
    return merged.reindex(columns=COMPARISON_COLUMNS)


def code_difference(name: str, recorded: str | None, current: str) -> str | None:
    """Why a replay of strategy ``name`` is not the cycle's code, or None when it is (pure)."""
    if not recorded:
        return f"strategy {name!r}: the cycle recorded no code fingerprint, so the replay may run other code"
    if recorded != current:
        return (
            f"strategy {name!r} changed since the cycle (code fingerprint {recorded[:12]} then, "
            f"{current[:12]} now): the backtest replays different code"
        )
    return None


def flag_code_difference(rows: pd.DataFrame, note: str | None) -> pd.DataFrame:
    """``rows`` with ``note`` added to every explanation and no row counted as a match."""
    if note is None or rows.empty:
        return rows
    explanation = rows["explanation"].fillna("").astype(str)
    return rows.assign(match=False, explanation=explanation + "; " + note)


def _same_number(a: Any, b: Any) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


async def compare_with_backtest(
    settings: Any,
    ledger: Any,
    start: datetime,
    end: datetime,
    *,
    session_factory: Callable[..., Any] = BrokerSession,
    recorded_fingerprints: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """For every cycle decided in [start, end): live intents beside the backtester's.

    ``recorded_fingerprints`` (run id -> strategy fingerprint, from the runs' manifests) wins over
    the fingerprint the decision logged; either is checked against the strategy's code today.
    """
    decisions = decision_inputs(ledger, start, end)
    if decisions.empty:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    broker = session_factory(settings, ledger=None, readonly=True, client_id=settings.broker.client_id + 50)
    try:
        await broker.connect()
    except (BrokerError, OSError, TimeoutError) as exc:
        log.warning("cycle.compare.no_bars", error=str(exc))
        return pd.DataFrame(
            [
                {
                    "run_id": r,
                    "match": None,
                    "explanation": f"not compared: no bars, the gateway "
                    f"is not reachable ({type(exc).__name__}: {exc})",
                }
                for r in decisions["run_id"]
            ],
            columns=COMPARISON_COLUMNS,
        )
    out = []
    try:
        for d in decisions.to_dict("records"):
            recorded = (recorded_fingerprints or {}).get(str(d["run_id"])) or d.get("strategy_fingerprint")
            out.append(await _replay(broker, ledger, settings, d, recorded))
    finally:
        await broker.close()
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=COMPARISON_COLUMNS)


async def _replay(
    broker: Any, ledger: Any, settings: Any, d: Mapping[Any, Any], recorded: str | None
) -> pd.DataFrame:
    """One logged decision replayed through the backtester, beside the intents the cycle approved."""
    at = datetime.fromisoformat(str(d["at"]))
    request = CycleRequest(
        run_id=str(d["run_id"]),
        strategy=str(d["strategy"]),
        strategy_params=d.get("strategy_params") or {},
        universe=tuple(d.get("universe") or ()),
        lookback_days=int(d.get("lookback_days") or 20),
        bar_size=str(d.get("bar_size") or "1 min"),
    )
    bars = await load_bars(broker, request.symbols(), request)
    verdict = backtest_day_verdict(
        bars,
        get_strategy(request.strategy, **dict(request.strategy_params)),
        at,
        settings,
        equity=Decimal(str(d["equity"])),
        buying_power=Decimal(str(d["buying_power"])),
        positions={str(k): int(v) for k, v in (d.get("positions") or {}).items()},
        open_entry_symbols=frozenset(d.get("open_entry_symbols") or ()),
        limits=limits_with_overrides(RiskLimits.from_settings(settings), d.get("limit_overrides") or {}),
        run_id=request.run_id,
    )
    live = live_intents(ledger, request.run_id)
    rows = compare_intents(request.run_id, at.isoformat(), live, intents_frame(verdict.approved))
    note = code_difference(request.strategy, recorded, strategy_info(request.strategy).fingerprint())
    return flag_code_difference(rows, note)
