"""One trading cycle: phase check on the broker's clock, scan, size, pre-trade checks, submit and
prove brackets, and the report of what was sent, confirmed and refused.

The notebook ``trading_cycle.ipynb`` calls :func:`run_trading_cycle` and shows the report; all
logic lives here so it is tested. The broker module does the proving (rule 1) and records orders;
this module records what it decided (dry-run intents, pre-trade refusals).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, fields
from typing import Any

import pandas as pd
import structlog

from catalyst.broker import BracketVerificationError, BrokerError, BrokerSession, VerifiedBracket
from catalyst.cycle.account_lease import lease_refused_report, release_account_lease, take_account_lease
from catalyst.cycle.cycle_report import (
    CANDIDATE_COLUMNS,
    LEG_COLUMNS,
    REFUSED_COLUMNS,
    SENT_COLUMNS,
    CycleReport,
)
from catalyst.cycle.cycle_request import CycleRequest, limits_with_overrides
from catalyst.cycle.outcome import ExitCode
from catalyst.cycle.rerun import ledger_numbering, split_resumed
from catalyst.domain import BracketIntent
from catalyst.ledger.ledger_errors import LeaseHeldError
from catalyst.market import HK_TZ, accepts_new_orders, phase
from catalyst.reconcile.reconcile_errors import TradingBlockedError
from catalyst.reconcile.reconciler import AlertFn, require_clean_start
from catalyst.research.bar_import import bars_from_records
from catalyst.research.position_sizing import size_candidates
from catalyst.research.strategy_base import Candidate
from catalyst.research.strategy_registry import get_strategy
from catalyst.risk.alerts import Severity, alerter_from_settings
from catalyst.risk.event_alerts import AlertSink, RiskEventAlerts, alert_function
from catalyst.risk.pretrade import (
    AccountView,
    PreTradeContext,
    PreTradeResult,
    open_entry_symbols,
    positions_by_symbol,
    pre_trade,
    record_rejections,
)
from catalyst.risk.risk_limits import RiskLimits
from catalyst.risk.risk_state import load_risk_state, require_account

log = structlog.get_logger(__name__)


def candidates_frame(cands: list[Candidate]) -> pd.DataFrame:
    rows = [
        {
            "symbol": c.symbol,
            "side": c.side.value,
            "entry": c.entry,
            "stop": c.stop,
            "target": c.target,
            "score": c.score,
            "reason": c.reason,
        }
        for c in cands
    ]
    return pd.DataFrame(rows, columns=CANDIDATE_COLUMNS)


def _intent_row(i: BracketIntent, outcome: str, detail: str) -> dict[str, Any]:
    return {
        "intent_id": i.intent_id,
        "symbol": i.symbol,
        "side": i.side.value,
        "quantity": i.quantity,
        "entry": i.entry,
        "stop": i.stop,
        "target": i.target,
        "outcome": outcome,
        "detail": detail,
    }


def leg_rows(vb: VerifiedBracket) -> list[dict[str, Any]]:
    return [
        {
            "intent_id": vb.intent_id,
            "role": leg.role,
            "order_ref": leg.order_ref,
            "perm_id": leg.perm_id,
            "side": leg.side.value,
            "order_type": str(leg.order_type.value if hasattr(leg.order_type, "value") else leg.order_type),
            "quantity": leg.quantity,
            "limit_price": leg.limit_price,
            "stop_price": leg.stop_price,
            "status": leg.status,
            "acknowledged_at": leg.acknowledged_at,
        }
        for leg in vb.legs
    ]


def refusals_from_pretrade(result: PreTradeResult) -> list[dict[str, Any]]:
    return [
        {
            "stage": "pre-trade",
            "intent_id": r.intent.intent_id,
            "symbol": r.intent.symbol,
            "side": r.intent.side.value,
            "code": r.code.value,
            "reason": r.text,
        }
        for r in result.rejections
    ]


async def load_bars(broker: Any, symbols: list[str], request: CycleRequest) -> pd.DataFrame:
    """Intraday bars of every symbol from the broker, in research's bar schema."""
    records: dict[str, list[dict[str, Any]]] = {}
    for symbol in symbols:
        frame = await broker.bars(symbol, duration=f"{request.lookback_days} D", bar_size=request.bar_size)
        records[symbol] = frame.to_dict("records")
    bars, _report = bars_from_records(records)
    return bars


def _account_dict(snapshot: Any) -> dict[str, Any]:
    try:
        return {k: v for k, v in asdict(snapshot).items()}
    except TypeError:
        return dict(snapshot)


