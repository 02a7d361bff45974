"""The shipped example strategy, copied into a trader's project, is backtested by the research notebook
(`catalyst research`, a real papermill run) and the run's manifest names its code and parameters."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[3]
CATALYST = Path(sys.executable).with_name("catalyst")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_research_notebook_backtests_the_example_strategy_and_the_manifest_names_its_code(
    tmp_path: Path,
) -> None:
    (tmp_path / "strategies").mkdir()
    source = tmp_path / "strategies" / "mean_reversion.py"
    shutil.copy(REPO / "strategies" / "mean_reversion.py", source)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALYST_")}
    # a port of its own, and the gateway `catalyst research` starts is stopped afterwards: left on
    # the default port it would answer the next project's commands (a trader's `make demo` included)
    env |= {"CATALYST_PATHS__ROOT": str(tmp_path), "CATALYST_SIM__PORT": str(_free_port())}
    try:
        done = subprocess.run(
            [str(CATALYST), "research", "--no-progress", "-p", "strategy", "mean-reversion",
             "-p", "params", '{"min_z": 1.5}'],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
    finally:
        stop = [str(CATALYST), "gateway", "stop"]
        subprocess.run(stop, cwd=tmp_path, env=env, capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    folder = Path(
        next(ln for ln in done.stdout.splitlines() if ln.startswith("Run folder:")).split(":", 1)[1].strip()
    )
    manifest = json.loads((folder / "manifest.json").read_text())
    recorded = manifest["summary"]["strategy"]
    assert recorded["name"] == "mean-reversion" and recorded["origin"] == f"file {source.resolve()}"
    assert recorded["params"]["min_z"] == 1.5 and recorded["params"]["lookback_days"] == 10
    assert recorded["sources"] == {str(source.resolve()): hashlib.sha256(source.read_bytes()).hexdigest()}
    notebook = next(folder.glob("*.ipynb")).read_text()
    assert "research.backtest.done" in notebook or "total_return" in notebook
