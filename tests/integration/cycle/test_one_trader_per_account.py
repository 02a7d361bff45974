"""Finding 2 of issue 10: two `catalyst cycle` runs started 50 ms apart from two terminals (client
ids 1 and 2), default settings, the simulator. One trader per account at a time: the second waits
for the first to finish deciding and sending, then decides on the positions the first opened (or
is refused, naming the holder); it never sends a second entry in a symbol."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cycle_cli_project import CYCLE_PARAMS, SIM_CLOCK, CliProject, project_env, stop_process

from catalyst.sim.gateway.launcher import start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("cycle_cli")]

ACCOUNT = "DU0000001"
LIMIT = Decimal("500000")  # risk.max_notional_per_position_hkd, the default


@pytest.fixture
def project(tmp_path: Path) -> Iterator[CliProject]:
    root = tmp_path / "project"
    root.mkdir()
    handle = start_gateway(tmp_path / "gw", clock=SIM_CLOCK, accounts=(ACCOUNT,))
    try:
        yield CliProject(root=root, gateway=handle, env=project_env(root, handle))
    finally:
        handle.stop()


def test_two_cycles_started_50_ms_apart_send_at_most_one_entry_per_symbol(
    project: CliProject, tmp_path: Path
) -> None:
    logs = [tmp_path / "cycle-1.log", tmp_path / "cycle-2.log"]
    first = project.start(
        "cycle", "--no-progress", *CYCLE_PARAMS, log=logs[0], extra_env={"CATALYST_BROKER__CLIENT_ID": "1"}
    )
    time.sleep(0.05)  # the second terminal, 50 ms later (a start offset, not a wait for an event)
    second = project.start(
        "cycle", "--no-progress", *CYCLE_PARAMS, log=logs[1], extra_env={"CATALYST_BROKER__CLIENT_ID": "2"}
    )
    try:
        codes = [first.wait(timeout=600), second.wait(timeout=600)]
    finally:
        for proc in (first, second):
            stop_process(proc)
    outputs = [log.read_text() for log in logs]
    shown = "\n".join(
        f"--- cycle {i + 1} (exit {c}) ---\n{o}" for i, (c, o) in enumerate(zip(codes, outputs, strict=True))
    )

    entries = project.entries()
    assert entries, "the first cycle must send something, or this test proves nothing:\n" + shown
    per_symbol = Counter(str(o["symbol"]) for o in entries)
    assert all(n == 1 for n in per_symbol.values()), f"two entries in one symbol: {per_symbol}\n{shown}"
    for o in entries:
        notional = Decimal(str(o["total_quantity"])) * Decimal(str(o["lmt_price"]))
        assert notional <= LIMIT, f"{o['symbol']}: {notional} HKD over the per-position limit {LIMIT}"
    for position in project.gateway.control.positions(ACCOUNT):
        assert abs(int(position["quantity"])) * Decimal(str(position["avg_cost"])) <= LIMIT * Decimal("1.01")

    # the later one either waited for the lease and then decided on what the first had opened,
    # or was refused with the holder named; it never decided while the first was deciding
    refused = [out for out in outputs if "held by pid" in out]
    for out in refused:
        assert "nothing was sent" in out, shown
    if not refused:
        events = [e for out in outputs for e in run_events(out)]
        held = [e for e in events if e.get("event") == "cycle.lease.acquired"]
        assert len(held) == 2, shown
        waited = [e for e in held if e.get("waited_for")]
        assert len(waited) == 1, held
        first_run = next(e["run_id"] for e in held if not e.get("waited_for"))
        first_done = next(
            e for e in events if e.get("event") == "cycle.lease.released" and e["run_id"] == first_run
        )
        assert waited[0]["timestamp"] >= first_done["timestamp"], (waited, first_done)
        assert first_run in waited[0]["waited_for"], waited  # the holder it waited for, named


def run_events(output: str) -> list[dict[str, Any]]:
    """The structured log of the run whose folder `catalyst cycle` printed."""
    folders = [ln.split(":", 1)[1].strip() for ln in output.splitlines() if ln.startswith("Run folder:")]
    if not folders:
        return []
    path = Path(folders[-1]) / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
