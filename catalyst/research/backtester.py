"""Backtests that apply the live rules: signals vectorised, fills event-driven.

``run_backtest(bars, strategy, config)``:

1. ``strategy.signals(bars)`` once, vectorised over the whole history.
2. For each decision time in order, the account is rebuilt as it stood then (cash, positions
   marked at the last close, working entries), each session's signals become candidates
   (``candidates_from_signals``, the same snapping as ``scan``), are sized in whole board lots
   (``position_sizing``, the same as the cycle) and judged by ``catalyst.risk.pretrade.pre_trade``
   with the same :class:`~catalyst.risk.limits.RiskLimits` the live cycle uses: max positions,
   one position per symbol, market phase and near-close, risk per trade with fees, notional,
   buying power, shorts.
3. Each approved bracket is played through the symbol's later bars by ``fill_rules`` (DAY entry
   trading through, else in the closing auction at the reference price of the last continuous
   bar when that is at or better than its limit and within +-5 %, for CAS-eligible securities on
   days whose bars reach the close; OCA stop/target, gaps filled at the open, nothing at lunch),
   and every fill is charged ``catalyst.market.fill_fees`` to the cent.
4. The equity curve is computed vectorised from the fills and a forward-filled close matrix.

What it still simplifies (also in the closing note): fills are all-or-nothing (no partial fills
or queue position), no slippage on limit fills, stops fill at their price when touched unless
``slippage_ticks`` is set, the daily circuit breaker (layer 3) and the position monitor (layer 2)
are not simulated, VCM cooling-off and short-sale tick rule are ignored, buying power is cash
minus working entries (no margin).
"""

from __future__ import annotations

import heapq
import time as _time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Required, TypedDict, Unpack

import numpy as np
import pandas as pd
import structlog

from catalyst.domain import BracketIntent, IntentNumbering
from catalyst.market import FIXED, HK_TZ, TIERED, CommissionPlan, fill_fees, security, session_for, to_hk
from catalyst.research.backtest_result import TRADE_COLUMNS, BacktestResult, summary_stats
from catalyst.research.bar_frame import (
    NS_PER_DAY,
    NS_PER_SECOND,
    bar_seconds,
    require_bars,
    symbol_runs,
    time_ns,
)
from catalyst.research.errors import BacktestConfigError
from catalyst.research.fill_rules import (
    AUCTION_REASON,
    BarPath,
    Fill,
    auction_fill,
    close_fill,
    entry_fill,
    exit_fill,
)
from catalyst.research.strategy_base import Strategy, candidates_from_signals, last_prices
from catalyst.risk.circuit_breaker import DayPnl, evaluate_breaker
from catalyst.risk.decision import DecisionInputs, decide
from catalyst.risk.limits import RiskLimits
from catalyst.risk.pretrade import AccountView, PreTradeResult
from catalyst.risk.state import RiskState

log = structlog.get_logger(__name__)

_HK_OFFSET_NS = 8 * 3600 * NS_PER_SECOND


@dataclass(frozen=True)
class BacktestConfig:
    """How a backtest trades. Risk limits are the live ``RiskLimits`` (build with ``from_settings``)."""

    initial_capital: Decimal = Decimal("1000000")
    """Starting cash in HKD."""
    limits: RiskLimits = field(default_factory=RiskLimits)
    """The pre-trade limits applied to every decision, exactly as in the live cycle."""
    commission: CommissionPlan = FIXED
    """IB commission plan charged on every fill (catalyst.market.fees)."""
    max_hold_sessions: int | None = None
    """None: hold until the stop or target fills (protective legs GTC). N: leave at the close of the
    N-th session's last continuous bar (1 = the entry's session; a marketable limit before 16:00)."""
    slippage_ticks: int = 0
    """Ticks of slippage on stop fills (IB-simulated stops become marketable orders)."""
    run_id: str = "backtest"
    """Stands in for the account in the deterministic intent ids (``make_intent_id``)."""
    trade_from: date | None = None
    """First session on which orders may be placed; earlier bars only feed the indicators
    (walk-forward test windows)."""
    closing_auction: bool = True
    """Model HKEX's closing auction for DAY entries not filled in continuous trading
    (``fill_rules.auction_fill``); False: they expire at the last continuous bar."""

    def __post_init__(self) -> None:
        if not isinstance(self.initial_capital, Decimal) or self.initial_capital <= 0:
            raise BacktestConfigError(
                f"initial_capital must be a positive Decimal amount of HKD, got {self.initial_capital!r}"
            )
        if self.max_hold_sessions is not None and self.max_hold_sessions < 1:
            raise BacktestConfigError("max_hold_sessions must be None or at least 1")
        if self.slippage_ticks < 0:
            raise BacktestConfigError("slippage_ticks must be >= 0")
        if not self.run_id:
            raise BacktestConfigError("run_id must not be empty")

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> BacktestConfig:
        """Limits and commission plan from ``Settings.risk`` (the live configuration) plus overrides."""
        plan = str(getattr(settings.risk, "commission_plan", "fixed"))
        base: dict[str, Any] = {
            "limits": RiskLimits.from_settings(settings),
            "commission": TIERED if plan == "tiered" else FIXED,
        }
        return cls(**{**base, **overrides})

    def describe(self) -> dict[str, Any]:
        out = asdict(self)
        out["limits"] = asdict(self.limits)
        out["commission"] = self.commission.kind
        out["trade_from"] = None if self.trade_from is None else self.trade_from.isoformat()
        return out


