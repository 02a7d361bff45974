"""Finding 6 of issue 10, as a trader meets it: the simulator drops every bracket's children, and
`catalyst cycle` runs as a real process in the default settings (no account, no alert channel).

The cycle cannot prove its brackets; the broker module cancels and flattens. A human must hear of it
(the alert file when no channel is set, the channels when they are) and cron must see it: the
process exits with the unproven-bracket code, not 0.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from risk_alert_receivers import HttpReceiver, SmtpReceiver

from catalyst.cycle.outcome import ExitCode
from catalyst.ledger import Ledger
from catalyst.risk.alerts import read_alert_file
from catalyst.sim.gateway.launcher import GatewayHandle, start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("unproven_cycle")]

#: A Tuesday morning in continuous trading (HK time): the cycle scans and sends.
SIM_CLOCK = "2026-11-24T10:00:00+08:00"
CATALYST = Path(sys.executable).with_name("catalyst")


def cycle_params(candidates: int) -> list[str]:
    return [
        "-p",
        "universe",
        "700,5,3988,2388,1211,1299",
        "-p",
        "strategy_params",
        json.dumps({"min_gap_pct": 0.0, "min_rvol": 0.5, "max_candidates": candidates}),
    ]


@dataclass
class Project:
    """A trader's folder with its own simulated gateway, children dropped by the exchange."""

    root: Path
    gateway: GatewayHandle

    def cycle(self, candidates: int, **env: str) -> subprocess.CompletedProcess[str]:
        """`catalyst cycle` from the project folder, with nothing configured but sim mode and the
        gateway's port (no CATALYST_* of the test run leaks in: no account, no alert URL)."""
        clean = {k: v for k, v in os.environ.items() if not k.startswith("CATALYST_")}
        clean.update({"CATALYST_MODE": "sim", "CATALYST_SIM__PORT": str(self.gateway.port), **env})
        return subprocess.run(
            [str(CATALYST), "cycle", "--no-progress", *cycle_params(candidates)],
            cwd=self.root,
            env=clean,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    @property
    def alert_file(self) -> Path:
        return self.root / "state" / "alerts.jsonl"

    def ledger_alerts(self) -> list[dict[str, object]]:
        rows = Ledger(self.root / "state" / "ledger.duckdb").query(
            "SELECT title, severity, delivered, failure FROM alerts ORDER BY ts"
        )
        return [{str(k): v for k, v in row.items()} for row in rows.to_dict("records")]

    def folder(self, done: subprocess.CompletedProcess[str]) -> Path:
        """The run folder the command printed."""
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("Run folder:")]
        assert lines, done.stdout + done.stderr
        return Path(lines[-1].split(":", 1)[1].strip())

    def manifest(self, done: subprocess.CompletedProcess[str]) -> dict[str, object]:
        return dict(json.loads((self.folder(done) / "manifest.json").read_text()))


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    handle = start_gateway(tmp_path / "sim", clock=SIM_CLOCK, faults=("drop-children",))
    try:
        yield Project(root=tmp_path / "trader", gateway=handle)
    finally:
        handle.stop()


def _output(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"


def test_with_no_channel_an_unproven_cycle_alerts_into_the_alert_file_and_exits_unproven(
    project: Project,
) -> None:
    project.root.mkdir()
    done = project.cycle(candidates=2)

    assert done.returncode == ExitCode.UNPROVEN, _output(done)
    alerts = read_alert_file(project.alert_file)
    titles = [str(a["title"]) for a in alerts]
    unproven = [t for t in titles if t.startswith("Bracket NOT proven")]
    assert len(unproven) == 2, titles
    summary = [t for t in titles if "0 of 2 bracket(s) proven" in t]
    assert len(summary) == 1, titles
    assert {a["severity"] for a in alerts if a["title"] in unproven + summary} == {"critical"}
    assert all("no alert channels configured" in str(a["failure"]) for a in alerts)
    # the ledger says each alert was not delivered, and why
    recorded = project.ledger_alerts()
    assert {str(r["title"]) for r in recorded} >= set(unproven + summary)
    assert all(not r["delivered"] and "no alert channels" in str(r["failure"]) for r in recorded)
    # the trader sees it on the terminal, and the archive records the outcome
    assert "NOT DELIVERED" in done.stderr and "Bracket NOT proven" in done.stderr, _output(done)
    assert "exit 6, unproven" in done.stderr, _output(done)
    manifest = project.manifest(done)
    outcome = dict(manifest["summary"])["outcome"]  # type: ignore[call-overload]
    assert outcome["exit_code"] == ExitCode.UNPROVEN and outcome["proven"] == 0
    assert len(outcome["unproven"]) == 2
    # and the run's own log says each alert went undelivered
    events = [json.loads(line) for line in (project.folder(done) / "events.jsonl").read_text().splitlines()]
    undelivered = [e["title"] for e in events if e.get("event") == "alerts.undelivered"]
    assert set(unproven + summary) <= set(undelivered), undelivered


def test_with_channels_set_the_alerts_reach_a_real_http_receiver_and_smtp_server(
    project: Project, http_receiver: HttpReceiver, smtp_receiver: SmtpReceiver
) -> None:
    project.root.mkdir()
    done = project.cycle(candidates=1, CATALYST_ALERT_URLS=f"{http_receiver.url} {smtp_receiver.url}")

    assert done.returncode == ExitCode.UNPROVEN, _output(done)
    posted = [str(p.get("title", "")) for p in http_receiver.posts]
    assert any(t.startswith("Bracket NOT proven") for t in posted), posted
    assert any("0 of 1 bracket(s) proven" in t for t in posted), posted
    mailed = "\n".join(smtp_receiver.bodies())
    assert "Bracket NOT proven" in mailed and "0 of 1 bracket(s) proven" in mailed
    assert not project.alert_file.exists(), "delivered alerts do not go to the fallback file"
    assert all(bool(r["delivered"]) for r in project.ledger_alerts())
