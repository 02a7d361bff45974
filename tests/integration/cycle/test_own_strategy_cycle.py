"""Issue 13 §2 acceptance, as a trader meets it: a strategy in the project's own `strategies/` folder
(nothing in catalyst/ edited) is listed by `catalyst strategy list`, backtested and swept on a Dask
LocalCluster by the research notebook (`catalyst research`), traded by a real `catalyst cycle` on the
simulator (named by the settings, as `catalyst schedule` runs it) with its name, parameters and
source hash in the run's manifest, and the review flags a replay of that cycle once the code has
changed; a strategy that raises is a clear error naming it, and nothing is sent."""

from __future__ import annotations

import hashlib
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cycle_cli_project import SIM_CLOCK, CliProject, project_env

from catalyst.sim.gateway.launcher import start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("cycle_cli")]

ACCOUNT = "DU0000001"

#: Proposes 700 at every decision time: entry at the last close, stop 1 % below, target 2 % above.
ALWAYS_700 = textwrap.dedent('''
    """Buy 700 at the last close: the simplest strategy a trader could write."""

    from dataclasses import dataclass
    from datetime import datetime, time
    from typing import ClassVar

    import pandas as pd

    from catalyst.market import HK_TZ, to_hk
    from catalyst.research import Strategy
    from catalyst.research.strategy_base import SIGNAL_COLUMNS


    @dataclass(frozen=True)
    class AlwaysParams:
        stop_pct: float = 0.01
        target_pct: float = 0.02


    class Always700(Strategy):
        name: ClassVar[str] = "always-700"
        params_type: ClassVar[type] = AlwaysParams

        def signals(self, bars, *, at=None):
            mine = bars.loc[bars["symbol"] == "700"]
            if mine.empty:
                return pd.DataFrame(columns=list(SIGNAL_COLUMNS))
            when = to_hk(at) if at is not None else datetime.combine(
                mine["time"].iloc[-1].date(), time(10, 0), tzinfo=HK_TZ)
            px = float(mine["close"].iloc[-1])
            row = dict(symbol="700", at=pd.Timestamp(when), side="BUY", entry=px,
                       stop=px * (1 - self.params.stop_pct), target=px * (1 + self.params.target_pct),
                       score=1.0, reason="always")
            return pd.DataFrame([row], columns=list(SIGNAL_COLUMNS))
''')

RAISES = ALWAYS_700.replace('"always-700"', '"broken-idea"').replace(
    "        mine = bars", "        raise KeyError('no column named vwap')\n        mine = bars"
)


def manifest_of(stdout: str) -> dict[str, Any]:
    line = next(ln for ln in stdout.splitlines() if ln.startswith("Run folder:"))
    return dict(json.loads((Path(line.split(":", 1)[1].strip()) / "manifest.json").read_text()))


@pytest.fixture
def project(tmp_path: Path) -> Iterator[CliProject]:
    root = tmp_path / "project"
    (root / "strategies").mkdir(parents=True)
    (root / "strategies" / "always.py").write_text(ALWAYS_700, encoding="utf-8")
    handle = start_gateway(tmp_path / "gw", clock=SIM_CLOCK, accounts=(ACCOUNT,))
    try:
        yield CliProject(root=root, gateway=handle, env=project_env(root, handle))
    finally:
        handle.stop()