@dataclass
class _Trade:
    intent: BracketIntent
    sym_code: int
    placed_ns: int
    expiry_ns: int
    entry: Fill | None = None
    exit: Fill | None = None
    entry_end_ns: int = 0
    exit_end_ns: int = 2**62
    row: dict[str, Any] = field(default_factory=dict)


class _Book:
    """The bars as arrays, indexed globally; per-symbol slices and session boundaries."""

    def __init__(self, bars: pd.DataFrame) -> None:
        self.step_ns = bar_seconds(bars) * NS_PER_SECOND
        codes, names = symbol_runs(bars)
        self.codes = codes
        self.symbols = names
        self.index = {s: i for i, s in enumerate(self.symbols)}
        self.ns = time_ns(bars["time"])
        self.end_ns = self.ns + self.step_ns
        self.day = (self.ns + _HK_OFFSET_NS) // NS_PER_DAY
        self.path = BarPath(
            open=bars["open"].to_numpy(np.float64),
            high=bars["high"].to_numpy(np.float64),
            low=bars["low"].to_numpy(np.float64),
            close=bars["close"].to_numpy(np.float64),
            day=self.day,
        )
        n = len(bars)
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if n else np.zeros(0, np.int64)
        self.sym_start = starts
        self.sym_end = np.r_[starts[1:], n] if n else starts
        self.tables = [security(s).spread_table for s in self.symbols]
        self.cas_eligible = [security(s).cas_eligible for s in self.symbols]
        # Session boundaries: index of the first bar of each (symbol, day) run.
        self.session_starts = (
            np.flatnonzero(np.r_[True, (codes[1:] != codes[:-1]) | (self.day[1:] != self.day[:-1])])
            if n
            else np.zeros(0, np.int64)
        )
        # Timeline (distinct bar end times) and a forward-filled close matrix for marking to market.
        self.timeline, self.tl_of_bar = _timeline(self.end_ns, self.step_ns)
        mat = np.full((self.timeline.size, len(self.symbols)), np.nan)
        mat[self.tl_of_bar, codes] = self.path.close
        valid = ~np.isnan(mat)
        rows = np.where(valid, np.arange(mat.shape[0])[:, None], 0)
        np.maximum.accumulate(rows, axis=0, out=rows)
        self.close_matrix = mat[rows, np.arange(mat.shape[1])[None, :]]

    def session_end(self, k: int) -> int:
        """One past the last bar of bar ``k``'s session for its symbol."""
        j = int(np.searchsorted(self.session_starts, k, side="right"))
        end_sym = int(self.sym_end[self.codes[k]])
        return min(int(self.session_starts[j]) if j < self.session_starts.size else end_sym, end_sym)

    def reaches_close(self, k: int) -> bool:
        """Whether bar ``k`` ends at the end of its day's continuous trading (16:00 or 12:00)."""
        td = session_for(_to_hk_time(int(self.ns[k])).date())
        return td is not None and int(self.end_ns[k]) == int(td.close.timestamp()) * NS_PER_SECOND

    def nth_session_end(self, k: int, sessions: int) -> int:
        end = self.session_end(k)
        for _ in range(sessions - 1):
            if end >= self.sym_end[self.codes[k]]:
                break
            end = self.session_end(end)
        return end

    def first_bar_at_or_after(self, sym: int, at_ns: int) -> int:
        lo, hi = int(self.sym_start[sym]), int(self.sym_end[sym])
        return lo + int(np.searchsorted(self.ns[lo:hi], at_ns, side="left"))

    def last_close(self, sym: int, at_ns: int) -> float | None:
        t = int(np.searchsorted(self.timeline, at_ns, side="right")) - 1
        if t < 0:
            return None
        v = self.close_matrix[t, sym]
        return None if np.isnan(v) else float(v)


