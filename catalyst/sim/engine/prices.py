"""Synthetic, deterministic SEHK prices: one trade a second through every continuous session.

**The data is synthetic.** It is generated from a seed, not recorded; contract long names carry
" (SIM)" so nobody mistakes it for market data.

The price of a stock at a moment is a pure function of ``(seed, symbol, time)``:

* **Days.** From :data:`ANCHOR` on, each trading day ``i`` has an open and a close drawn from a
  per-symbol random stream: an overnight gap, a daily return with a weak pull back towards the
  universe's reference price, or the seed price of ``sim_contracts.seed_price`` for a security
  without one (so levels stay plausible for years), and on about
  :data:`CATALYST_PROBABILITY` of days a *catalyst*: a jump of 2-6 daily standard deviations, either
  overnight (a gap at the open) or at a random moment of the session, with a volume surge after it.
* **Seconds.** Inside a day the log price follows a Brownian bridge from the open to the close with a
  U-shaped variance profile (busy at the open and the close, quiet at midday), plus the catalyst
  step. It is drawn from a stream seeded by ``(seed, conId, day)``, so any day can be rebuilt alone.
* **Ticks.** Every printed price is snapped to the dated HKEX ladder of the stock
  (``catalyst.market.ladder``), stored as integer thousandths of a dollar. Quotes are one tick wide
  around the last trade; the side that traded alternates at random.
* **Volume.** Each second prints at least one board lot; the rate follows the same U shape, is
  scaled to the stock's typical daily turnover and multiplied after a catalyst.

Bars are aggregated from exactly the seconds the live quotes are read from, so historical bars and
the live path agree by construction, and a restarted simulator reproduces the same prices.
Outside continuous trading (pre-open, lunch, closing auction, closed) the last price stands.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from catalyst.market import HK_TZ, ladder, snap_to_tick, to_hk
from catalyst.market.calendar import TradingDay, session_for, sessions_between
from catalyst.sim.engine.contracts import LISTINGS, ListedStock, listed_codes
from catalyst.sim.engine.errors import UnknownSimContractError
from catalyst.sim.engine.model import Bar, Quote

#: The first day the synthetic history covers; bars before it are empty.
ANCHOR = date(2020, 1, 2)
LAST_DAY = date(2028, 12, 29)
CATALYST_PROBABILITY = 0.05
MEAN_REVERSION = 0.02  # per day, towards the reference price
FULL_DAY_SECONDS = 19_800  # 5.5 hours of continuous trading
MILLI = 1000
_TINY = Decimal("0.0001")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def price_from_milli(value: int) -> Decimal:
    """An integer number of thousandths of a dollar as an exact, tidy Decimal (600000 -> 600)."""
    d = (Decimal(int(value)) / MILLI).normalize()
    return d if d.as_tuple().exponent <= 0 else d.quantize(Decimal(1))  # type: ignore[operator]


def epoch(ts: datetime) -> float:
    return to_hk(ts).timestamp()


def from_epoch(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=HK_TZ)


def _mix(*parts: int) -> int:
    """A 64-bit hash of integers (splitmix64 rounds): cheap, stable across runs and platforms."""
    x = 0x9E3779B97F4A7C15
    mask = (1 << 64) - 1
    for p in parts:
        x = (x ^ (p & mask)) & mask
        x = (x + 0x9E3779B97F4A7C15) & mask
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & mask
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & mask
        x ^= x >> 31
    return x


def unit_hash(*parts: int) -> float:
    """A deterministic number in [0, 1) from integers."""
    return _mix(*parts) / float(1 << 64)


@dataclass(frozen=True)
class DayChain:
    """Open and close (log) of every trading day from the anchor, and its catalyst, for one stock."""

    days: list[date]
    index: dict[date, int]
    log_open: FloatArray
    log_close: FloatArray
    intraday_jump: FloatArray  # log jump inside the session (0 if none)
    catalyst: BoolArray
    overnight: BoolArray


@dataclass(frozen=True)
class DayPath:
    """Every second of continuous trading of one stock on one day."""

    day: date
    session: TradingDay
    ts: IntArray  # epoch seconds of each print
    price: IntArray  # thousandths of a dollar, on the tick ladder
    volume: IntArray  # shares, whole board lots
    buyer: BoolArray  # True: printed at the ask (buyer-initiated)
    rate: FloatArray  # expected lots per second (drives book depth)
    cum_volume: IntArray
    high: IntArray  # running high
    low: IntArray  # running low

    def step_at(self, t: float) -> int:
        """Index of the last print at or before ``t`` (-1 before the first)."""
        return int(np.searchsorted(self.ts, math.floor(t), side="right")) - 1


def _snap_milli(x: FloatArray, day: date, table: str) -> IntArray:
    lad = ladder(on=day, table=table)
    edges = np.array([float(lo) for lo, _ in lad])
    incs = np.array([int(inc * MILLI) for _, inc in lad], dtype=np.int64)
    band = np.clip(np.searchsorted(edges, x, side="left") - 1, 0, len(lad) - 1)
    inc = incs[band]
    out: IntArray = (np.rint(x * MILLI / inc).astype(np.int64) * inc).astype(np.int64)
    return np.maximum(out, incs[0])


#: Paths and day chains depend only on (seed, symbol, day) unless a shock moved them: shared by
#: every PriceModel of the process, so a test suite builds each day once.
_SHARED_CHAINS: dict[tuple[int, str], DayChain] = {}
_SHARED_PATHS: OrderedDict[tuple[int, str, date], DayPath] = OrderedDict()
_SHARED_PATH_LIMIT = 100  # about 1 MB each


class PriceModel:
    """Prices, quotes, book depth and bars of every listed stock for one seed."""

    def __init__(self, seed: int, *, path_cache: int = 32) -> None:
        self.seed = int(seed)
        self._chains: dict[str, DayChain] = {}
        self._paths: OrderedDict[tuple[str, date], DayPath] = OrderedDict()
        self._path_cache = path_cache
        self._daily: dict[tuple[str, date], Bar] = {}
        self._all_days: list[date] | None = None
        #: price shocks (``Exchange.move_price``): symbol -> [(from epoch second, log factor)]
        self.shocks: dict[str, list[tuple[int, float]]] = {}

    def add_shock(self, symbol: str, from_t: int, log_factor: float) -> None:
        """Shift every print of ``symbol`` from ``from_t`` on by ``log_factor`` (a test's shock)."""
        self.shocks.setdefault(symbol, []).append((int(from_t), float(log_factor)))
        first = from_epoch(from_t).date()
        for key in [k for k in self._paths if k[0] == symbol and k[1] >= first]:
            del self._paths[key]
        for key in [k for k in self._daily if k[0] == symbol and k[1] >= first]:
            del self._daily[key]

    # --- the day chain ------------------------------------------------------------------------

    def trading_days(self) -> list[date]:
        if self._all_days is None:
            self._all_days = sessions_between(ANCHOR, LAST_DAY)
        return self._all_days

    def listing(self, symbol: str) -> ListedStock:
        try:
            return LISTINGS[symbol]
        except KeyError:
            raise UnknownSimContractError(
                f"the simulator lists no stock {symbol!r}; it lists {listed_codes()}"
            ) from None

    def chain(self, symbol: str) -> DayChain:
        cached = self._chains.get(symbol) or _SHARED_CHAINS.get((self.seed, symbol))
        if cached is not None:
            self._chains[symbol] = cached
            return cached
        stock = self.listing(symbol)
        days = self.trading_days()
        n = len(days)
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([self.seed, stock.con_id, 0])))
        z_gap, z_ret, z_jump = rng.standard_normal((3, n))
        u_cat, u_kind = rng.random((2, n))
        vol = stock.daily_vol
        log_ref = math.log(float(stock.ref_price))
        lo = np.empty(n)
        lc = np.empty(n)
        jin = np.zeros(n)
        cat = u_cat < CATALYST_PROBABILITY
        overnight = cat & (u_kind < 0.4)
        prev = log_ref
        for i in range(n):
            jump = math.copysign(vol * (2.0 + 4.0 * min(abs(z_jump[i]), 1.0)), z_jump[i]) if cat[i] else 0.0
            o = prev + 0.35 * vol * z_gap[i] + (jump if overnight[i] else 0.0)
            ji = jump if cat[i] and not overnight[i] else 0.0
            c = o + 0.85 * vol * z_ret[i] - MEAN_REVERSION * (prev - log_ref) + ji
            lo[i], lc[i], jin[i] = o, c, ji
            prev = c
        result = DayChain(days, {d: i for i, d in enumerate(days)}, lo, lc, jin, cat, overnight)
        self._chains[symbol] = result
        _SHARED_CHAINS[(self.seed, symbol)] = result
        return result

    # --- one day, second by second ------------------------------------------------------------

    def path(self, symbol: str, day: date) -> DayPath | None:
        """The day's prints, or None when HKEX does not trade that day (or it is outside the history)."""
        key = (symbol, day)
        cached = self._paths.get(key)
        if cached is not None:
            self._paths.move_to_end(key)
            return cached
        shared_key = (self.seed, symbol, day)
        shareable = symbol not in self.shocks
        if shareable and shared_key in _SHARED_PATHS:
            _SHARED_PATHS.move_to_end(shared_key)
            return _SHARED_PATHS[shared_key]
        chain = self.chain(symbol)
        i = chain.index.get(day)
        if i is None:
            return None
        session = session_for(day)
        assert session is not None
        built = self._build_path(self.listing(symbol), chain, i, session)
        if shareable:
            _SHARED_PATHS[shared_key] = built
            if len(_SHARED_PATHS) > _SHARED_PATH_LIMIT:
                _SHARED_PATHS.popitem(last=False)
            return built
        self._paths[key] = built
        if len(self._paths) > self._path_cache:
            self._paths.popitem(last=False)
        return built

    def _build_path(self, stock: ListedStock, chain: DayChain, i: int, td: TradingDay) -> DayPath:
        day = chain.days[i]
        morning_end = td.break_start or td.close
        parts = [np.arange(int(td.open.timestamp()), int(morning_end.timestamp()), dtype=np.int64)]
        if td.break_end is not None:
            parts.append(np.arange(int(td.break_end.timestamp()), int(td.close.timestamp()), dtype=np.int64))
        ts = np.concatenate(parts)
        n = len(ts)
        rng = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence([self.seed, stock.con_id, 1, day.toordinal()]))
        )
        x = (np.arange(n) + 0.5) / n
        shape = (2.0 * x - 1.0) ** 2
        w = 0.55 + 1.8 * shape
        z = rng.standard_normal(n)
        v = np.cumsum(w) / w.sum()
        walk = np.cumsum(np.sqrt(w / w.sum()) * z)
        bridge = walk - v * walk[-1]
        lo, lc, jump = chain.log_open[i], chain.log_close[i], chain.intraday_jump[i]
        k_tau = int(rng.integers(n // 10, n - n // 10))
        step = np.where(np.arange(n) >= k_tau, jump, 0.0)
        logp = lo + v * (lc - lo - jump) + step + 1.2 * stock.daily_vol * bridge
        for from_t, factor in self.shocks.get(stock.symbol, ()):
            logp = logp + np.where(ts >= from_t, factor, 0.0)
        price = _snap_milli(np.exp(logp), day, stock.spread_table)
        buyer = rng.random(n) < 0.5
        lots_per_day = stock.turnover_hkd_m * 1e6 / (math.exp(lo) * stock.board_lot)
        # busy and quiet days
        day_activity = 0.7 + 0.6 * unit_hash(self.seed, stock.con_id, day.toordinal(), 7)
        base = day_activity * lots_per_day / FULL_DAY_SECONDS
        intensity = (0.5 + 1.5 * shape) / (0.5 + 1.5 / 3.0)
        surge = np.ones(n)
        if chain.catalyst[i]:
            start = 0 if chain.overnight[i] else k_tau
            after = np.arange(n) - start
            surge = np.where(after >= 0, 1.0 + 7.0 * np.exp(-np.maximum(after, 0) / 600.0), 1.0)
        rate = np.maximum(base * intensity * surge - 1.0, 0.05)
        lots = rng.poisson(rate) + 1
        volume = (lots * stock.board_lot).astype(np.int64)
        return DayPath(
            day=day,
            session=td,
            ts=ts,
            price=price,
            volume=volume,
            buyer=buyer,
            rate=rate + 1.0,
            cum_volume=np.cumsum(volume),
            high=np.maximum.accumulate(price),
            low=np.minimum.accumulate(price),
        )

    # --- prices at a moment -------------------------------------------------------------------

    def previous_trading_day(self, day: date) -> date | None:
        """The last trading day strictly before ``day`` (None before the anchor)."""
        days = self.trading_days()
        k = bisect.bisect_left(days, day) - 1
        return days[k] if k >= 0 else None

    def close_milli(self, symbol: str, day: date) -> int:
        """Closing print of ``day`` (a trading day)."""
        p = self.path(symbol, day)
        assert p is not None
        return int(p.price[-1])

    def last_print(self, symbol: str, t: float) -> tuple[DayPath | None, int]:
        """(path, step) of the last print at or before ``t``; step -1 means the previous close stands."""
        day = from_epoch(t).date()
        p = self.path(symbol, day)
        if p is not None:
            k = p.step_at(t)
            if k >= 0:
                return p, k
        prev = self.previous_trading_day(day)
        if prev is None:
            return None, -1
        pp = self.path(symbol, prev)
        assert pp is not None
        return pp, len(pp.ts) - 1

    def last_price(self, symbol: str, t: float) -> Decimal:
        p, k = self.last_print(symbol, t)
        if p is None:
            return self.listing(symbol).ref_price
        return price_from_milli(int(p.price[k]))

    def next_up(self, symbol: str, price: Decimal, day: date) -> Decimal:
        return snap_to_tick(price + _TINY, "up", on=day, table=self.listing(symbol).spread_table)

    def next_down(self, symbol: str, price: Decimal, day: date) -> Decimal:
        return snap_to_tick(price - _TINY, "down", on=day, table=self.listing(symbol).spread_table)

    def touch(self, symbol: str, t: float) -> tuple[Decimal, Decimal, DayPath | None, int]:
        """(bid, ask, path, step) at ``t``: one tick wide around the last print."""
        p, k = self.last_print(symbol, t)
        day = from_epoch(t).date()
        last = self.last_price(symbol, t)
        buyer = bool(p.buyer[k]) if p is not None else True
        if buyer:
            return self.next_down(symbol, last, day), last, p, k
        return last, self.next_up(symbol, last, day), p, k

    def level_size(self, symbol: str, path: DayPath | None, step: int, level: int, *, ask: bool) -> int:
        """Shares resting at ``level`` (0 = best) of one side of the synthetic book: whole lots."""
        stock = self.listing(symbol)
        rate = float(path.rate[step]) if path is not None and step >= 0 else 2.0
        t = int(path.ts[step]) if path is not None and step >= 0 else 0
        f = 0.6 + 0.8 * unit_hash(self.seed, stock.con_id, t, level, int(ask))
        return max(1, round(rate * (3 + 2 * level) * f)) * stock.board_lot

    def quote(self, symbol: str, t: float) -> Quote:
        """Bid, ask, last and the day's statistics at ``t`` (pre-open/closed: the last close stands)."""
        stock = self.listing(symbol)
        bid, ask, path, k = self.touch(symbol, t)
        day = from_epoch(t).date()
        today = path is not None and path.day == day
        last = self.last_price(symbol, t)
        if today and path is not None:
            before = self.previous_trading_day(path.day)
            prev_close = price_from_milli(self.close_milli(symbol, before)) if before else last
            o = price_from_milli(int(path.price[0]))
            hi = price_from_milli(int(path.high[k]))
            lw = price_from_milli(int(path.low[k]))
            vol = int(path.cum_volume[k])
            last_size = int(path.volume[k])
        else:
            # before today's open (or a closed day): the last close stands, and it is the previous close
            prev_day = path.day if path is not None else None
            prev_close = price_from_milli(self.close_milli(symbol, prev_day)) if prev_day else last
            o = hi = lw = last
            vol = 0
            last_size = 0
        bid_size = self.level_size(symbol, path, k, 0, ask=False)
        ask_size = self.level_size(symbol, path, k, 0, ask=True)
        return Quote(
            symbol=symbol,
            con_id=stock.con_id,
            bid=bid,
            ask=ask,
            last=last,
            bid_size=bid_size,
            ask_size=ask_size,
            last_size=last_size,
            volume=vol,
            open=o,
            high=hi,
            low=lw,
            prev_close=prev_close,
            time=from_epoch(float(path.ts[k])) if path is not None and k >= 0 else from_epoch(t),
        )

    # --- bars ---------------------------------------------------------------------------------

    def _bar(self, path: DayPath, lo: int, hi: int, start: datetime) -> Bar:
        prices = path.price[lo:hi]
        vols = path.volume[lo:hi]
        total = int(vols.sum())
        wap_milli = Decimal(int((prices * vols).sum())) / Decimal(total) / MILLI
        return Bar(
            time=start,
            open=price_from_milli(int(prices[0])),
            high=price_from_milli(int(prices.max())),
            low=price_from_milli(int(prices.min())),
            close=price_from_milli(int(prices[-1])),
            volume=total,
            wap=wap_milli.quantize(Decimal("0.0001")),
            count=hi - lo,
        )

    def day_bar(self, symbol: str, day: date) -> Bar | None:
        key = (symbol, day)
        bar = self._daily.get(key)
        if bar is None:
            path = self.path(symbol, day)
            if path is None:
                return None
            bar = self._bar(path, 0, len(path.ts), datetime(day.year, day.month, day.day, tzinfo=HK_TZ))
            self._daily[key] = bar
        return bar

    def bars_between(self, symbol: str, start: float, end: float, size_s: int | None) -> list[Bar]:
        """Bars of ``size_s`` seconds (None = one per day) over prints with start <= ts <= end."""
        self.listing(symbol)
        first = max(from_epoch(start).date(), ANCHOR)
        last = min(from_epoch(end).date(), LAST_DAY)
        if first > last:
            return []
        out: list[Bar] = []
        for day in sessions_between(first, last):
            if size_s is None:
                td = session_for(day)
                if td is not None and start <= td.open.timestamp() and end >= td.close.timestamp() - 1:
                    whole = self.day_bar(symbol, day)  # cached: a year of daily bars is built once
                    if whole is not None:
                        out.append(whole)
                    continue
            path = self.path(symbol, day)
            if path is None:
                continue
            lo = int(np.searchsorted(path.ts, math.ceil(start), side="left"))
            hi = int(np.searchsorted(path.ts, math.floor(end), side="right"))
            if hi <= lo:
                continue
            midnight = datetime(day.year, day.month, day.day, tzinfo=HK_TZ)
            if size_s is None:
                if lo == 0 and hi == len(path.ts):
                    bar = self.day_bar(symbol, day)
                    assert bar is not None
                    out.append(bar)
                else:
                    out.append(self._bar(path, lo, hi, midnight))
                continue
            base = int(midnight.timestamp())
            keys = (path.ts[lo:hi] - base) // size_s
            cuts = np.flatnonzero(np.diff(keys)) + 1
            bounds = [0, *cuts.tolist(), hi - lo]
            for a, b in itertools.pairwise(bounds):
                start_dt = from_epoch(float(base + int(keys[a]) * size_s))
                out.append(self._bar(path, lo + a, lo + b, start_dt))
        return out
