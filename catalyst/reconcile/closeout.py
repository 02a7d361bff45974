"""Close out what a dead process left half-done: runs left ``running``, intents left ``submitted``.

Who is dead:

* a run is dead when the process its row records (``pid`` on ``host``, started at ``pid_started``,
  see :mod:`catalyst.ledger.run_process`) is gone. A run without a recorded process, or recorded
  on another host, cannot be judged and is left alone; so is the reconciling run itself;
* an intent in flight (``submitted``: recorded before sending, no outcome yet; or ``interrupted``
  by an earlier close-out) is left alone while its owner may still be submitting it: another
  process holds the account's decide-and-send lease (:func:`catalyst.ledger.lease.account_lease_name`;
  it may be sending, or a rerun adopting, any of them), or the intent's run's process is recorded
  and alive. Nobody submits for an account without holding its lease, so otherwise (nobody holds
  it, or the reconciling process itself does) the owner is dead, and the intent is settled
  against the broker. (Leases and pids are of this host: one host trades an account.)

How an intent is settled, from its legs (``<intent_id>:P|TP|SL``) as the broker lists them:

* some leg still working: ``interrupted`` (critical risk event: the legs work unproven; a rerun on
  the same day computes the same intent id and adopts and proves them, or a person cancels them);
* every leg the broker lists is done: ``completed``;
* the broker lists none: ``abandoned`` (nothing reached the broker); its ``pending_submit`` and
  ``sent`` order rows become ``not_sent``.

A dead run's row becomes ``crashed`` with ``finished_at`` set, and a risk event names it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import structlog

from catalyst.domain.order_status import OrderStatus, texts
from catalyst.ledger.lease import LeaseHolder, account_lease_name, lease_holder
from catalyst.ledger.run_process import process_alive

if TYPE_CHECKING:
    from catalyst.ledger import Ledger

log = structlog.get_logger(__name__)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


#: Intent statuses a close-out looks at (no outcome recorded, or interrupted by a dead process).
UNSETTLED_INTENT_STATUSES = ("submitted", "interrupted")
#: Order rows of a leg that never reached the broker.
UNSENT_ORDER_STATUSES = texts(frozenset({OrderStatus.RECORDED, OrderStatus.SENT}))


@dataclass(frozen=True)
class CloseOut:
    crashed_runs: tuple[str, ...] = ()
    interrupted: tuple[str, ...] = ()
    completed: tuple[str, ...] = ()
    abandoned: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.crashed_runs or self.interrupted or self.completed or self.abandoned)

    def describe(self) -> dict[str, list[str]]:
        return {
            "crashed_runs": list(self.crashed_runs),
            "interrupted": list(self.interrupted),
            "completed": list(self.completed),
            "abandoned": list(self.abandoned),
        }


def _float(value: Any) -> float | None:
    try:
        return None if value is None or pd.isna(value) else float(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    try:
        return None if value is None or pd.isna(value) else int(value)
    except (TypeError, ValueError):
        return None


def _run_alive(run: dict[str, Any] | None) -> bool | None:
    if run is None:
        return None
    return process_alive(_int(run.get("pid")), run.get("host") or None, _float(run.get("pid_started")))


def _account_holder(state_dir: Path | str | None, account: str) -> LeaseHolder | None:
    if state_dir is None or not account:
        return None
    return lease_holder(state_dir, account_lease_name(account))


def _owner_may_be_submitting(
    intent: dict[str, Any], runs: dict[str, dict[str, Any]], holder: LeaseHolder | None, own_run: str
) -> bool:
    run_id = str(intent.get("run_id") or "")
    if run_id and run_id == own_run:
        return True
    if holder is not None and holder.pid != os.getpid():
        return True  # another process decides and sends for the account now: any intent may be its own
    # nobody submits for the account without its lease: without the lease, only a live process
    # recorded for the run may still be finishing (it is given the benefit of the doubt)
    return _run_alive(runs.get(run_id)) is True


def _settle(intent_id: str, broker: pd.DataFrame) -> str:
    legs = broker[(broker["intent_id"] == intent_id) & broker["code"].isin(["P", "TP", "SL"])]
    if legs.empty:
        return "abandoned"
    return "interrupted" if bool(legs["open"].any()) else "completed"


def close_out(
    ledger: Ledger,
    broker_orders: pd.DataFrame,
    *,
    account: str,
    state_dir: Path | str | None,
    recon_id: str,
    run_id: str,
    now: datetime,
) -> CloseOut:
    """Settle the intents and runs dead processes left unfinished (``broker_orders``: the output of
    :func:`catalyst.reconcile.order_adoption.catalyst_orders`)."""
    running, runs, intents = _unfinished(ledger, account)
    holder = _account_holder(state_dir, account)
    settled: dict[str, list[str]] = {"interrupted": [], "completed": [], "abandoned": []}
    intent_updates: list[dict[str, Any]] = []
    risks: list[dict[str, Any]] = []
    for intent in intents:
        if _owner_may_be_submitting(intent, runs, holder, run_id):
            continue
        intent_id = str(intent["intent_id"])
        status = _settle(intent_id, broker_orders)
        if status == str(intent["status"]):
            continue
        settled[status].append(intent_id)
        detail = {"closed_out_by": recon_id, "previous_status": intent["status"], "run_id": intent["run_id"]}
        intent_updates.append({"intent_id": intent_id, "status": status, "detail": json.dumps(detail)})
        risks.append(_intent_risk(intent, status, detail, account=account, run_id=run_id, now=now))
    crashed = [rid for rid, run in running.items() if rid != run_id and _run_alive(run) is False]
    risks.extend(
        _crash_risk(rid, running[rid], account=account, recon_id=recon_id, run_id=run_id, now=now)
        for rid in crashed
    )
    if intent_updates or crashed:
        _write_close_out(ledger, intent_updates, settled["abandoned"], crashed, risks, now)
    result = CloseOut(
        crashed_runs=tuple(crashed),
        interrupted=tuple(settled["interrupted"]),
        completed=tuple(settled["completed"]),
        abandoned=tuple(settled["abandoned"]),
    )
    if result.changed:
        log.warning("reconcile.closed_out", recon_id=recon_id, **result.describe())
    return result


def _unfinished(
    ledger: Ledger, account: str
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """The account's runs left ``running``, every run's process, and its unsettled intents."""
    runs_frame = ledger.query(
        "SELECT run_id, kind, pid, host, pid_started FROM runs WHERE status = 'running' "
        "AND (account = ? OR account IS NULL OR ? = '')",
        [account, account],
    )
    running = {str(r["run_id"]): r for r in _records(runs_frame)}
    all_runs = ledger.query("SELECT run_id, pid, host, pid_started FROM runs")
    runs = {str(r["run_id"]): r for r in _records(all_runs)}
    intents = ledger.query(
        "SELECT intent_id, run_id, symbol, status FROM intents WHERE status IN ('submitted', 'interrupted') "
        "AND (account = ? OR account IS NULL OR ? = '') ORDER BY created_at",
        [account, account],
    )
    return running, runs, _records(intents)


#: What each settled status says of the intent, for its risk event.
_SETTLED_BECAUSE = {
    "interrupted": "its legs work at the broker, unproven: a rerun today adopts and proves them, "
    "or cancel them",
    "completed": "every leg the broker lists is done",
    "abandoned": "none of its orders reached the broker",
}


def _intent_risk(
    intent: dict[str, Any], status: str, detail: dict[str, Any], *, account: str, run_id: str, now: datetime
) -> dict[str, Any]:
    """The ``intent_<status>`` risk event of an intent closed out (critical when interrupted)."""
    from catalyst.ledger import new_id

    intent_id = str(intent["intent_id"])
    return {
        "event_id": new_id(),
        "ts": now,
        "run_id": run_id or None,
        "account": account or None,
        "kind": f"intent_{status}",
        "severity": "critical" if status == "interrupted" else "warning",
        "symbol": intent["symbol"],
        "message": f"intent {intent_id} was left {intent['status']} by run {intent['run_id']}, whose "
        f"process is gone; closed out as {status}: {_SETTLED_BECAUSE[status]}",
        "detail": json.dumps({**detail, "intent_id": intent_id}, default=str),
    }


def _crash_risk(
    rid: str, run: dict[str, Any], *, account: str, recon_id: str, run_id: str, now: datetime
) -> dict[str, Any]:
    """The ``run_crashed`` risk event of a run whose process is gone."""
    from catalyst.ledger import new_id

    return {
        "event_id": new_id(),
        "ts": now,
        "run_id": run_id or None,
        "account": account or None,
        "kind": "run_crashed",
        "severity": "warning",
        "symbol": None,
        "message": f"{run['kind']} run {rid} was left running by process {run['pid']} on "
        f"{run['host']}, which is gone; closed out as crashed",
        "detail": json.dumps({"recon_id": recon_id, "run_id": rid, "pid": _int(run["pid"])}),
    }


def _write_close_out(
    ledger: Ledger,
    intent_updates: list[dict[str, Any]],
    abandoned: list[str],
    crashed: list[str],
    risks: list[dict[str, Any]],
    now: datetime,
) -> None:
    """One transaction: the intents' new statuses, an abandoned intent's unsent order rows become
    ``not_sent``, the crashed runs, and the risk events."""
    with ledger.transaction() as con:
        for row in intent_updates:
            con.execute(
                "UPDATE intents SET status = ?, detail = ? WHERE intent_id = ?",
                [row["status"], row["detail"], row["intent_id"]],
            )
        for intent_id in abandoned:
            con.execute(
                "UPDATE orders SET status = 'not_sent', updated_at = ? WHERE intent_id = ? "
                "AND status IN ('pending_submit', 'sent')",
                [now, intent_id],
            )
        for rid in crashed:
            con.execute(
                "UPDATE runs SET status = 'crashed', finished_at = ? WHERE run_id = ? AND status = 'running'",
                [now, rid],
            )
        if risks:
            ledger.append("risk_events", risks)