def _timeline(end_ns: np.ndarray, step_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct bar end times, ascending, and each bar's position in them.

    Bars on a regular grid (every end a whole number of bar lengths from the first) are placed with
    a presence array over the grid, O(n); anything else falls back to ``np.unique``.
    """
    if end_ns.size == 0:
        return end_ns.copy(), np.zeros(0, dtype=np.int64)
    lo = int(end_ns.min())
    offset = end_ns - lo
    slots = int(offset.max()) // step_ns + 1
    if slots <= 50_000_000 and not np.any(offset % step_ns):
        key = offset // step_ns
        present = np.zeros(slots, dtype=bool)
        present[key] = True
        rank = np.cumsum(present) - 1
        return lo + np.flatnonzero(present).astype(np.int64) * step_ns, rank[key]
    timeline, where = np.unique(end_ns, return_inverse=True)
    return timeline, where


def _ns_of(ts: Any) -> int:
    return int(pd.Timestamp(ts).tz_convert("UTC").value)


def _to_hk_time(ns: int) -> pd.Timestamp:
    return pd.Timestamp(ns, unit="ns", tz="UTC").tz_convert(HK_TZ)


class _Account:
    """Cash and positions as they stood at a decision time, rebuilt from the simulated trades."""

    def __init__(self, initial: Decimal) -> None:
        self.cash = initial
        self.pending: list[tuple[int, int, Decimal]] = []  # (time_ns, seq, amount) not yet booked
        self.active: list[_Trade] = []
        self._seq = 0

    def schedule(self, at_ns: int, amount: Decimal) -> None:
        self._seq += 1
        heapq.heappush(self.pending, (at_ns, self._seq, amount))

    def advance(self, now_ns: int) -> None:
        while self.pending and self.pending[0][0] <= now_ns:
            self.cash += heapq.heappop(self.pending)[2]
        self.active = [
            t for t in self.active if t.exit_end_ns > now_ns and (t.entry is not None or t.expiry_ns > now_ns)
        ]

    def positions(self, now_ns: int) -> dict[str, int]:
        return {
            t.intent.symbol: t.intent.side.sign * t.intent.quantity
            for t in self.active
            if t.entry is not None and t.entry_end_ns <= now_ns
        }

    def working_entries(self, now_ns: int) -> list[_Trade]:
        return [
            t
            for t in self.active
            if t.placed_ns <= now_ns and t.expiry_ns > now_ns and (t.entry is None or t.entry_end_ns > now_ns)
        ]


def _fees(symbol: str, qty: int, price: Decimal, ns: int, plan: CommissionPlan) -> Decimal:
    return fill_fees(symbol, qty, price, plan=plan, on=_to_hk_time(ns).date()).total


class DayBreaker:
    """The daily loss breaker as the backtest applies it: the day's P&L (equity marked at the last
    close, fees paid) against the loss limit from the equity at the day's first decision; once it
    trips, new entries are halted for the rest of that day, as the live cycle refuses them. (Live,
    the breaker also cancels and flattens; the backtest leaves open trades to their own exits.)"""

    def __init__(self) -> None:
        self._day: date | None = None
        self._start = Decimal(0)
        self._halt: RiskState = RiskState()

    def state(self, now: datetime, equity: Decimal, limits: RiskLimits) -> RiskState:
        if now.date() != self._day:
            self._day, self._start, self._halt = now.date(), equity, RiskState()
        if self._halt.halted:
            return self._halt
        pnl = equity - self._start
        verdict = evaluate_breaker(DayPnl(trading=pnl, fees=Decimal(0), total=pnl), self._start, limits)
        if verdict.tripped:
            self._halt = RiskState(halted=True, halt_reason=verdict.reason, halted_at=now)
            log.info("research.backtest.breaker_tripped", at=now.isoformat(), reason=verdict.reason)
        return self._halt


def _last_prices(book: _Book, cands: Sequence[Any], at_ns: int) -> dict[str, Decimal]:
    """Each candidate symbol's last close at the decision (``strategy_base.last_prices``'s definition:
    the close of its last bar complete by then), from the book."""
    out: dict[str, Decimal] = {}
    for symbol in {c.symbol for c in cands}:
        px = book.last_close(book.index[symbol], at_ns) if symbol in book.index else None
        if px is not None:
            out[symbol] = Decimal(f"{px:.6f}")
    return out


def run_backtest(
    bars: pd.DataFrame, strategy: Strategy, config: BacktestConfig | None = None
) -> BacktestResult:
    """Backtest ``strategy`` on ``bars`` (schema in ``bar_frame``) under ``config``."""
    cfg = config or BacktestConfig()
    t0 = _time.perf_counter()
    require_bars(bars)
    book = _Book(bars)
    signals = _tradable_signals(bars, strategy, cfg)
    trades, rejections = _simulate(book, signals, strategy, cfg)
    return _result(book, len(bars), trades, rejections, strategy, cfg, _time.perf_counter() - t0)


def _tradable_signals(bars: pd.DataFrame, strategy: Strategy, cfg: BacktestConfig) -> pd.DataFrame:
    """The strategy's signals in time order, from ``cfg.trade_from`` on."""
    signals = strategy.checked_signals(bars)  # a bad strategy is an error here, before any sizing
    signals = signals.sort_values("at", kind="mergesort")
    if cfg.trade_from is not None:
        first = pd.Timestamp(datetime.combine(cfg.trade_from, datetime.min.time(), tzinfo=HK_TZ))
        signals = signals.loc[signals["at"] >= first]
    return signals


