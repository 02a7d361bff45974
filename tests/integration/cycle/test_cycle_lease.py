"""The trading cycle holds the account lease around decide-and-send (issue 10, item 2), over the
simulator in the default settings: while another process holds ``account:<ACCOUNT>`` a cycle (a
dry run too: it decides) waits up to ``risk.lease_wait_seconds``, then is refused with the holder
named and sends nothing; when the holder finishes within the wait, the cycle goes on."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from cycle_cli_project import SIM_CLOCK

from catalyst.config import BrokerSettings, PathSettings, RiskSettings, Settings
from catalyst.cycle.outcome import ExitCode
from catalyst.cycle.request import CycleRequest
from catalyst.cycle.steps import run_trading_cycle
from catalyst.ledger import Ledger
from catalyst.ledger.lease import account_lease_name, lease_holder
from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("cycle_lease")]

ACCOUNT = "DU0000001"
PARAMS = {"min_gap_pct": 0.0, "min_rvol": 0.5, "max_candidates": 2}
UNIVERSE = ("700", "5", "3988", "941")


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHandle]:
    handle = start_gateway(tmp_path_factory.mktemp("lease-gw"), clock=SIM_CLOCK, accounts=(ACCOUNT,))
    try:
        yield handle
    finally:
        handle.stop()


def settings(gw: GatewayHandle, root: Path, client_id: int, wait: float) -> Settings:
    return Settings(
        mode="sim",
        broker=BrokerSettings(host=gw.host, port=gw.port, client_id=client_id, connect_timeout=5),
        risk=RiskSettings(lease_wait_seconds=wait),
        paths=PathSettings(root=root),
    )


class Holder:
    """Another terminal's process holding the account lease until told to let go."""

    def __init__(self, state_dir: Path) -> None:
        code = textwrap.dedent(
            f"""
            import sys
            from catalyst.ledger.lease import acquire_lease
            lease = acquire_lease({str(state_dir)!r}, {account_lease_name(ACCOUNT)!r},
                                  purpose="trading cycle", run_id="RUN-OTHER-TERMINAL")
            print("held", flush=True)
            sys.stdin.readline()
            lease.release()
            from datetime import datetime, timezone
            print(datetime.now(timezone.utc).isoformat(), flush=True)
            """
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "held"

    def let_go(self) -> datetime:
        """Release the lease; when it was released."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        return datetime.fromisoformat(self.proc.stdout.readline().strip())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def entries(gw: GatewayHandle) -> int:
    return sum(1 for o in gw.control.orders() if str(o["order_ref"]).endswith(":P"))


@pytest.mark.parametrize("dry_run", [False, True], ids=["cycle", "dry-run"])
def test_a_cycle_refused_by_a_held_account_lease_decides_nothing_and_names_the_holder(
    gw: GatewayHandle, tmp_path: Path, dry_run: bool
) -> None:
    s = settings(gw, tmp_path, client_id=21 if dry_run else 22, wait=0.5)
    ledger = Ledger(s.ledger_path)
    holder = Holder(s.state_dir)
    try:
        before = entries(gw)
        request = CycleRequest(
            run_id=f"lease-refused-{dry_run}", strategy_params=PARAMS, universe=UNIVERSE, dry_run=dry_run
        )
        report = asyncio.run(run_trading_cycle(s, ledger, request, mode="sim"))
    finally:
        holder.stop()
    assert report.status == "refused"
    assert report.account == ACCOUNT
    assert f"pid {holder.proc.pid}" in report.message and "RUN-OTHER-TERMINAL" in report.message
    assert "nothing was sent" in report.message
    assert list(report.refused["code"]) == ["lease_held"]
    assert report.outcome().code is ExitCode.REFUSED
    assert entries(gw) == before
    assert ledger.scalar("SELECT count(*) FROM intents WHERE run_id = ?", [request.run_id]) == 0
    assert ledger.scalar("SELECT count(*) FROM reconciliations") == 0, "it reconciled before the lease"


def test_a_cycle_waits_for_the_lease_then_decides_and_lets_go_of_it(
    gw: GatewayHandle, tmp_path: Path
) -> None:
    s = settings(gw, tmp_path, client_id=23, wait=120)
    ledger = Ledger(s.ledger_path)
    holder = Holder(s.state_dir)
    request = CycleRequest(run_id="lease-waits", strategy_params=PARAMS, universe=UNIVERSE, dry_run=True)

    released: list[datetime] = []

    async def main() -> object:
        task = asyncio.create_task(run_trading_cycle(s, ledger, request, mode="sim"))
        while not any(c["client_id"] == 23 for c in gw.control.status()["clients"]):
            assert not task.done(), task.result()
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # give it the chance to (wrongly) go ahead; it must still be waiting
        assert not task.done(), "the cycle did not wait for the lease"
        assert ledger.scalar("SELECT count(*) FROM reconciliations") == 0
        released.append(await asyncio.to_thread(holder.let_go))
        return await asyncio.wait_for(task, 300)

    try:
        report = asyncio.run(main())
    finally:
        holder.stop()
    assert getattr(report, "status", None) == "dry_run", getattr(report, "message", report)
    assert lease_holder(s.state_dir, account_lease_name(ACCOUNT)) is None, "the cycle kept the lease"
    started = ledger.query("SELECT ts FROM reconciliations WHERE run_id = ?", [request.run_id])["ts"]
    assert len(started) == 1 and started[0].to_pydatetime() >= released[0], "it reconciled before the lease"
