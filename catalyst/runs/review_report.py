"""The review of a day or a range: P&L, fills and fees, open positions and their protection, risk
events, alerts, reconciliations and the archive's runs, read from the ledger and the archive.

Values in, frames out; :mod:`catalyst.runs.review_charts` draws them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from catalyst.domain.order_status import FINAL, texts
from catalyst.market import HK_TZ
from catalyst.reconcile.ledger_book import BOOK_COLUMNS, ledger_positions
from catalyst.runs.archive import list_runs, verify_archive
from catalyst.runs.folder import day_of
from catalyst.runs.review_waits import order_waits
from catalyst.runs.errors import BadRunParameterError


@dataclass(frozen=True)
class ReviewPeriod:
    start: date
    end: date

    @property
    def label(self) -> str:
        return str(self.start) if self.start == self.end else f"{self.start} to {self.end}"

    def bounds(self) -> tuple[datetime, datetime]:
        """[start 00:00 HK, day after end 00:00 HK)."""
        return (
            datetime.combine(self.start, time(0), tzinfo=HK_TZ),
            datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=HK_TZ),
        )


def review_period(day: str = "", days: int = 1, *, today: date | None = None) -> ReviewPeriod:
    """``day`` (YYYY-MM-DD, empty = today in Hong Kong) and the ``days`` calendar days ending on it."""
    if days < 1:
        raise BadRunParameterError(f"days must be at least 1, got {days}")
    try:
        end = date.fromisoformat(day) if day else (today or datetime.now(HK_TZ).date())
    except ValueError:
        raise BadRunParameterError(f"day must be YYYY-MM-DD, got {day!r}") from None
    return ReviewPeriod(start=end - timedelta(days=days - 1), end=end)


def _average_cost_walk(
    fills: pd.DataFrame,
) -> tuple[list[int], list[float], dict[tuple[str, str], tuple[int, float]]]:
    """Signed quantity and realized P&L of each fill (in time order) by the average-cost method, and
    the book left at the end: (account, symbol) -> (position, average cost)."""
    signed, realized = [], []
    book: dict[tuple[str, str], tuple[int, float]] = {}
    for row in fills.to_dict("records"):
        key = (str(row["account"]), str(row["symbol"]))
        qty = int(row["quantity"]) * (1 if str(row["side"]) == "BUY" else -1)
        price = float(row["price"])
        pos, avg = book.get(key, (0, 0.0))
        pnl = 0.0
        if pos == 0 or (pos > 0) == (qty > 0):
            new = pos + qty
            avg = (avg * abs(pos) + price * abs(qty)) / abs(new)
            pos = new
        else:
            closing = min(abs(qty), abs(pos))
            pnl = closing * (price - avg) * (1 if pos > 0 else -1)
            rest = abs(qty) - closing
            pos = pos + qty
            if rest and pos != 0:
                avg = price  # flipped through zero: the remainder opens at this price
            elif pos == 0:
                avg = 0.0
        book[key] = (pos, avg)
        signed.append(qty)
        realized.append(pnl)
    return signed, realized, book


def realized_pnl(fills: pd.DataFrame) -> pd.DataFrame:
    """Realized P&L of each fill by the average-cost method, per (account, symbol), in time order.

    Columns added: ``signed_qty``, ``realized`` (before fees), ``net`` (realized minus the fill's fees).
    """
    if fills.empty:
        return fills.assign(
            signed_qty=pd.Series(dtype="int64"),
            realized=pd.Series(dtype="float64"),
            net=pd.Series(dtype="float64"),
        )
    out = fills.sort_values("ts").copy()
    signed, realized, _ = _average_cost_walk(out)
    out["signed_qty"] = signed
    out["realized"] = realized
    out["net"] = out["realized"] - pd.to_numeric(out["fees"], errors="coerce").fillna(0.0).astype(float)
    return out


def cost_basis(fills: pd.DataFrame) -> pd.DataFrame:
    """What the fills leave open per (account, symbol): signed quantity and average cost (before
    fees), by the same average-cost method as the realized P&L."""
    cols = ["account", "symbol", "quantity", "avg_cost"]
    if fills.empty:
        return pd.DataFrame(columns=cols)
    _, _, book = _average_cost_walk(fills.sort_values("ts"))
    rows = [(a, s, q, avg) for (a, s), (q, avg) in book.items() if q != 0]
    return pd.DataFrame(rows, columns=cols)


#: The prices open positions are marked at (see :mod:`catalyst.runs.review_marks`).
MARK_COLUMNS = ["symbol", "price", "as_of", "source"]


def _no_marks() -> pd.DataFrame:
    return pd.DataFrame(columns=MARK_COLUMNS)


@dataclass(frozen=True)
class ReviewData:
    period: ReviewPeriod
    fills: pd.DataFrame
    orders: pd.DataFrame
    positions: pd.DataFrame
    risk_events: pd.DataFrame
    alerts: pd.DataFrame
    reconciliations: pd.DataFrame
    runs: pd.DataFrame
    #: the last price of each open symbol (``MARK_COLUMNS``); empty: not marked
    marks: pd.DataFrame = field(default_factory=_no_marks)
    #: the broker's statuses of the period's orders (the ledger's ``order_events``)
    order_events: pd.DataFrame = field(default_factory=pd.DataFrame)

    def with_marks(self, marks: pd.DataFrame) -> ReviewData:
        """The same review with its open positions marked at ``marks``."""
        return replace(self, marks=marks)

    def open_symbols(self) -> list[str]:
        pos = self.positions
        return sorted({str(s) for s in pos.loc[pos["quantity"] != 0, "symbol"]}) if not pos.empty else []

    def _in_period(self, frame: pd.DataFrame, col: str = "ts") -> pd.DataFrame:
        if frame.empty:
            return frame
        lo, hi = self.period.bounds()
        ts = pd.to_datetime(frame[col], utc=True)
        return frame.loc[(ts >= pd.Timestamp(lo)) & (ts < pd.Timestamp(hi))]

    def period_fills(self) -> pd.DataFrame:
        """Fills of the period with realized P&L (cost basis from every earlier fill too)."""
        return self._in_period(realized_pnl(self.fills))

    def pnl_by_day(self) -> pd.DataFrame:
        f = self.period_fills()
        cols = ["day", "fills", "realized", "fees", "net"]
        if f.empty:
            return pd.DataFrame(columns=cols)
        f = f.assign(
            day=pd.to_datetime(f["ts"], utc=True).dt.tz_convert(HK_TZ).dt.date,
            fees=pd.to_numeric(f["fees"], errors="coerce").fillna(0.0).astype(float),
        )
        g = (
            f.groupby("day")
            .agg(
                fills=("exec_id", "count"),
                realized=("realized", "sum"),
                fees=("fees", "sum"),
                net=("net", "sum"),
            )
            .reset_index()
        )
        return g[cols]

    def equity_curve(self) -> pd.DataFrame:
        """By day: net realized P&L (after fees), its running total, and the change in equity with the
        open positions marked at their last price (their unrealized P&L, on the period's last day)."""
        d = self.pnl_by_day()
        unrealized = self.unrealized_total()
        if d.empty and not unrealized:
            return d.assign(cumulative_net=[], unrealized=[], equity_change=[])
        if d.empty or d["day"].iloc[-1] != self.period.end:
            end = pd.DataFrame(
                [{"day": self.period.end, "fills": 0, "realized": 0.0, "fees": 0.0, "net": 0.0}]
            )
            d = pd.concat([d, end], ignore_index=True) if not d.empty else end
        d = d.assign(cumulative_net=d["net"].astype(float).cumsum())
        marked = [0.0] * (len(d) - 1) + [unrealized]
        return d.assign(
            unrealized=marked, equity_change=d["cumulative_net"] + pd.Series(marked, index=d.index)
        )

    def pnl_by_symbol(self) -> pd.DataFrame:
        f = self.period_fills()
        cols = ["symbol", "fills", "bought", "sold", "realized", "fees", "net"]
        if f.empty:
            return pd.DataFrame(columns=cols)
        f = f.assign(
            fees=pd.to_numeric(f["fees"], errors="coerce").fillna(0.0).astype(float),
            bought=f["signed_qty"].clip(lower=0),
            sold=(-f["signed_qty"]).clip(lower=0),
        )
        g = f.groupby("symbol").agg(
            fills=("exec_id", "count"),
            bought=("bought", "sum"),
            sold=("sold", "sum"),
            realized=("realized", "sum"),
            fees=("fees", "sum"),
            net=("net", "sum"),
        )
        return g.reset_index()[cols]

    def fills_table(self) -> pd.DataFrame:
        cols = ["ts", "symbol", "side", "quantity", "price", "fees", "realized", "order_ref", "exec_id"]
        f = self.period_fills()
        return f[cols] if not f.empty else pd.DataFrame(columns=cols)

    def open_positions(self) -> pd.DataFrame:
        """Open positions with their average cost, unrealized P&L at the last price, and their
        protective orders at the broker (as the ledger last saw them).

        The average cost is the ledger's (a reconciliation records the broker's), else the fills'
        (average-cost method, as for the realized P&L); the unrealized P&L is (last - average cost)
        x signed quantity, before the fees of closing.
        """
        cols = [
            "account",
            "symbol",
            "quantity",
            "avg_cost",
            "last",
            "unrealized",
            "marked_at",
            "stop_price",
            "target_price",
            "stop_order",
            "target_order",
            "protected",
        ]
        pos = self.positions
        if pos.empty:
            return pd.DataFrame(columns=cols)
        pos = pos.loc[pos["quantity"] != 0].copy()
        working = (
            self.orders.loc[~self.orders["status"].isin(texts(FINAL))]
            if not self.orders.empty
            else self.orders
        )

        def leg(row: Any, role: str) -> str:
            if working.empty:
                return ""
            m = working.loc[(working["symbol"].astype(str) == str(row.symbol)) & (working["role"] == role)]
            return ", ".join(f"{r.order_ref} ({r.status})" for r in m.itertuples()) if len(m) else ""

        basis: dict[tuple[str, str], float | None] = {
            (str(r.account), str(r.symbol)): _number(r.avg_cost) for r in cost_basis(self.fills).itertuples()
        }
        marks = {str(r.symbol): r for r in self.marks.itertuples()} if not self.marks.empty else {}
        costs: list[float | None] = [
            _number(r.avg_cost)
            if _number(r.avg_cost) is not None
            else basis.get((str(r.account), str(r.symbol)))
            for r in pos.itertuples()
        ]
        pos["avg_cost"] = costs
        pos["last"] = [_number(marks[str(s)].price) if str(s) in marks else None for s in pos["symbol"]]
        pos["marked_at"] = [str(marks[str(s)].as_of) if str(s) in marks else "" for s in pos["symbol"]]
        pos["unrealized"] = [
            round((last - avg) * int(q), 2) if last is not None and avg is not None else None
            for last, avg, q in zip(pos["last"], pos["avg_cost"], pos["quantity"], strict=True)
        ]
        pos["stop_order"] = [leg(r, "stop_loss") for r in pos.itertuples()]
        pos["target_order"] = [leg(r, "take_profit") for r in pos.itertuples()]
        pos["protected"] = pos["stop_order"] != ""
        return pos.reindex(columns=cols)

    def unrealized_total(self) -> float:
        """Unrealized P&L of the open positions that have a price (HKD); 0.0 when none has."""
        values = [v for v in self.open_positions()["unrealized"] if v is not None and v == v]
        return round(float(sum(values)), 2)

    def waits(self) -> pd.DataFrame:
        """Orders that waited for an HKEX window in the period: a cancel held ``PendingCancel``, an
        order held by IB after a 399; since when, until when, how long (``review_waits``)."""
        return order_waits(self._in_period(self.order_events))

    def period_risk_events(self) -> pd.DataFrame:
        return self._in_period(self.risk_events)

    def period_alerts(self) -> pd.DataFrame:
        return self._in_period(self.alerts)

    def period_reconciliations(self) -> pd.DataFrame:
        return self._in_period(self.reconciliations)

    def summary(self) -> pd.DataFrame:
        d = self.pnl_by_day()
        recs = self.period_reconciliations()
        unclean = int((recs["status"] != "clean").sum()) if len(recs) else 0
        opened = self.open_positions()
        rows = [
            ("period", self.period.label),
            ("runs archived", len(self.runs)),
            ("runs failed", int((self.runs["status"] == "failed").sum()) if len(self.runs) else 0),
            ("fills", int(d["fills"].sum()) if len(d) else 0),
            ("realized P&L before fees (HKD)", round(float(d["realized"].sum()), 2) if len(d) else 0.0),
            ("fees (HKD)", round(float(d["fees"].sum()), 2) if len(d) else 0.0),
            ("net realized P&L (HKD)", round(float(d["net"].sum()), 2) if len(d) else 0.0),
            ("open positions", len(opened)),
            ("unrealized P&L at the last price (HKD)", self._unrealized_text(opened)),
            ("unprotected open positions", int((~opened["protected"].astype(bool)).sum())),
            ("orders that waited for an HKEX window", len(self.waits())),
            ("risk events", len(self.period_risk_events())),
            ("alerts", len(self.period_alerts())),
            ("reconciliations (not clean)", f"{len(recs)} ({unclean})"),
        ]
        return pd.DataFrame([(k, str(v)) for k, v in rows], columns=["item", "value"])

    def _unrealized_text(self, opened: pd.DataFrame) -> str:
        if opened.empty:
            return "0.0"
        missing = [str(s) for s, v in zip(opened["symbol"], opened["unrealized"], strict=True) if v is None]
        total = self.unrealized_total()
        if len(missing) == len(opened):
            return "not marked: no last price (the gateway was not reachable)"
        return f"{total}" + (f" (no price for {', '.join(missing)})" if missing else "")


def _number(value: Any) -> float | None:
    """A price or cost as a float; None for a missing value (None, NaN, NA)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number


def archive_runs(runs_dir: Path, period: ReviewPeriod, *, current_run_id: str = "") -> pd.DataFrame:
    """The archive's runs in the period with their status and whether they still verify (the run
    doing the review is left out: it is sealed only after it finishes)."""
    report = verify_archive(runs_dir)
    broken = {r for r in report.broken_runs() if not r.endswith(current_run_id[-6:] or "?")}
    rows = []
    for r in list_runs(runs_dir):
        if r.run_id == current_run_id:
            continue
        day = day_of(r.path)
        if not period.start <= day <= period.end:
            continue
        m = r.manifest
        rows.append(
            {
                "run": r.relative,
                "kind": m.kind if m else "?",
                "mode": m.mode if m else "?",
                "status": m.status if m else "unsealed",
                "verifies": r.relative not in broken,
                "failure": (
                    f"In [{m.failure.cell}] {m.failure.ename}: {m.failure.evalue[:120]}"
                    if m and m.failure
                    else ""
                ),
            }
        )
    return pd.DataFrame(rows, columns=["run", "kind", "mode", "status", "verifies", "failure"])


def strategy_fingerprints(runs_dir: Path) -> dict[str, str]:
    """Run id -> the fingerprint of the strategy code its manifest recorded (runs naming one)."""
    found: dict[str, str] = {}
    for r in list_runs(runs_dir):
        strategy = (r.manifest.summary.get("strategy") or {}) if r.manifest else {}
        if isinstance(strategy, dict) and strategy.get("fingerprint"):
            found[r.run_id] = str(strategy["fingerprint"])
    return found


def book_positions(ledger: Any, account: str) -> pd.DataFrame:
    """Open positions by the ledger (positions rolled forward by later fills), for ``account`` or,
    when none is configured, for every account the ledger has seen."""
    accounts = (
        [account]
        if account
        else [
            str(a)
            for a in ledger.query(
                "SELECT DISTINCT account FROM fills WHERE account IS NOT NULL "
                "UNION SELECT DISTINCT account FROM positions WHERE account IS NOT NULL"
            )["account"]
        ]
    )
    frames = [ledger_positions(ledger, a) for a in accounts]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=BOOK_COLUMNS)


def load_review(
    ledger: Any, runs_dir: Path, period: ReviewPeriod, *, account: str = "", current_run_id: str = ""
) -> ReviewData:
    """Read everything the review shows. Fills are read up to the period's end (for cost basis)."""
    lo, hi = period.bounds()
    acct = "AND (? = '' OR coalesce(account, '') = ?)"
    a = [account, account]
    return ReviewData(
        period=period,
        fills=ledger.query(f"SELECT * FROM fills WHERE ts < ? {acct} ORDER BY ts", [hi, *a]),
        orders=ledger.query(f"SELECT * FROM orders WHERE 1=1 {acct}", a),
        positions=book_positions(ledger, account),
        risk_events=ledger.query(
            f"SELECT ts, kind, severity, symbol, message FROM risk_events WHERE ts >= ? "
            f"AND ts < ? {acct} ORDER BY ts",
            [lo, hi, *a],
        ),
        alerts=ledger.query(
            "SELECT ts, severity, title, body, delivered, failure FROM alerts WHERE ts >= ? "
            "AND ts < ? ORDER BY ts",
            [lo, hi],
        ),
        reconciliations=ledger.query(
            f"SELECT ts, run_id, status, broker_positions, ledger_positions, "
            f"discrepancies FROM reconciliations WHERE ts >= ? AND ts < ? {acct} "
            "ORDER BY ts",
            [lo, hi, *a],
        ),
        runs=archive_runs(runs_dir, period, current_run_id=current_run_id),
        order_events=ledger.query(
            "SELECT ts, order_ref, perm_id, status, error_code, error_message FROM order_events "
            "WHERE ts >= ? AND ts < ? AND (? = '' OR order_ref IN (SELECT order_ref FROM orders "
            "WHERE coalesce(account, '') = ?)) ORDER BY ts",
            [lo, hi, *a],
        ),
    )
