"""One trading cycle: phase check on the broker's clock, scan, size, pre-trade checks, submit and
prove brackets, and the report of what was sent, confirmed and refused.

The notebook ``trading_cycle.ipynb`` calls :func:`run_trading_cycle` and shows the report; all
logic lives here so it is tested. The broker module does the proving (rule 1) and records orders;
this module records what it decided (dry-run intents, pre-trade refusals).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import pandas as pd
import structlog

from catalyst.broker import BracketVerificationError, BrokerError, BrokerSession, VerifiedBracket
from catalyst.broker.queries import AccountSnapshot
from catalyst.config.settings import Settings
from catalyst.cycle.account_lease import lease_refused_report, release_account_lease, take_account_lease
from catalyst.cycle.outcome import ExitCode
from catalyst.cycle.report import (
    CANDIDATE_COLUMNS,
    LEG_COLUMNS,
    REFUSED_COLUMNS,
    SENT_COLUMNS,
    CycleReport,
)
from catalyst.cycle.request import CycleRequest, limits_with_overrides
from catalyst.cycle.rerun import ledger_numbering, split_resumed
from catalyst.domain import BracketIntent, Candidate
from catalyst.ledger import Ledger
from catalyst.ledger.errors import LeaseHeldError
from catalyst.market import HK_TZ, accepts_new_orders, phase
from catalyst.reconcile.engine import AlertFn, BrokerReader, require_clean_start
from catalyst.reconcile.errors import TradingBlockedError
from catalyst.research.bar_import import bars_from_records
from catalyst.research.errors import StrategyOutputError
from catalyst.research.strategy_base import Strategy, last_prices
from catalyst.research.strategy_registry import get_strategy, strategy_info
from catalyst.risk.alerts import Severity, alerter_from_settings
from catalyst.risk.decision import Decision, DecisionInputs, decide
from catalyst.risk.event_alerts import AlertSink, RiskEventAlerts, alert_function
from catalyst.risk.limits import RiskLimits
from catalyst.risk.pretrade import (
    AccountView,
    PreTradeResult,
    open_entry_symbols,
    positions_by_symbol,
    record_rejections,
)
from catalyst.risk.state import load_risk_state, require_account

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
    return [_refusal(r.intent, "pre-trade", r.code.value, r.text) for r in result.rejections]


class CycleBroker(BrokerReader, Protocol):
    """What a trading cycle needs of the broker session (``catalyst.broker.BrokerSession``)."""

    @property
    def account(self) -> str: ...

    async def server_time(self) -> datetime: ...

    async def account_snapshot(self) -> AccountSnapshot: ...

    async def open_orders(self) -> pd.DataFrame: ...

    async def bars(self, symbol: str, *, duration: str, bar_size: str) -> pd.DataFrame: ...

    async def submit_bracket(self, intent: BracketIntent, *, adopt_only: bool = False) -> VerifiedBracket: ...


@dataclass(frozen=True)
class Gathered:
    """What the broker reported before the decision, and the strategy's candidates on its bars."""

    snapshot: AccountSnapshot
    positions: pd.DataFrame
    open_orders: pd.DataFrame
    bars: pd.DataFrame
    candidates: list[Candidate]
    last: dict[str, Decimal] = field(default_factory=dict)  # candidates' last traded prices


@dataclass
class Sent:
    """The outcome of sending each intent the decision approved (or resumed)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    legs: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)


async def load_bars(broker: CycleBroker, symbols: list[str], request: CycleRequest) -> pd.DataFrame:
    """Intraday bars of every symbol from the broker, in research's bar schema."""
    records: dict[str, list[Any]] = {}
    for symbol in symbols:
        frame = await broker.bars(symbol, duration=f"{request.lookback_days} D", bar_size=request.bar_size)
        records[symbol] = frame.to_dict("records")
    bars, _report = bars_from_records(records)
    return bars


def _account_dict(snapshot: AccountSnapshot) -> dict[str, Any]:
    return dict(asdict(snapshot))