def _simulate(
    book: _Book, signals: pd.DataFrame, strategy: Strategy, cfg: BacktestConfig
) -> tuple[list[_Trade], list[dict[str, Any]]]:
    """Every decision time in order: rebuild the account, decide, play the approved brackets."""
    account = _Account(cfg.initial_capital)
    trades: list[_Trade] = []
    rejections: list[dict[str, Any]] = []
    numbering = IntentNumbering()  # one per backtest: every decision of a key in a day numbered 0, 1...
    day_breaker = DayBreaker()  # layer 3 in the backtest: a day's loss at the limit halts its entries
    for at_key, group in signals.groupby("at", sort=True):
        at: Any = at_key
        at_ns = _ns_of(at)
        account.advance(at_ns)
        cands = candidates_from_signals(group, strategy=strategy.name)
        if not cands:
            continue
        inputs = _decision_inputs(book, account, cands, at, at_ns, cfg, numbering, day_breaker)
        if inputs is None:
            break
        verdict = decide(inputs).verdict
        rejections += _rejection_rows(at, verdict)
        for intent in verdict.approved:
            trade = _play(book, intent, at_ns, cfg)
            trades.append(trade)
            _book_trade(account, trade)
    return trades, rejections


def _decision_inputs(
    book: _Book,
    account: _Account,
    cands: Sequence[Any],
    at: Any,
    at_ns: int,
    cfg: BacktestConfig,
    numbering: IntentNumbering,
    day_breaker: DayBreaker,
) -> DecisionInputs | None:
    """What the decision at ``at`` sees, as the live cycle would; None when the account is bust."""
    positions = account.positions(at_ns)
    working = account.working_entries(at_ns)
    equity = account.cash + _market_value(book, account, at_ns)
    reserved = sum((w.intent.entry * w.intent.quantity for w in working), Decimal(0))
    buying_power = max(account.cash - reserved, Decimal(0))
    if equity <= 0:
        log.warning("research.backtest.bust", at=str(at), equity=str(equity))
        return None
    now = to_hk(pd.Timestamp(at).to_pydatetime())
    risk_state = day_breaker.state(now, equity, cfg.limits)
    return DecisionInputs(
        candidates=cands,
        account=AccountView(equity=equity, buying_power=buying_power),
        now=now,
        limits=cfg.limits,
        run_id=cfg.run_id,
        positions=positions,
        open_entry_symbols=frozenset(w.intent.symbol for w in working),
        risk_state=risk_state,
        numbering=numbering,
        last=_last_prices(book, cands, at_ns),
    )


