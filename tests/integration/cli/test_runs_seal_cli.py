"""`catalyst runs seal` over the command line: a crashed run is acknowledged, verify passes again and
still lists the run, and the ledger's row says crashed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from bad_inputs import LEDGER, catalyst_script, unsealed_run

from catalyst.ledger import Ledger

pytestmark = [pytest.mark.integration]


def _catalyst(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALYST_")}
    return subprocess.run(
        [str(catalyst_script()), *args], cwd=project, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_crashed_run_is_sealed_by_hand_and_the_archive_verifies_again(tmp_path: Path) -> None:
    unsealed_run(tmp_path)
    before = _catalyst(tmp_path, "runs", "verify")
    assert before.returncode == 1 and "UNSEALED" in before.stdout

    sealed = _catalyst(tmp_path, "runs", "seal", "3fa9c1", "--reason", "SIGKILL by the OOM killer")
    assert sealed.returncode == 0, sealed.stderr
    assert "sealed as crashed" in sealed.stdout

    after = _catalyst(tmp_path, "runs", "verify")
    assert after.returncode == 0, after.stdout + after.stderr
    assert "archive verified: 1 run(s)" in after.stdout
    listed = _catalyst(tmp_path, "runs", "list")
    assert "093012-cycle-3fa9c1" in listed.stdout and "crashed" in listed.stdout
    shown = _catalyst(tmp_path, "runs", "show", "3fa9c1")
    assert "SIGKILL by the OOM killer" in shown.stdout
    status = Ledger(tmp_path / LEDGER).scalar(
        "SELECT status FROM runs WHERE run_id = '20261124-093012-cycle-3fa9c1'"
    )
    assert status == "crashed"