async def run_cycle(
    broker: Any,
    ledger: Any,
    settings: Any,
    request: CycleRequest,
    *,
    mode: str,
    alert: AlertFn | None = None,
) -> CycleReport:
    """One cycle with a connected broker session (see :func:`run_trading_cycle` for the whole thing).

    ``alert`` raises the start-up reconciliation's alerts (findings, locks, a failure)."""
    account = require_account(getattr(broker, "account", ""), doing="run a trading cycle")  # the session's
    strategy = get_strategy(request.strategy, **dict(request.strategy_params))
    limits = limits_with_overrides(RiskLimits.from_settings(settings), request.limit_overrides)
    limits_shown = {f.name: getattr(limits, f.name) for f in fields(limits)}
    now = (await broker.server_time()).astimezone(HK_TZ)
    current = phase(now)
    open_for_entries = accepts_new_orders(now)
    log.info(
        "cycle.phase",
        run_id=request.run_id,
        server_time=now.isoformat(),
        phase=current.value,
        accepts_orders=open_for_entries,
    )
    base: dict[str, Any] = {
        "run_id": request.run_id,
        "mode": mode,
        "account": account,
        "server_time": now,
        "phase": current.value,
        "accepts_orders": open_for_entries,
        "strategy": strategy.describe(),
        "limits": limits_shown,
    }

    async def finish(status: str, message: str, **extra: Any) -> CycleReport:
        positions = await broker.positions()
        orders = await broker.open_orders()
        after = _account_dict(await broker.account_snapshot())
        log.info("cycle.finished", run_id=request.run_id, status=status, message=message)
        return CycleReport(
            **base,
            status=status,
            message=message,
            positions_after=positions,
            open_orders_after=orders,
            account_after=after,
            **extra,
        )

    if not open_for_entries:
        return await finish(
            "market_closed",
            f"HKEX is in {current.value} at {now:%H:%M} HKT on the broker's "
            "clock; new entries are sent only in continuous trading, so nothing was scanned",
        )
    try:
        recon = await require_clean_start(broker, ledger, account=account, run_id=request.run_id, alert=alert)
    except TradingBlockedError as exc:
        return await finish("blocked", str(exc), reconciliation={"status": "failed", "error": str(exc)})
    recon_shown = {
        "recon_id": recon.recon_id,
        "status": recon.status,
        "locked": list(recon.locked),
        "backfilled": recon.backfilled,
    }
    snapshot = await broker.account_snapshot()
    before = _account_dict(snapshot)
    positions = await broker.positions()
    orders = await broker.open_orders()
    bars = await load_bars(broker, request.symbols(), request)
    cands = strategy.scan(bars, now)
    view = AccountView.from_snapshot(snapshot)
    held = positions_by_symbol(positions)
    entries = open_entry_symbols(orders)
    # what the review's backtest comparison needs to replay this decision exactly (rule 9: in the log)
    log.info(
        "cycle.decision_inputs",
        run_id=request.run_id,
        at=now.isoformat(),
        equity=str(view.equity),
        buying_power=str(view.buying_power),
        positions=held,
        open_entry_symbols=sorted(entries),
        strategy=request.strategy,
        strategy_params=dict(request.strategy_params),
        universe=request.symbols(),
        lookback_days=request.lookback_days,
        bar_size=request.bar_size,
        limit_overrides=dict(request.limit_overrides),
    )
    intents = size_candidates(
        cands,
        equity=view.equity,
        budget=view.buying_power,
        limits=limits,
        run_id=request.run_id,
        account=account,
        numbering=ledger_numbering(ledger),  # a rerun after a crash gets the crashed run's ids back
    )
    resumed, fresh = split_resumed(ledger, intents)  # those are adopted, never decided again
    resumed_ids = {i.intent_id for i in resumed}
    context = PreTradeContext(
        account=view,
        now=now,
        positions=held,
        open_entry_symbols=entries,
        risk_state=load_risk_state(ledger, account, now),
    )
    verdict = pre_trade(fresh, context, limits)
    record_rejections(ledger, verdict, run_id=request.run_id, account=account)
    refused = refusals_from_pretrade(verdict)
    sized = {i.intent_id for i in intents}
    skipped = len(cands) - len(sized)
    sent_rows: list[dict[str, Any]] = []
    legs: list[dict[str, Any]] = []
    for intent in [*resumed, *verdict.approved]:
        if request.dry_run and intent.intent_id in resumed_ids:
            sent_rows.append(
                _intent_row(intent, "dry_run", "a crashed run's legs, not adopted (dry_run = True)")
            )
            continue
        if request.dry_run:
            ledger.upsert(
                "intents",
                intent.ledger_row(
                    "dry_run", run_id=request.run_id, account=account, detail={"dry_run": True}
                ),
            )
            sent_rows.append(_intent_row(intent, "dry_run", "not sent (dry_run = True)"))
            continue
        try:
            if intent.intent_id in resumed_ids:
                vb = await broker.submit_bracket(intent, adopt_only=True)
            else:
                vb = await broker.submit_bracket(intent)
        except BracketVerificationError as exc:
            sent_rows.append(_intent_row(intent, "not_proven", str(exc)))
            refused.append(
                {
                    "stage": "broker proof",
                    "intent_id": intent.intent_id,
                    "symbol": intent.symbol,
                    "side": intent.side.value,
                    "code": "bracket_unproven",
                    "reason": str(exc),
                }
            )
            continue
        except BrokerError as exc:
            sent_rows.append(_intent_row(intent, "refused", str(exc)))
            refused.append(
                {
                    "stage": "broker",
                    "intent_id": intent.intent_id,
                    "symbol": intent.symbol,
                    "side": intent.side.value,
                    "code": type(exc).__name__,
                    "reason": str(exc),
                }
            )
            continue
        detail = (
            "adopted existing legs" + (" (sent by a crashed run)" if intent.intent_id in resumed_ids else "")
            if vb.adopted
            else "all three legs reported by the broker"
        )
        sent_rows.append(_intent_row(intent, "proven", detail))
        legs.extend(leg_rows(vb))
    if request.dry_run:
        status, message = "dry_run", f"{len(verdict.approved)} bracket(s) approved; dry run, nothing sent"
    elif sent_rows:
        proven = sum(r["outcome"] == "proven" for r in sent_rows)
        status, message = "sent", f"{proven} of {len(sent_rows)} bracket(s) sent and proven at the broker"
        adopted = sum(r["detail"].startswith("adopted") for r in sent_rows if r["outcome"] == "proven")
        if adopted:
            message += f" ({adopted} adopted, already at the broker)"
    else:
        status = "nothing_to_send"
        message = f"{len(cands)} candidate(s), {len(verdict.rejections)} refused by pre-trade checks"
        if skipped:
            message += f", {skipped} too small for one board lot"
        message += "; nothing sent"
    return await finish(
        status,
        message,
        reconciliation=recon_shown,
        bars_loaded=len(bars),
        candidates=candidates_frame(cands),
        verdicts=verdict.to_frame(),
        sent=pd.DataFrame(sent_rows, columns=SENT_COLUMNS),
        legs=pd.DataFrame(legs, columns=LEG_COLUMNS),
        refused=pd.DataFrame(refused, columns=REFUSED_COLUMNS),
        account_before=before,
        halted=context.risk_state.halted,
    )