def _market_value(book: _Book, account: _Account, at_ns: int) -> Decimal:
    """The filled positions marked at each symbol's last close by ``at_ns``."""
    value = Decimal(0)
    for t in account.active:
        if t.entry is not None and t.entry_end_ns <= at_ns:
            px = book.last_close(t.sym_code, at_ns)
            if px is not None:
                value += Decimal(f"{px:.6f}") * t.intent.side.sign * t.intent.quantity
    return value


_REJECTION_COLUMNS = ["at", "intent_id", "symbol", "side", "quantity", "code", "reason"]


def _rejection_rows(at: Any, verdict: PreTradeResult) -> list[dict[str, Any]]:
    return [
        {
            "at": at,
            "intent_id": r.intent.intent_id,
            "symbol": r.intent.symbol,
            "side": r.intent.side.value,
            "quantity": r.intent.quantity,
            "code": r.code.value,
            "reason": r.text,
        }
        for r in verdict.rejections
    ]


def _book_trade(account: _Account, trade: _Trade) -> None:
    """The trade joins the account; its entry and exit cash flows are booked when they settle."""
    account.active.append(trade)
    if trade.entry is None:
        return
    q, sign = trade.intent.quantity, trade.intent.side.sign
    account.schedule(trade.entry_end_ns, -sign * q * trade.entry.price - trade.row["entry_fees"])
    if trade.exit is not None and trade.row["exit_reason"] != "open_at_end":
        account.schedule(trade.exit_end_ns, sign * q * trade.exit.price - trade.row["exit_fees"])


def _result(
    book: _Book,
    n_bars: int,
    trades: Sequence[_Trade],
    rejections: list[dict[str, Any]],
    strategy: Strategy,
    cfg: BacktestConfig,
    seconds: float,
) -> BacktestResult:
    trades_frame = pd.DataFrame([t.row for t in trades], columns=list(TRADE_COLUMNS))
    curve = _equity_curve(book, trades, cfg.initial_capital)
    stats = summary_stats(trades_frame, curve, cfg.initial_capital, n_bars, seconds)
    log.info(
        "research.backtest.done",
        strategy=strategy.name,
        bars=n_bars,
        trades=stats["trades"],
        seconds=round(seconds, 3),
        total_return=round(stats["total_return"], 6),
    )
    return BacktestResult(
        trades=trades_frame,
        equity=curve,
        rejections=pd.DataFrame(rejections, columns=_REJECTION_COLUMNS),
        stats=stats,
        strategy=strategy.describe(),
        config=cfg.describe(),
    )


def _play(book: _Book, intent: BracketIntent, at_ns: int, cfg: BacktestConfig) -> _Trade:
    """Play one approved bracket through the bars after ``at_ns``."""
    sym = book.index[intent.symbol]
    start = book.first_bar_at_or_after(sym, at_ns)
    at_day = (at_ns + _HK_OFFSET_NS) // NS_PER_DAY
    same_day = start < int(book.sym_end[sym]) and book.day[start] == at_day
    day_end = book.session_end(start) if same_day else start
    expiry_ns = int(book.end_ns[day_end - 1]) if same_day else at_ns
    trade = _Trade(
        intent=intent, sym_code=sym, placed_ns=at_ns, expiry_ns=expiry_ns, row=_placed_row(intent, at_ns)
    )
    entry = _entry(book, sym, intent, start, day_end, cfg) if same_day else None
    if entry is None:
        return trade
    _record_entry(book, trade, entry, cfg)
    _record_exit(book, trade, entry, _exit(book, sym, intent, entry, cfg), cfg)
    return trade


def _placed_row(intent: BracketIntent, at_ns: int) -> dict[str, Any]:
    """The trade row of a bracket placed at ``at_ns`` whose entry has not filled (yet)."""
    return {
        "intent_id": intent.intent_id,
        "symbol": intent.symbol,
        "side": intent.side.value,
        "quantity": intent.quantity,
        "placed_at": _to_hk_time(at_ns),
        "entry_limit": intent.entry,
        "stop": intent.stop,
        "target": intent.target,
        "score": intent.score,
        "reason": intent.reason,
        "entry_time": pd.NaT,
        "entry_price": None,
        "entry_reason": "expired",
        "entry_fees": Decimal(0),
        "exit_time": pd.NaT,
        "exit_price": None,
        "exit_reason": None,
        "exit_fees": Decimal(0),
        "gross_pnl": Decimal(0),
        "fees": Decimal(0),
        "net_pnl": Decimal(0),
    }


