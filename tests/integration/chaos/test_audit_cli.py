"""`catalyst broker audit`, the check the soak relies on, as a trader runs it over the simulator in
the default settings: exit 0 on a clean account, 1 naming each violation with its orders, 2 with
a message (never a traceback) when it cannot check."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from chaos_project import CATALYST, SIM_CLOCK, project_env
from ib_async import IB, LimitOrder, Stock

from catalyst.ledger import Ledger
from catalyst.market import security, ticks_from
from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("chaos_audit_cli")]

ACCOUNT = "DU0000001"


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[GatewayHandle]:
    # a margin account, where a working exit on a flat symbol is a short sale waiting to happen
    handle = start_gateway(
        tmp_path / "gw", clock=SIM_CLOCK, accounts=(ACCOUNT,), behaviour=("cash_account=false",)
    )
    try:
        yield handle
    finally:
        handle.stop()


def audit(root: Path, gateway: GatewayHandle | None, *args: str) -> subprocess.CompletedProcess[str]:
    """`catalyst broker audit` in the project (``gateway`` None: a port where nothing listens)."""
    env = {"CATALYST_PATHS__ROOT": str(root), "CATALYST_MODE": "sim", "CATALYST_SIM__PORT": "9"}
    return subprocess.run(
        [str(CATALYST), "broker", "audit", *args],
        cwd=root,
        env={**_base_env(), **(env if gateway is None else project_env(root, gateway))},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("CATALYST_")}


def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "state").mkdir(parents=True)
    Ledger(root / "state" / "ledger.duckdb").tables()  # a ledger, empty, as `catalyst reconcile` leaves it
    return root


def place_resting_sell(gateway: GatewayHandle, order_ref: str) -> int:
    """A take-profit-like SELL limit above the market in 700 (20 ticks: as far as HKEX's quotation
    rule lets it rest), placed by another API client."""
    last = Decimal(str(gateway.control.quote("700")["last"]))
    price = ticks_from(last, 20, "up", on=date(2026, 11, 24), table=security("700").spread_table)
    ib = IB()
    ib.connect(gateway.host, gateway.port, clientId=7, timeout=10)
    try:
        [contract] = ib.qualifyContracts(Stock("700", "SEHK", "HKD"))
        trade = ib.placeOrder(contract, LimitOrder("SELL", 100, float(price), orderRef=order_ref, tif="GTC"))
        deadline = 100
        while not trade.order.permId and deadline:
            ib.sleep(0.05)
            deadline -= 1
        return int(trade.order.permId)
    finally:
        ib.disconnect()


def test_a_clean_account_audits_clean_with_exit_0(gateway: GatewayHandle, tmp_path: Path) -> None:
    done = audit(project(tmp_path), gateway)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"audit of {ACCOUNT}: clean" in done.stdout


def test_a_working_exit_on_a_flat_symbol_exits_1_naming_rule_symbol_order_and_perm_id(
    gateway: GatewayHandle, tmp_path: Path
) -> None:
    root = project(tmp_path)
    perm_id = place_resting_sell(gateway, "deadbeef00-700-B-0:TP")
    done = audit(root, gateway)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith(("naked_exit", "unknown_catalyst_order"))]
    naked = [ln for ln in lines if ln.startswith("naked_exit [700]")]
    unknown = [ln for ln in lines if ln.startswith("unknown_catalyst_order [700]")]
    assert naked and unknown, done.stdout
    assert "deadbeef00-700-B-0:TP" in naked[0] and str(perm_id) in naked[0]
    assert f"audit of {ACCOUNT}: 2 violation(s)" in done.stdout
    as_json = audit(root, gateway, "--json")
    assert as_json.returncode == 1 and '"rule": "naked_exit"' in as_json.stdout


def test_an_unreachable_gateway_exits_2_with_a_message(tmp_path: Path) -> None:
    done = audit(project(tmp_path), None)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "error:" in done.stderr and "Traceback" not in done.stderr + done.stdout


def test_no_ledger_exits_2_naming_the_path(tmp_path: Path) -> None:
    root = tmp_path / "empty-project"
    root.mkdir()
    done = audit(root, None)
    assert done.returncode == 2 and "no ledger at" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("grace", ["-1", "nan", "inf"])
def test_a_grace_that_is_not_a_number_of_seconds_exits_2(
    grace: str, gateway: GatewayHandle, tmp_path: Path
) -> None:
    done = audit(project(tmp_path), gateway, "--grace", grace)
    assert done.returncode == 2 and "--grace" in done.stderr and "Traceback" not in done.stderr