async def run_trading_cycle(
    settings: Any,
    ledger: Any,
    request: CycleRequest,
    *,
    mode: str | None = None,
    session_factory: Callable[..., Any] = BrokerSession,
    alerter: AlertSink | None = None,
) -> CycleReport:
    """Connect, run one cycle, disconnect. The notebook's one call.

    Alerts a human (through ``alerter``, by default the settings' channels, else the alert file) of
    every warning or critical risk event of the broker session (an unproven bracket, what its failure
    path flattened), of the start-up reconciliation's findings and locks, and of a cycle that ends
    with a bracket not proven; every queued alert is delivered before this returns.
    """
    alerter = alerter or alerter_from_settings(settings, ledger=ledger, run_id=request.run_id)
    event_alerts = RiskEventAlerts(alerter)
    try:
        broker = session_factory(settings, ledger=ledger, run_id=request.run_id, on_risk_event=event_alerts)
        await broker.connect()
        try:
            report = await _run_cycle_under_lease(
                broker, ledger, settings, request, mode or settings.mode, alerter
            )
        finally:
            await broker.close()
        await asyncio.to_thread(alert_unproven_cycle, alerter, report)
        return report
    finally:
        await asyncio.to_thread(event_alerts.close)


async def _run_cycle_under_lease(
    broker: Any, ledger: Any, settings: Any, request: CycleRequest, mode: str, alerter: AlertSink
) -> CycleReport:
    """One trader per account: hold the account lease (the session's account) from before the
    start-up reconciliation and the decision until the last bracket is proven or failed; a cycle
    that cannot get it within ``risk.lease_wait_seconds`` decides and sends nothing."""
    try:
        lease = await take_account_lease(
            settings.state_dir, broker.account, run_id=request.run_id, wait=settings.risk.lease_wait_seconds
        )
    except LeaseHeldError as exc:
        return await lease_refused_report(broker, request, mode=mode, error=exc)
    try:
        return await run_cycle(broker, ledger, settings, request, mode=mode, alert=alert_function(alerter))
    finally:
        release_account_lease(lease, run_id=request.run_id)


def alert_unproven_cycle(alerter: AlertSink, report: CycleReport) -> None:
    """One critical alert for a cycle that ends with brackets not proven: how many of how many, which
    symbols, and the exit code cron and ``catalyst schedule`` will see."""
    outcome = report.outcome()
    if outcome.code is not ExitCode.UNPROVEN:
        return
    sent = len(report.sent)
    alerter.alert(
        Severity.CRITICAL,
        f"Cycle {report.run_id} ({report.account or '?'}): {outcome.proven} of {sent} bracket(s) proven "
        "at the broker",
        f"not proven: {', '.join(outcome.unproven)}; their legs were cancelled and any fill flattened "
        f"(see the risk events). The run exits {int(outcome.code)} ({outcome.code.name.lower()}). "
        f"{report.message}",
        dedup_key=f"cycle-unproven:{report.run_id}",
    )