async def run_cycle(
    broker: CycleBroker,
    ledger: Ledger,
    settings: Settings,
    request: CycleRequest,
    *,
    mode: str,
    alert: AlertFn | None = None,
) -> CycleReport:
    """One cycle with a connected broker session (see :func:`run_trading_cycle` for the whole thing):
    the phase on the broker's clock, the start-up reconciliation, gather, decide, send, report.

    ``alert`` raises the start-up reconciliation's alerts (findings, locks, a failure)."""
    account = require_account(broker.account, doing="run a trading cycle")  # the session's
    strategy = get_strategy(request.strategy, **dict(request.strategy_params))
    limits = limits_with_overrides(RiskLimits.from_settings(settings), request.limit_overrides)
    now = (await broker.server_time()).astimezone(HK_TZ)
    base = _report_base(request, mode, account, now, strategy.describe(), limits)
    base["market_data"] = settings.broker.market_data_type  # the report says what data it decided on
    if not base["accepts_orders"]:
        return await _finish(
            broker,
            base,
            "market_closed",
            f"HKEX is in {base['phase']} at {now:%H:%M} HKT on the broker's "
            "clock; new entries are sent only in continuous trading, so nothing was scanned",
        )
    try:
        recon = await require_clean_start(broker, ledger, account=account, run_id=request.run_id, alert=alert)
    except TradingBlockedError as exc:
        return await _finish(
            broker, base, "blocked", str(exc), reconciliation={"status": "failed", "error": str(exc)}
        )
    try:
        gathered = await gather(broker, request, strategy, now)
    except StrategyOutputError as exc:  # the trader's strategy raised or returned bad output
        log.error("cycle.strategy_failed", run_id=request.run_id, strategy=request.strategy, error=str(exc))
        return await _finish(broker, base, "strategy_failed", str(exc))
    decision = decide(decision_inputs(gathered, ledger, request, account=account, now=now, limits=limits))
    record_rejections(ledger, decision.verdict, run_id=request.run_id, account=account)
    sent = await send(broker, ledger, decision, request, account=account)
    status, message = cycle_status(request, decision, sent)
    return await _finish(
        broker,
        base,
        status,
        message,
        reconciliation={
            "recon_id": recon.recon_id,
            "status": recon.status,
            "locked": list(recon.locked),
            "backfilled": recon.backfilled,
        },
        bars_loaded=len(gathered.bars),
        candidates=candidates_frame(gathered.candidates),
        verdicts=decision.verdict.to_frame(),
        sent=pd.DataFrame(sent.rows, columns=SENT_COLUMNS),
        legs=pd.DataFrame(sent.legs, columns=LEG_COLUMNS),
        refused=pd.DataFrame(sent.refused, columns=REFUSED_COLUMNS),
        account_before=_account_dict(gathered.snapshot),
        halted=decision.risk_state.halted,
    )


def _report_base(
    request: CycleRequest,
    mode: str,
    account: str,
    now: datetime,
    strategy: Mapping[str, Any],
    limits: RiskLimits,
) -> dict[str, Any]:
    current = phase(now)
    open_for_entries = accepts_new_orders(now)
    log.info(
        "cycle.phase",
        run_id=request.run_id,
        server_time=now.isoformat(),
        phase=current.value,
        accepts_orders=open_for_entries,
    )
    return {
        "run_id": request.run_id,
        "mode": mode,
        "account": account,
        "server_time": now,
        "phase": current.value,
        "accepts_orders": open_for_entries,
        "strategy": strategy,
        "limits": {f.name: getattr(limits, f.name) for f in fields(limits)},
    }


async def _finish(
    broker: CycleBroker, base: Mapping[str, Any], status: str, message: str, **extra: Any
) -> CycleReport:
    """The report, with the account, positions and open orders as the broker reports them now."""
    positions = await broker.positions()
    orders = await broker.open_orders()
    after = _account_dict(await broker.account_snapshot())
    log.info("cycle.finished", run_id=base["run_id"], status=status, message=message)
    return CycleReport(
        **base,
        status=status,
        message=message,
        positions_after=positions,
        open_orders_after=orders,
        account_after=after,
        **extra,
    )


async def gather(broker: CycleBroker, request: CycleRequest, strategy: Strategy, now: datetime) -> Gathered:
    """The account, positions and working orders from the broker, its bars, the strategy's scan."""
    snapshot = await broker.account_snapshot()
    positions = await broker.positions()
    orders = await broker.open_orders()
    bars = await load_bars(broker, request.symbols(), request)
    candidates = strategy.scan(bars, now)
    last = last_prices(bars, now, {c.symbol for c in candidates})
    return Gathered(snapshot, positions, orders, bars, candidates, last)


