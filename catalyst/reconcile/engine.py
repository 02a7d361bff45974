"""Reconciliation at the edges: read the broker and the ledger, diff, correct the ledger, record.

The broker is the source of truth (rule 6): the ledger is corrected to the broker, never the
other way round. Every run leaves a ``reconciliations`` row and one ``discrepancies`` row per
finding with the correction made. A symbol whose difference the missing fills don't explain
is locked (a ``symbol_locked`` risk event, which the pre-trade checks honour) until a later
reconciliation comes out clean or a person unlocks it.

Orders too: every broker order (open or completed, any client id) with a Catalyst orderRef that
the ledger lacks is adopted into it, linked to its intent (``order_adoption``); and what a dead
process left half-done (runs ``running``, intents ``submitted``) is closed out (``closeout``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd
import structlog

from catalyst.reconcile.closeout import CloseOut, close_out
from catalyst.reconcile.errors import (
    ReconcileInputError,
    ReconciliationFailedError,
    TradingBlockedError,
)
from catalyst.reconcile.ledger_book import ledger_positions
from catalyst.reconcile.order_adoption import AdoptionResult, adopt_orders, catalyst_orders
from catalyst.reconcile.recon_diff import (
    MISSING_FILL,
    ORPHAN,
    PHANTOM,
    QUANTITY_MISMATCH,
    diff_positions,
    missing_executions,
    signed_quantity,
)

if TYPE_CHECKING:
    from catalyst.ledger import Ledger

log = structlog.get_logger(__name__)

#: (severity, title, body, dedup_key) -> None; the caller's alerter (reconcile cannot import risk).
AlertFn = Callable[[str, str, str, str], object]


class BrokerReader(Protocol):
    """The part of ``catalyst.broker.BrokerSession`` a reconciliation reads."""

    async def positions(self) -> pd.DataFrame: ...

    async def executions(self) -> pd.DataFrame: ...

    async def orders(self) -> pd.DataFrame: ...


@dataclass(frozen=True)
class BrokerView:
    """What the broker reported, as plain frames (positions: account, symbol, quantity, avg_cost;
    executions: exec_id, ts, account, symbol, side, quantity, price, commission, order_ref...;
    orders, open and completed of every client: order_ref, perm_id, order_id, client_id, account,
    symbol, side, order_type, quantity, limit_price, stop_price, tif, oca_group, status, filled,
    open). ``orders`` None: the broker was not asked (nothing is adopted or closed out)."""

    positions: pd.DataFrame
    executions: pd.DataFrame
    orders: pd.DataFrame | None = None


@dataclass(frozen=True)
class ReconciliationReport:
    recon_id: str
    status: str  # clean | corrected | failed
    account: str
    findings: pd.DataFrame = field(default_factory=pd.DataFrame)
    backfilled: int = 0
    locked: tuple[str, ...] = ()
    unlocked: tuple[str, ...] = ()
    broker_positions: int = 0
    ledger_positions: int = 0
    error: str = ""
    adoption: AdoptionResult = field(default_factory=lambda: AdoptionResult((), (), (), []))
    closeout: CloseOut = field(default_factory=CloseOut)

    @property
    def clean(self) -> bool:
        return self.status == "clean"


async def read_broker(broker: BrokerReader) -> BrokerView:
    """Ask the broker for positions, executions and orders (raises whatever the broker raises)."""
    return BrokerView(
        positions=await broker.positions(),
        executions=await broker.executions(),
        orders=await broker.orders(),
    )


def _col(frame: pd.DataFrame, *names: str, default: Any = None) -> pd.Series:
    for name in names:
        if name in frame.columns:
            return frame[name]
    return pd.Series([default] * len(frame), index=frame.index, dtype="object")


def normalise_positions(frame: pd.DataFrame, account: str) -> pd.DataFrame:
    """Broker positions as (account, symbol, quantity, avg_cost), for ``account`` only."""
    if frame is None or frame.empty:
        return pd.DataFrame(
            {
                "account": pd.Series(dtype="object"),
                "symbol": pd.Series(dtype="object"),
                "quantity": pd.Series(dtype="int64"),
                "avg_cost": pd.Series(dtype="object"),
            }
        )
    if "symbol" not in frame.columns:
        raise ReconcileInputError(f"broker positions lack a symbol column; got {list(frame.columns)}")
    out = pd.DataFrame(
        {
            "account": _col(frame, "account", default=account).fillna(account).astype(str),
            "symbol": frame["symbol"].astype(str),
            "quantity": pd.to_numeric(_col(frame, "quantity", "position")).astype("int64"),
            "avg_cost": _col(frame, "avg_cost", "avgCost"),
        }
    )
    out = out[out["account"] == account] if account else out
    # a position is a state per contract: the same one reported twice (the IB client library's
    # reqPositions can collect a streamed update and the answer) is one position, never the sum of both
    return out.drop_duplicates(["account", "symbol"], keep="last")


def normalise_executions(frame: pd.DataFrame, account: str) -> pd.DataFrame:
    if frame is None or frame.empty:
        return pd.DataFrame(
            columns=[
                "exec_id",
                "ts",
                "account",
                "symbol",
                "side",
                "quantity",
                "price",
                "commission",
                "order_ref",
                "perm_id",
                "order_id",
            ]
        )
    out = pd.DataFrame(
        {
            "exec_id": _col(frame, "exec_id", "execId").astype(str),
            "ts": _col(frame, "ts", "time"),
            "account": _col(frame, "account", default=account).fillna(account).astype(str),
            "symbol": frame["symbol"].astype(str),
            "side": _col(frame, "side").astype(str),
            "quantity": pd.to_numeric(_col(frame, "quantity", "shares")).astype("int64"),
            "price": _col(frame, "price"),
            "commission": _col(frame, "commission", "fees"),
            "order_ref": _col(frame, "order_ref", "orderRef"),
            "perm_id": _col(frame, "perm_id", "permId"),
            "order_id": _col(frame, "order_id", "orderId"),
        }
    )
    return out[out["account"] == account] if account else out


def _ledger_exec_ids(ledger: Ledger, exec_ids: list[str]) -> pd.Series:
    if not exec_ids:
        return pd.Series(dtype="object")
    known = ledger.query(
        "SELECT exec_id FROM fills WHERE exec_id IN (SELECT unnest(?::VARCHAR[]))", [exec_ids]
    )
    return known["exec_id"].astype(str)


def _locked_symbols(ledger: Ledger, account: str) -> dict[str, bool]:
    """Symbols locked now -> whether a reconciliation made the lock (only those does a clean
    reconciliation release; the broker's contract-details locks wait for a person)."""
    ev = ledger.query(
        "SELECT symbol, kind, detail FROM risk_events WHERE kind IN ('symbol_locked', 'symbol_unlocked') "
        "AND coalesce(account, '') = ? ORDER BY ts",
        [account or ""],
    )
    if ev.empty:
        return {}
    last = ev.groupby("symbol").tail(1)
    locked = last[last["kind"] == "symbol_locked"]
    return {str(r.symbol): "recon_id" in str(r.detail or "") for r in locked.itertuples(index=False)}


def reconcile_view(
    ledger: Ledger,
    view: BrokerView,
    *,
    account: str,
    run_id: str = "",
    now: datetime | None = None,
    alert: AlertFn | None = None,
    state_dir: Path | str | None = None,
) -> ReconciliationReport:
    """Diff ``view`` against the ledger, correct the ledger, and record the run.

    ``state_dir`` holds the leases (``Settings.state_dir``): who decides and sends for the account
    now, so the intents of a live submission are never closed out.
    """
    from catalyst.ledger import new_id

    now = now or datetime.now(UTC)
    recon_id = new_id()
    adoption, closed = _reconcile_orders(
        ledger,
        view.orders,
        account=account,
        state_dir=state_dir,
        recon_id=recon_id,
        run_id=run_id,
        now=now,
    )
    broker_pos, ledger_pos, missing, findings = _diff(ledger, view, account=account, recon_id=recon_id)
    backfilled = _backfill(ledger, missing, run_id)
    corrections = _correct_positions(ledger, findings, broker_pos, ledger_pos, now)
    to_lock, unlocked = _update_locks(
        ledger, findings, account=account, recon_id=recon_id, run_id=run_id, now=now
    )
    status = "clean" if findings.empty and not _orders_changed(adoption, closed) else "corrected"
    rows = [*adoption.findings, *_discrepancy_rows(findings, corrections, recon_id, account, now)]
    if rows:
        ledger.append("discrepancies", rows)
    report = ReconciliationReport(
        recon_id,
        status,
        account,
        findings,
        backfilled,
        tuple(to_lock),
        tuple(unlocked),
        len(broker_pos),
        len(ledger_pos),
        adoption=adoption,
        closeout=closed,
    )
    ledger.upsert("reconciliations", _reconciliation_row(report, run_id, now))
    _snapshots(ledger, broker_pos, ledger_pos, run_id, now, account)
    _alert_findings(report, alert)
    _alert_orders(report, alert)
    log.info(
        "reconcile.done",
        recon_id=recon_id,
        status=status,
        discrepancies=len(findings),
        backfilled=backfilled,
        locked=to_lock,
        unlocked=unlocked,
    )
    return report


def _reconcile_orders(
    ledger: Ledger,
    orders: pd.DataFrame | None,
    *,
    account: str,
    state_dir: Path | str | None,
    recon_id: str,
    run_id: str,
    now: datetime,
) -> tuple[AdoptionResult, CloseOut]:
    """Adopt the broker's Catalyst orders the ledger lacks, then close out what dead processes
    left; nothing when the broker was not asked for its orders (``orders`` None)."""
    if orders is None:
        return AdoptionResult((), (), (), []), CloseOut()
    adoption = adopt_orders(ledger, orders, account=account, recon_id=recon_id, run_id=run_id, now=now)
    closed = close_out(
        ledger,
        catalyst_orders(orders, account),
        account=account,
        state_dir=state_dir,
        recon_id=recon_id,
        run_id=run_id,
        now=now,
    )
    return adoption, closed


def _diff(
    ledger: Ledger, view: BrokerView, *, account: str, recon_id: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The broker's and the ledger's positions, the broker's executions the ledger lacks, and the
    position findings (``recon_diff.diff_positions``)."""
    broker_pos = normalise_positions(view.positions, account)
    execs = normalise_executions(view.executions, account)
    ledger_pos = ledger_positions(ledger, account)
    missing = missing_executions(execs, _ledger_exec_ids(ledger, execs["exec_id"].tolist()))
    findings = diff_positions(broker_pos, ledger_pos[["account", "symbol", "quantity"]], missing)
    log.info(
        "reconcile.diff",
        recon_id=recon_id,
        account=account,
        broker_positions=len(broker_pos),
        ledger_positions=len(ledger_pos),
        findings=len(findings),
        missing_fills=len(missing),
    )
    return broker_pos, ledger_pos, missing, findings


def _orders_changed(adoption: AdoptionResult, closed: CloseOut) -> bool:
    """Whether the order side of the reconciliation found or changed anything."""
    return bool(adoption.findings or adoption.refreshed or closed.changed)


def _update_locks(
    ledger: Ledger, findings: pd.DataFrame, *, account: str, recon_id: str, run_id: str, now: datetime
) -> tuple[list[str], list[str]]:
    """Lock each symbol with an unexplained finding not locked yet; a clean reconciliation
    releases the locks reconciliations made. Returns (locked now, unlocked now)."""
    previously_locked = _locked_symbols(ledger, account)
    unexplained = findings.loc[~findings["explained"], "symbol"].astype(str)
    to_lock = sorted(set(unexplained) - set(previously_locked))
    for symbol in to_lock:
        kinds = ", ".join(findings.loc[findings["symbol"] == symbol, "kind"])
        _risk_event(
            ledger,
            "symbol_locked",
            "warning",
            account,
            symbol,
            run_id,
            now,
            f"reconciliation {recon_id} found an unexplained {kinds}; corrected to the broker, "
            "no new entries until a clean reconciliation or `catalyst risk unlock`",
            {"recon_id": recon_id},
        )
    unlocked: list[str] = []
    if findings.empty:
        for symbol in sorted(s for s, ours in previously_locked.items() if ours):
            _risk_event(
                ledger,
                "symbol_unlocked",
                "info",
                account,
                symbol,
                run_id,
                now,
                f"clean reconciliation {recon_id}",
                {"recon_id": recon_id},
            )
            unlocked.append(symbol)
    return to_lock, unlocked


def _discrepancy_rows(
    findings: pd.DataFrame,
    corrections: Mapping[tuple[str, str], str],
    recon_id: str,
    account: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """One ``discrepancies`` row per position finding, with the correction made."""
    from catalyst.ledger import new_id

    return [
        {
            "discrepancy_id": new_id(),
            "recon_id": recon_id,
            "ts": now,
            "account": account or None,
            "symbol": f["symbol"],
            "kind": f["kind"],
            "ledger_quantity": int(f["ledger_quantity"]),
            "broker_quantity": int(f["broker_quantity"]),
            "correction": corrections.get((f["symbol"], f["kind"]), ""),
            "explained": bool(f["explained"]),
            "detail": json.dumps(
                {
                    "missing_fill_quantity": int(f["missing_fill_quantity"]),
                    "missing_fill_count": int(f["missing_fill_count"]),
                }
            ),
        }
        for f in findings.to_dict("records")
    ]


def _reconciliation_row(report: ReconciliationReport, run_id: str, now: datetime) -> dict[str, Any]:
    """The ``reconciliations`` row that records this run and what it changed."""
    adoption, closed = report.adoption, report.closeout
    return {
        "recon_id": report.recon_id,
        "run_id": run_id or None,
        "ts": now,
        "account": report.account or None,
        "status": report.status,
        "broker_positions": report.broker_positions,
        "ledger_positions": report.ledger_positions,
        "discrepancies": len(report.findings) + len(adoption.findings),
        "detail": json.dumps(
            {
                "backfilled": report.backfilled,
                "locked": list(report.locked),
                "unlocked": list(report.unlocked),
                "orders_adopted": list(adoption.adopted),
                "intents_created": list(adoption.intents_created),
                "orders_refreshed": list(adoption.refreshed),
                **closed.describe(),
            }
        ),
    }


def _alert_findings(report: ReconciliationReport, alert: AlertFn | None) -> None:
    if alert is None or report.findings.empty:
        return
    for f in report.findings.to_dict("records"):
        if f["kind"] == MISSING_FILL and f["explained"]:
            continue
        severity = "critical" if f["kind"] in (ORPHAN, PHANTOM) or not f["explained"] else "warning"
        title = f"Reconciliation: {f['kind']} in {f['symbol']} ({report.account})"
        if not f["explained"]:
            title += f", {f['symbol']} LOCKED"
        body = (
            f"ledger {f['ledger_quantity']} vs broker {f['broker_quantity']}; ledger corrected to the "
            f"broker; {'explained by missing fills' if f['explained'] else 'UNEXPLAINED, symbol locked'}. "
            f"recon {report.recon_id}"
        )
        if not f["explained"]:
            body += (
                f". No new entries in {f['symbol']} until a clean reconciliation or "
                f"`catalyst risk unlock {f['symbol']} --reason ...` after checking the account"
            )
        alert(severity, title, body, f"recon:{report.account}:{f['symbol']}:{f['kind']}")


def _alert_orders(report: ReconciliationReport, alert: AlertFn | None) -> None:
    if alert is None:
        return
    if report.adoption.adopted:
        alert(
            "critical",
            f"Reconciliation: {len(report.adoption.adopted)} broker order(s) the ledger did not know "
            f"({report.account})",
            f"adopted into the ledger: {', '.join(report.adoption.adopted)}. recon {report.recon_id}",
            f"recon:{report.account}:orders_adopted:{','.join(report.adoption.adopted)}",
        )
    if report.closeout.interrupted:
        alert(
            "critical",
            f"Reconciliation: bracket(s) left unproven by a dead process ({report.account})",
            f"intents {', '.join(report.closeout.interrupted)} have legs working at the broker that were "
            "never proven; a rerun today adopts and proves them, or cancel them. "
            f"recon {report.recon_id}",
            f"recon:{report.account}:interrupted:{','.join(report.closeout.interrupted)}",
        )


def _dec(value: Any) -> Decimal | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    return Decimal(str(value))


def _avg_cost(value: Any) -> Decimal | None:
    """An average cost as the broker reports it (e.g. 3.89212054), to the ledger column's 6 places:
    it is a statistic of fills, never a price that is sent, so rounding it loses nothing."""
    dec = _dec(value)
    return None if dec is None else dec.quantize(Decimal("0.000001"))


def _backfill(ledger: Ledger, missing: pd.DataFrame, run_id: str) -> int:
    if missing.empty:
        return 0
    rows = []
    signs = signed_quantity(missing)
    for (_, e), sign in zip(missing.iterrows(), signs, strict=True):
        ts = (
            pd.Timestamp(e["ts"])
            if e["ts"] is not None and not pd.isna(e["ts"])
            else pd.Timestamp.now(tz="UTC")
        )
        if ts.tzinfo is None:
            ts = ts.tz_localize("UTC")
        fees = _dec(e["commission"])
        rows.append(
            {
                "exec_id": str(e["exec_id"]),
                "ts": ts.to_pydatetime(),
                "run_id": run_id or None,
                "account": e["account"] or None,
                "order_ref": None
                if e["order_ref"] is None or pd.isna(e["order_ref"])
                else str(e["order_ref"]),
                "perm_id": _int(e["perm_id"]),
                "order_id": _int(e["order_id"]),
                "symbol": str(e["symbol"]),
                "side": "BUY" if sign > 0 else "SELL",
                "quantity": int(e["quantity"]),
                "price": _dec(e["price"]),
                "commission": fees,
                "fees": fees,
                "currency": "HKD",
                "source": "backfill",
                "raw": json.dumps({k: str(v) for k, v in e.items()}),
            }
        )
    return int(ledger.append("fills", rows) or len(rows))


def _present(value: Any) -> bool:
    return value is not None and value is not pd.NA and not (isinstance(value, float) and pd.isna(value))


def _int(value: Any) -> int | None:
    try:
        return None if value is None or pd.isna(value) else int(value)
    except (TypeError, ValueError):
        return None


def _correct_positions(
    ledger: Ledger,
    findings: pd.DataFrame,
    broker_pos: pd.DataFrame,
    ledger_pos: pd.DataFrame,
    now: datetime,
) -> dict[tuple[str, str], str]:
    """Upsert the ledger's positions to the broker's quantities; returns the correction text."""
    done: dict[tuple[str, str], str] = {}
    broker_by = broker_pos.set_index(["account", "symbol"])
    levels: dict[tuple[str, str], dict[str, Any]] = {}
    for r in ledger_pos.to_dict("records"):
        kept = {k: r[k] for k in ("stop_price", "target_price", "intent_id") if _present(r.get(k))}
        levels[(str(r["account"]), str(r["symbol"]))] = kept
    source = {PHANTOM: "reconcile-close", ORPHAN: "reconcile-adopt", QUANTITY_MISMATCH: "reconcile-correct"}
    for f in findings.to_dict("records"):
        key = (f["account"], f["symbol"])
        if f["kind"] == MISSING_FILL:
            done[(f["symbol"], f["kind"])] = (
                f"backfilled {int(f['missing_fill_count'])} fill(s) from executions"
            )
            continue
        # upsert changes only the columns given; carry the levels over when the row is new
        row: dict[str, Any] = dict(levels.get(key, {}))
        broker_qty = int(f["broker_quantity"])
        avg = broker_by.loc[key, "avg_cost"] if key in broker_by.index else None
        row.update(
            {
                "account": f["account"],
                "symbol": f["symbol"],
                "quantity": broker_qty,
                "updated_at": now,
                "source": source[f["kind"]],
            }
        )
        if avg is not None and not pd.isna(avg):
            row["avg_cost"] = _avg_cost(avg)
        if f["kind"] == ORPHAN:
            row.setdefault("opened_at", now)
        ledger.upsert("positions", row)
        verb = {
            PHANTOM: "closed out in the ledger (broker holds none)",
            ORPHAN: f"adopted {broker_qty} from the broker",
            QUANTITY_MISMATCH: f"ledger quantity {int(f['ledger_quantity'])} set to broker's {broker_qty}",
        }
        done[(f["symbol"], f["kind"])] = verb[f["kind"]]
        if f["kind"] == ORPHAN:
            _risk_event(
                ledger,
                "orphan_adopted",
                "critical",
                f["account"],
                f["symbol"],
                "",
                now,
                f"broker holds {broker_qty} {f['symbol']} that the ledger did not know; adopted "
                "(no stop or target recorded: set protection or flatten)",
                {"quantity": broker_qty},
            )
    return done


def _risk_event(
    ledger: Ledger,
    kind: str,
    severity: str,
    account: str,
    symbol: str | None,
    run_id: str,
    now: datetime,
    message: str,
    detail: Mapping[str, Any],
) -> None:
    from catalyst.ledger import new_id

    ledger.append(
        "risk_events",
        {
            "event_id": new_id(),
            "ts": now,
            "run_id": run_id or None,
            "account": account or None,
            "kind": kind,
            "severity": severity,
            "symbol": symbol,
            "message": message,
            "detail": json.dumps(dict(detail), default=str),
        },
    )


def _snapshots(
    ledger: Ledger,
    broker_pos: pd.DataFrame,
    ledger_pos: pd.DataFrame,
    run_id: str,
    now: datetime,
    account: str,
) -> None:
    from catalyst.ledger import new_id

    rows = []
    for source, frame in (("broker", broker_pos), ("ledger", ledger_pos)):
        for r in frame[["symbol", "quantity", "avg_cost"]].to_dict("records"):
            rows.append(
                {
                    "snapshot_id": new_id(),
                    "ts": now,
                    "run_id": run_id or None,
                    "account": account or None,
                    "symbol": r["symbol"],
                    "quantity": int(r["quantity"]),
                    "avg_cost": _avg_cost(r["avg_cost"]),
                    "market_price": None,
                    "source": source,
                }
            )
    if rows:
        ledger.append("position_snapshots", rows)


def record_failure(
    ledger: Ledger, *, account: str, run_id: str, error: str, now: datetime | None = None
) -> str:
    """Record a reconciliation that could not complete (status failed)."""
    from catalyst.ledger import new_id

    recon_id = new_id()
    ledger.upsert(
        "reconciliations",
        {
            "recon_id": recon_id,
            "run_id": run_id or None,
            "ts": now or datetime.now(UTC),
            "account": account or None,
            "status": "failed",
            "broker_positions": None,
            "ledger_positions": None,
            "discrepancies": None,
            "detail": json.dumps({"error": error}),
        },
    )
    return recon_id


async def reconcile(
    broker: BrokerReader,
    ledger: Ledger,
    *,
    account: str,
    run_id: str = "",
    now: datetime | None = None,
    alert: AlertFn | None = None,
    state_dir: Path | str | None = None,
) -> ReconciliationReport:
    """One reconciliation: read the broker, diff, correct, record. Raises
    :class:`ReconciliationFailedError` (after recording the failure) when it cannot complete.

    ``state_dir`` (the leases) defaults to the broker session's ``settings.state_dir``."""
    if state_dir is None:
        state_dir = getattr(getattr(broker, "settings", None), "state_dir", None)
    try:
        view = await read_broker(broker)
        return reconcile_view(
            ledger, view, account=account, run_id=run_id, now=now, alert=alert, state_dir=state_dir
        )
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        log.error("reconcile.failed", account=account, error=error)
        try:
            record_failure(ledger, account=account, run_id=run_id, error=error, now=now)
        except Exception as ledger_exc:  # the ledger itself may be what failed
            log.critical("reconcile.failure_not_recorded", error=str(ledger_exc))
        if alert is not None:
            alert("critical", f"Reconciliation failed ({account})", error, f"recon-failed:{account}")
        raise ReconciliationFailedError(
            f"reconciliation of account {account or '(default)'} could not complete: {error}. "
            "Check that the gateway is up and the ledger is writable, then run `catalyst reconcile`."
        ) from exc


async def require_clean_start(
    broker: BrokerReader,
    ledger: Ledger,
    *,
    account: str,
    run_id: str = "",
    alert: AlertFn | None = None,
    state_dir: Path | str | None = None,
) -> ReconciliationReport:
    """The startup gate: reconcile, or raise :class:`TradingBlockedError` saying why not.

    A reconciliation that completes with corrections lets trading go on (the ledger now agrees
    with the broker, and unexplained symbols are locked for the pre-trade checks).
    """
    try:
        return await reconcile(
            broker, ledger, account=account, run_id=run_id, alert=alert, state_dir=state_dir
        )
    except ReconciliationFailedError as exc:
        raise TradingBlockedError(
            f"trading blocked: the startup reconciliation did not complete, so Catalyst cannot know what "
            f"the account holds. {exc}"
        ) from exc