def _entry(
    book: _Book, sym: int, intent: BracketIntent, start: int, day_end: int, cfg: BacktestConfig
) -> Fill | None:
    """The DAY entry's fill in the bars ``start:day_end``, else in that day's closing auction."""
    entry = entry_fill(book.path, intent.side, intent.entry, start, day_end, table=book.tables[sym])
    if entry is None and cfg.closing_auction:
        entry = _auction_entry(book, sym, intent, day_end - 1)
    return entry


def _record_entry(book: _Book, trade: _Trade, entry: Fill, cfg: BacktestConfig) -> None:
    intent = trade.intent
    trade.entry = entry
    trade.entry_end_ns = int(book.end_ns[entry.index])
    trade.row.update(
        entry_time=_to_hk_time(trade.entry_end_ns),
        entry_price=entry.price,
        entry_reason=entry.reason,
        entry_fees=_fees(intent.symbol, intent.quantity, entry.price, trade.entry_end_ns, cfg.commission),
    )


def _exit(book: _Book, sym: int, intent: BracketIntent, entry: Fill, cfg: BacktestConfig) -> Fill:
    """The stop's or target's fill after ``entry``, else the close of the last bar it may be held on."""
    table = book.tables[sym]
    end = _hold_end(book, entry, cfg.max_hold_sessions, int(book.sym_end[sym]))
    exit_ = exit_fill(
        book.path,
        intent.side,
        intent.stop,
        intent.target,
        entry,
        end,
        table=table,
        slippage_ticks=cfg.slippage_ticks,
    )
    if exit_ is None:
        reason = "session_close" if cfg.max_hold_sessions else "open_at_end"
        exit_ = close_fill(book.path, end - 1, reason, table=table)
    return exit_


def _record_exit(book: _Book, trade: _Trade, entry: Fill, exit_: Fill, cfg: BacktestConfig) -> None:
    intent, row = trade.intent, trade.row
    trade.exit = exit_
    trade.exit_end_ns = int(book.end_ns[exit_.index])
    exit_fees = (
        Decimal(0)
        if exit_.reason == "open_at_end"
        else _fees(intent.symbol, intent.quantity, exit_.price, trade.exit_end_ns, cfg.commission)
    )
    gross = (exit_.price - entry.price) * intent.side.sign * intent.quantity
    fees = row["entry_fees"] + exit_fees
    row.update(
        exit_time=_to_hk_time(trade.exit_end_ns),
        exit_price=exit_.price,
        exit_reason=exit_.reason,
        exit_fees=exit_fees,
        gross_pnl=gross,
        fees=fees,
        net_pnl=gross - fees,
    )
    if exit_.reason == "open_at_end":
        trade.exit_end_ns = 2**62


def _auction_entry(book: _Book, sym: int, intent: BracketIntent, last: int) -> Fill | None:
    """The entry's fill in the closing auction after bar ``last``, when the security has a CAS and the
    bars reach the close (``fill_rules.auction_fill``)."""
    if not book.cas_eligible[sym] or not book.reaches_close(last):
        return None
    first = int(book.session_starts[np.searchsorted(book.session_starts, last, side="right") - 1])
    return auction_fill(book.path, intent.side, intent.entry, last, first=first, table=book.tables[sym])


def _hold_end(book: _Book, entry: Fill, sessions: int | None, sym_end: int) -> int:
    """One past the last bar the position may be held on: the symbol's end, or the N-th session's
    end, counted from the next session for an entry in the closing auction (its own day is over)."""
    if not sessions:
        return sym_end
    first = entry.index + 1 if entry.reason == AUCTION_REASON else entry.index
    return book.nth_session_end(first, sessions) if first < sym_end else sym_end


