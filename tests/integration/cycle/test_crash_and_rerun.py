"""Findings 4 and 5 of issue 10, as a trader meets them: default settings, the simulator, and real
`catalyst cycle` / `catalyst reconcile` processes. A cycle dies by SIGKILL (its notebook kernel and
the `catalyst` process that runs it, as when the machine dies) right after sending a bracket:

* finding 4: afterwards, every broker order that carries a Catalyst orderRef is in the ledger's
  orders table, linked to its intent, whether the crash came before the broker answered or after
  it proved the bracket; `catalyst reconcile` closes out the dead run and its intent;
* finding 5: a rerun on the same day computes the same intent id, adopts the crashed run's legs
  and says so, and sends no second order.

The crash is placed with the test-only crash points of ``catalyst.broker.crash_points``; the
gateway's clock is frozen so that both runs see the same market and decide the same trade.
"""

from __future__ import annotations

import json
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cycle_cli_project import CATALYST, SIM_CLOCK, CliProject, project_env

from catalyst.domain import InvalidIntentError, parse_order_ref
from catalyst.sim.gateway.launcher import start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("cycle_cli")]

ACCOUNT = "DU0000001"
#: One candidate per cycle (the first it finds), so the crash point is the cycle's only bracket.
PARAMS = (
    "-p",
    "universe",
    "700,5,3988,2388,1211,1299,941",
    "-p",
    "strategy_params",
    '{"min_gap_pct": 0.0, "min_rvol": 0.5, "max_candidates": 1}',
)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[CliProject]:
    root = tmp_path / "project"
    root.mkdir()
    # speed 0 freezes the simulated clock: the rerun sees the market the crashed run saw
    handle = start_gateway(tmp_path / "gw", clock=SIM_CLOCK, accounts=(ACCOUNT,), speed=0.0)
    try:
        yield CliProject(root=root, gateway=handle, env=project_env(root, handle))
    finally:
        handle.stop()


def catalyst_orders_at_gateway(project: CliProject) -> list[dict[str, Any]]:
    """Every order the gateway received whose orderRef is a Catalyst bracket leg's."""
    found = []
    for o in project.gateway.control.orders():
        try:
            parse_order_ref(str(o["order_ref"]))
        except InvalidIntentError:
            continue
        found.append(o)
    return found


def crash_a_cycle(project: CliProject, point: str, log: Path) -> str:
    """Run `catalyst cycle` until it dies by SIGKILL at ``point`` (kernel and parent); its output."""
    env = project._env({"CATALYST_CRASH_POINT": point, "CATALYST_CRASH_PARENT": "1"})
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(CATALYST), "cycle", "--no-progress", *PARAMS],
            cwd=project.root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so nothing of it outlives the test
        )
        try:
            code = proc.wait(timeout=600)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    output = log.read_text(errors="replace")
    assert code == -signal.SIGKILL, f"the cycle was to die by SIGKILL at {point}, exit {code}:\n{output}"
    return output


def run_events(output: str) -> list[dict[str, Any]]:
    """The structured log of the run whose folder `catalyst cycle` printed (what its report says)."""
    folders = [ln.split(":", 1)[1].strip() for ln in output.splitlines() if ln.startswith("Run folder:")]
    assert folders, output
    path = Path(folders[-1]) / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def ledger_orders(project: CliProject) -> dict[str, dict[str, Any]]:
    frame = project.ledger.query("SELECT order_ref, intent_id, status, perm_id, client_id FROM orders")
    return {str(r["order_ref"]): r for r in frame.to_dict("records")}


def assert_every_catalyst_order_in_the_ledger(project: CliProject, shown: str) -> list[dict[str, Any]]:
    at_gateway = catalyst_orders_at_gateway(project)
    assert len(at_gateway) >= 3, f"the crashed cycle must have sent a bracket first:\n{shown}"
    rows = ledger_orders(project)
    intents = set(project.ledger.query("SELECT intent_id FROM intents")["intent_id"].astype(str))
    for o in at_gateway:
        ref = str(o["order_ref"])
        assert ref in rows, f"{ref} is at the broker but not in the ledger's orders:\n{shown}"
        intent_id, _role = parse_order_ref(ref)
        assert rows[ref]["intent_id"] == intent_id
        assert intent_id in intents, f"order {ref} is not linked to a recorded intent"
    return at_gateway