def test_a_strategy_in_the_projects_folder_is_listed_traded_and_hashed_in_the_manifest(
    project: CliProject,
) -> None:
    source = project.root / "strategies" / "always.py"
    listed = project.catalyst("strategy", "list")
    assert listed.returncode == 0, listed.stderr
    assert "always-700\n  from: file " + str(source.resolve()) in listed.stdout
    assert "stop_pct = 0.01" in listed.stdout and "catalyst-momentum" in listed.stdout

    research = project.catalyst(
        "research", "--no-progress", "-p", "strategy", "always-700", "-p", "params", "{}",
        "-p", "symbols", "700", "-p", "start", "2025-01-02", "-p", "end", "2025-01-31",
        "-p", "compare", "[]", "-p", "grid", '{"stop_pct": [0.01, 0.02]}', "-p", "sweep_executor", "dask",
    )  # fmt: skip
    assert research.returncode == 0, f"{research.stdout}\n{research.stderr}"
    studied = manifest_of(research.stdout)
    assert studied["summary"]["strategy"]["sources"] == {
        str(source.resolve()): hashlib.sha256(source.read_bytes()).hexdigest()
    }
    folder = Path(
        next(ln for ln in research.stdout.splitlines() if ln.startswith("Run folder:"))
        .split(":", 1)[1]
        .strip()
    )
    events = [json.loads(ln) for ln in (folder / "events.jsonl").read_text().splitlines() if ln.strip()]
    assert [e["workers"] for e in events if e.get("event") == "research.sweep.local_cluster"] == [2]
    notebook = json.loads(next(folder.glob("*.ipynb")).read_text())
    sweep_cell = next(c for c in notebook["cells"] if "".join(c["source"]).startswith("sweep("))
    table = "".join(sweep_cell["outputs"][-1]["data"]["text/plain"])
    assert "stop_pct" in table and len(table.splitlines()) == 3, table  # a header and two parameter sets

    # The schedule runs `catalyst cycle --mode ...` without -p: the settings name the strategy.
    (project.root / "catalyst.toml").write_text(
        '[research]\ncycle_strategy = "always-700"\ncycle_strategy_params = { stop_pct = 0.015 }\n',
        encoding="utf-8",
    )
    cycle = project.catalyst("cycle", "--no-progress", "-p", "universe", "700")
    shown = f"--- cycle (exit {cycle.returncode}) ---\n{cycle.stdout}\n{cycle.stderr}"
    assert cycle.returncode == 0, shown
    entries = project.entries()
    assert [o["symbol"] for o in entries] == ["700"], shown
    recorded = manifest_of(cycle.stdout)["summary"]["strategy"]
    assert recorded["name"] == "always-700"
    assert recorded["params"] == {"stop_pct": 0.015, "target_pct": 0.02}
    assert recorded["sources"] == {str(source.resolve()): hashlib.sha256(source.read_bytes()).hexdigest()}

    # The trader edits the strategy afterwards: the review's replay of that cycle is not the cycle's
    # code any more, and the review says so instead of comparing as if it were.
    source.write_text(ALWAYS_700.replace("0.02\n", "0.03\n"), encoding="utf-8")
    review = project.catalyst("review", "--no-progress", "-p", "day", SIM_CLOCK[:10])
    assert review.returncode == 0, f"{review.stdout}\n{review.stderr}"
    folder = Path(
        next(ln for ln in review.stdout.splitlines() if ln.startswith("Run folder:")).split(":", 1)[1].strip()
    )
    html = (folder / "review.html").read_text(encoding="utf-8")
    assert "strategy &#x27;always-700&#x27; changed since the cycle" in html or (
        "strategy 'always-700' changed since the cycle" in html
    ), "the review names the changed code"
    assert recorded["fingerprint"][:12] in html


def test_a_strategy_that_raises_is_an_error_naming_it_and_nothing_is_sent(project: CliProject) -> None:
    (project.root / "strategies" / "broken.py").write_text(RAISES, encoding="utf-8")
    cycle = project.catalyst(
        "cycle", "--no-progress", "-p", "universe", "700", "-p", "strategy", "broken-idea",
        "-p", "strategy_params", "{}",
    )  # fmt: skip
    shown = f"--- cycle (exit {cycle.returncode}) ---\n{cycle.stdout}\n{cycle.stderr}"
    assert cycle.returncode == 2, shown  # bad input: the trader's strategy, named
    assert "strategy 'broken-idea' raised KeyError" in cycle.stdout + cycle.stderr, shown
    assert "no column named vwap" in cycle.stdout + cycle.stderr, shown
    assert project.entries() == [], shown
    folder = Path(
        next(ln for ln in cycle.stdout.splitlines() if ln.startswith("Run folder:")).split(":", 1)[1].strip()
    )
    report = (folder / "cycle.html").read_text(encoding="utf-8")
    assert "strategy_failed" in report and "raised KeyError" in report, "the cycle report shows it"
