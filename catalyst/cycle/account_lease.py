"""One trader per account: the trading cycle's hold on the account lease around decide-and-send.

A cycle takes ``account:<ACCOUNT>`` (:func:`catalyst.ledger.lease.account_lease_name`) after it
connects, so the account is the one the broker session resolved, and before reconciliation and the
pre-trade decision; it holds it until its last bracket is proven or failed. A second cycle of the same
account (another terminal, the schedule, a notebook run by hand) waits up to
``risk.lease_wait_seconds``, then decides on what the first one opened; if the lease is still held,
it is refused with the holder named and sends nothing (report status ``refused``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd
import structlog

from catalyst.cycle.report import REFUSED_COLUMNS, CycleReport
from catalyst.cycle.request import CycleRequest
from catalyst.ledger.errors import LeaseHeldError
from catalyst.ledger.lease import Lease, account_lease_name, lease_holder
from catalyst.market import HK_TZ, accepts_new_orders, phase

log = structlog.get_logger(__name__)

#: ``CycleReport.status`` of a cycle refused because another trader held the account.
REFUSED_STATUS = "refused"
LEASE_PURPOSE = "trading cycle"


async def take_account_lease(state_dir: Path | str, account: str, *, run_id: str, wait: float) -> Lease:
    """Hold the account's decide-and-send lease, waiting up to ``wait`` s without blocking the
    event loop; :class:`LeaseHeldError` names the holder when it is still held after that."""
    lease = Lease(state_dir, account_lease_name(account), purpose=LEASE_PURPOSE, run_id=run_id)
    started = time.monotonic()
    waited_for = ""
    if not lease.try_acquire():
        holder = lease_holder(state_dir, lease.name)
        waited_for = holder.describe() if holder is not None else "another process"
        log.warning("cycle.lease.waiting", lease=lease.name, run_id=run_id, holder=waited_for, wait=wait)
        try:
            await lease.acquire_async(wait)
        except LeaseHeldError as exc:
            log.error("cycle.lease.refused", lease=lease.name, run_id=run_id, error=str(exc))
            raise
    log.info(
        "cycle.lease.acquired",
        lease=lease.name,
        run_id=run_id,
        waited_seconds=round(time.monotonic() - started, 3),
        waited_for=waited_for,
    )
    return lease


def release_account_lease(lease: Lease, *, run_id: str) -> None:
    lease.release()
    log.info("cycle.lease.released", lease=lease.name, run_id=run_id)


async def lease_refused_report(
    broker: Any, request: CycleRequest, *, mode: str, error: LeaseHeldError
) -> CycleReport:
    """The report of a cycle that decided nothing and sent nothing: another trader held the account."""
    now = (await broker.server_time()).astimezone(HK_TZ)
    message = str(error)
    refused = pd.DataFrame(
        [
            {
                "stage": "account lease",
                "intent_id": "",
                "symbol": "",
                "side": "",
                "code": "lease_held",
                "reason": str(error),
            }
        ],
        columns=REFUSED_COLUMNS,
    )
    log.warning("cycle.finished", run_id=request.run_id, status=REFUSED_STATUS, message=message)
    return CycleReport(
        run_id=request.run_id,
        mode=mode,
        account=str(broker.account),
        server_time=now,
        phase=phase(now).value,
        accepts_orders=accepts_new_orders(now),
        status=REFUSED_STATUS,
        message=message,
        refused=refused,
        positions_after=await broker.positions(),
        open_orders_after=await broker.open_orders(),
    )