def decision_inputs(
    gathered: Gathered,
    ledger: Ledger,
    request: CycleRequest,
    *,
    account: str,
    now: datetime,
    limits: RiskLimits,
) -> DecisionInputs:
    """The decision's inputs from what was gathered and what the ledger holds (the halt and locks,
    the day's numbering, a crashed run's intents); logged whole, so the review's backtest
    comparison can replay this decision exactly (rule 9)."""
    view = AccountView.from_snapshot(gathered.snapshot)
    held = positions_by_symbol(gathered.positions)
    entries = open_entry_symbols(gathered.open_orders)
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
        strategy_fingerprint=strategy_info(request.strategy).fingerprint(),  # which code decided
        universe=request.symbols(),
        lookback_days=request.lookback_days,
        bar_size=request.bar_size,
        limit_overrides=dict(request.limit_overrides),
    )
    return DecisionInputs(
        candidates=gathered.candidates,
        account=view,
        now=now,
        limits=limits,
        run_id=request.run_id,
        account_id=account,
        positions=held,
        open_entry_symbols=entries,
        risk_state=load_risk_state(ledger, account, now),
        numbering=ledger_numbering(ledger),  # a rerun after a crash gets the crashed run's ids back
        last=gathered.last,
        resume=lambda intents: split_resumed(ledger, intents),  # those are adopted, never judged again
    )


async def send(
    broker: CycleBroker, ledger: Ledger, decision: Decision, request: CycleRequest, *, account: str
) -> Sent:
    """Send and prove each intent (a resumed one adopted only); in a dry run record it, send nothing."""
    out = Sent(refused=refusals_from_pretrade(decision.verdict))
    resumed_ids = {i.intent_id for i in decision.resumed}
    for intent in decision.to_send:
        resumed = intent.intent_id in resumed_ids
        if request.dry_run:
            out.rows.append(_dry_run(ledger, intent, request, account=account, resumed=resumed))
            continue
        try:
            vb = await broker.submit_bracket(intent, adopt_only=resumed)
        except BracketVerificationError as exc:
            out.rows.append(_intent_row(intent, "not_proven", str(exc)))
            out.refused.append(_refusal(intent, "broker proof", "bracket_unproven", str(exc)))
            continue
        except BrokerError as exc:
            out.rows.append(_intent_row(intent, "refused", str(exc)))
            out.refused.append(_refusal(intent, "broker", type(exc).__name__, str(exc)))
            continue
        detail = (
            "adopted existing legs" + (" (sent by a crashed run)" if resumed else "")
            if vb.adopted
            else "all three legs reported by the broker"
        )
        out.rows.append(_intent_row(intent, "proven", detail))
        out.legs.extend(leg_rows(vb))
    return out


def _dry_run(
    ledger: Ledger, intent: BracketIntent, request: CycleRequest, *, account: str, resumed: bool
) -> dict[str, Any]:
    if resumed:
        return _intent_row(intent, "dry_run", "a crashed run's legs, not adopted (dry_run = True)")
    ledger.upsert(
        "intents",
        intent.ledger_row("dry_run", run_id=request.run_id, account=account, detail={"dry_run": True}),
    )
    return _intent_row(intent, "dry_run", "not sent (dry_run = True)")


def _refusal(intent: BracketIntent, stage: str, code: str, reason: str) -> dict[str, Any]:
    return {
        "stage": stage,
        "intent_id": intent.intent_id,
        "symbol": intent.symbol,
        "side": intent.side.value,
        "code": code,
        "reason": reason,
    }


def cycle_status(request: CycleRequest, decision: Decision, sent: Sent) -> tuple[str, str]:
    """The cycle's status and its one-line message."""
    if request.dry_run:
        return "dry_run", f"{len(decision.approved)} bracket(s) approved; dry run, nothing sent"
    if sent.rows:
        proven = sum(r["outcome"] == "proven" for r in sent.rows)
        message = f"{proven} of {len(sent.rows)} bracket(s) sent and proven at the broker"
        adopted = sum(r["detail"].startswith("adopted") for r in sent.rows if r["outcome"] == "proven")
        if adopted:
            message += f" ({adopted} adopted, already at the broker)"
        return "sent", message
    message = f"{decision.candidates} candidate(s), {len(decision.rejections)} refused by pre-trade checks"
    if decision.too_small:
        message += f", {decision.too_small} too small for one board lot"
    return "nothing_to_send", message + "; nothing sent"


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