@pytest.mark.parametrize("point", ["bracket_placed", "bracket_proven"])
def test_a_cycle_killed_after_sending_leaves_every_order_in_the_ledger_and_reconcile_closes_it_out(
    project: CliProject, tmp_path: Path, point: str
) -> None:
    crashed = crash_a_cycle(project, point, tmp_path / "crashed.log")

    # on record before they left: nothing ran after placeOrder, yet the ledger knows every leg
    at_gateway = assert_every_catalyst_order_in_the_ledger(project, crashed)
    before = ledger_orders(project)
    assert {before[str(o["order_ref"])]["status"] for o in at_gateway} <= {"pending_submit", "sent"} | (
        {"PreSubmitted", "Submitted", "Filled"} if point == "bracket_proven" else set()
    )

    done = project.catalyst("reconcile", "--no-progress")
    shown = f"{crashed}\n--- reconcile (exit {done.returncode}) ---\n{done.stdout}{done.stderr}"
    assert done.returncode == 0, shown
    assert_every_catalyst_order_in_the_ledger(project, shown)
    after = ledger_orders(project)
    for o in at_gateway:  # the broker's word replaced what the dead process last wrote
        row = after[str(o["order_ref"])]
        assert row["status"] not in ("pending_submit", "sent"), (row, shown)
        assert int(row["perm_id"]) == int(o["perm_id"]), (row, o)
    ledger = project.ledger
    runs = ledger.query("SELECT kind, status FROM runs WHERE kind = 'cycle'")
    assert runs.to_dict("records") == [{"kind": "cycle", "status": "crashed"}], shown
    (intent_id,) = {parse_order_ref(str(o["order_ref"]))[0] for o in at_gateway}
    status = ledger.scalar("SELECT status FROM intents WHERE intent_id = ?", [intent_id])
    assert status == "interrupted", shown
    events = ledger.query("SELECT kind FROM risk_events WHERE kind IN ('intent_interrupted', 'run_crashed')")
    assert sorted(events["kind"]) == ["intent_interrupted", "run_crashed"], shown


@pytest.mark.parametrize("point", ["bracket_placed", "bracket_proven"])
def test_a_rerun_on_the_same_day_adopts_the_crashed_runs_legs_and_sends_nothing_twice(
    project: CliProject, tmp_path: Path, point: str
) -> None:
    crashed = crash_a_cycle(project, point, tmp_path / "crashed.log")
    sent_before = catalyst_orders_at_gateway(project)
    assert len(sent_before) == 3, f"the crashed cycle sent one bracket:\n{crashed}"

    rerun = project.catalyst("cycle", "--no-progress", *PARAMS)
    shown = f"{crashed}\n--- rerun (exit {rerun.returncode}) ---\n{rerun.stdout}{rerun.stderr}"
    assert rerun.returncode == 0, shown

    sent_after = catalyst_orders_at_gateway(project)
    assert Counter(str(o["order_ref"]) for o in sent_after) == Counter(
        str(o["order_ref"]) for o in sent_before
    ), f"the rerun sent orders again:\n{shown}"
    entries = Counter(str(o["symbol"]) for o in sent_after if str(o["order_ref"]).endswith(":P"))
    assert all(n == 1 for n in entries.values()), entries
    finished = [e for e in run_events(rerun.stdout) if e.get("event") == "cycle.finished"]
    assert finished and "1 adopted" in str(finished[-1]["message"]), (finished, shown)
    (intent_id,) = {parse_order_ref(str(o["order_ref"]))[0] for o in sent_before}
    row = project.ledger.query("SELECT status, detail, run_id FROM intents WHERE intent_id = ?", [intent_id])
    assert row["status"].tolist() == ["proven"], shown
    assert '"adopted": true' in str(row["detail"].iloc[0]), row.to_dict("records")