def _equity_curve(book: _Book, trades: Sequence[_Trade], initial: Decimal) -> pd.DataFrame:
    n = book.timeline.size
    cash_delta = np.zeros(n)
    market_value = np.zeros(n)
    gross = np.zeros(n)
    for t in trades:
        if t.entry is None:
            continue
        q, sign = t.intent.quantity, t.intent.side.sign
        te = int(book.tl_of_bar[t.entry.index])
        cash_delta[te] -= float(sign * q * t.entry.price + t.row["entry_fees"])
        assert t.exit is not None
        still_open = t.row["exit_reason"] == "open_at_end"
        tx = n if still_open else int(book.tl_of_bar[t.exit.index])
        if not still_open:
            cash_delta[tx] += float(sign * q * t.exit.price - t.row["exit_fees"])
        closes = book.close_matrix[te:tx, t.sym_code]
        market_value[te:tx] += sign * q * closes
        gross[te:tx] += q * closes
    cash = float(initial) + np.cumsum(cash_delta)
    equity = cash + market_value
    peak = np.maximum.accumulate(equity) if n else equity
    frame = pd.DataFrame(
        {
            "cash": cash,
            "market_value": market_value,
            "gross_exposure": gross,
            "equity": equity,
            "drawdown": equity / peak - 1.0 if n else equity,
        },
        index=pd.DatetimeIndex(pd.to_datetime(book.timeline, unit="ns", utc=True)).tz_convert(HK_TZ),
    )
    frame.index.name = "time"
    return frame


def backtest_day_verdict(
    bars: pd.DataFrame,
    strategy: Strategy,
    at: datetime,
    settings: Any | None = None,
    *,
    equity: Decimal,
    buying_power: Decimal | None = None,
    positions: Mapping[str, int] | None = None,
    open_entry_symbols: frozenset[str] = frozenset(),
    limits: RiskLimits | None = None,
    run_id: str = "backtest",
    risk_state: RiskState | None = None,
) -> PreTradeResult:
    """What the backtester would send at ``at``, with the pre-trade verdict on every intent."""
    lim = limits or (RiskLimits.from_settings(settings) if settings is not None else RiskLimits())
    bp = equity if buying_power is None else buying_power
    candidates = strategy.scan(bars, at)
    decision = decide(
        DecisionInputs(
            candidates=candidates,
            account=AccountView(equity=equity, buying_power=bp),
            now=to_hk(at),
            limits=lim,
            run_id=run_id,
            positions=dict(positions or {}),
            open_entry_symbols=open_entry_symbols,
            risk_state=risk_state or RiskState(),
            last=last_prices(bars, at, {c.symbol for c in candidates}),
        )
    )
    return decision.verdict


class DayAccount(TypedDict, total=False):
    """The keyword arguments of :func:`backtest_day`: the account and risk context of the decision,
    exactly as :func:`backtest_day_verdict` takes them (mypy checks that the two agree)."""

    equity: Required[Decimal]
    buying_power: Decimal | None
    positions: Mapping[str, int] | None
    open_entry_symbols: frozenset[str]
    limits: RiskLimits | None
    run_id: str
    risk_state: RiskState | None


def backtest_day(
    bars: pd.DataFrame,
    strategy: Strategy,
    at: datetime,
    settings: Any | None = None,
    **account: Unpack[DayAccount],
) -> list[BracketIntent]:
    """The brackets the backtester would send at ``at``: scan, size, pre-trade (parity with the cycle).

    Same steps, same function as one decision of :func:`run_backtest`, and as the trading cycle:
    ``strategy.scan`` -> :func:`catalyst.risk.decision.decide` (sizing, then the pre-trade checks,
    with ``risk_state``: a halt or symbol locks the cycle read from the ledger) with the limits from
    ``settings.risk`` (or ``limits``, e.g. with the cycle's overrides applied). Compare the result
    with the cycle's intents on (symbol, side, quantity, entry, stop, target), e.g. with
    :func:`intents_frame`; the cycle logs its inputs (``cycle.decision_inputs``). The keyword
    arguments are :func:`backtest_day_verdict`'s (:class:`DayAccount`).
    """
    return list(backtest_day_verdict(bars, strategy, at, settings, **account).approved)


def intents_frame(intents: Sequence[BracketIntent]) -> pd.DataFrame:
    """Intents as a comparable table (symbol, side, quantity, entry, stop, target), sorted by symbol."""
    rows = [
        {
            "symbol": i.symbol,
            "side": i.side.value,
            "quantity": i.quantity,
            "entry": i.entry,
            "stop": i.stop,
            "target": i.target,
        }
        for i in intents
    ]
    cols = ["symbol", "side", "quantity", "entry", "stop", "target"]
    return pd.DataFrame(rows, columns=cols).sort_values(["symbol", "side"]).reset_index(drop=True)


__all__ = [
    "BacktestConfig",
    "DayAccount",
    "backtest_day",
    "backtest_day_verdict",
    "intents_frame",
    "run_backtest",
]
