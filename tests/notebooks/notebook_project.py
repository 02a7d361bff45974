"""The project the notebook tests run in: a simulated gateway, a folder, secrets in the environment.

The notebooks find the gateway through the environment (``CATALYST_BROKER__PORT`` and friends), as
they would on a trader's machine, and every run carries secret environment variables set to known
values so the tests can prove that no artifact ever contains one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from catalyst.sim.gateway.launcher import GatewayHandle

#: A Tuesday morning in continuous trading, HK time: the cycle scans and sends, orders can fill.
SIM_CLOCK = "2026-11-24T10:00:00+08:00"
SECRET_ENV = {
    "CATALYST_ALERT_URLS": "json://user:s3cr3tvalue@127.0.0.1:9/",
    "CATALYST_SMTP_PASSWORD": "smtp-pa55word-7Q",
    "CATALYST_TELEGRAM_TOKEN": "tg-t0ken-98765",
}
SECRET_VALUES = ("s3cr3tvalue", "smtp-pa55word-7Q", "tg-t0ken-98765")
#: Small, quick cycles for the CLI tests (the nbmake run uses the notebooks' own defaults).
CYCLE_PARAMS = [
    "-p",
    "universe",
    "700,5,3988,2388,1211,1299",
    "-p",
    "strategy_params",
    '{"min_gap_pct": 0.0, "min_rvol": 0.5, "max_candidates": 3}',
]


@dataclass
class SimProject:
    root: Path
    gateway: GatewayHandle
    env: dict[str, str]

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    def catalyst(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run the `catalyst` command line in the project, as a trader would."""
        script = Path(sys.executable).with_name("catalyst")
        # as a trader runs it: from the project folder, which is the root because nothing says
        # otherwise (the notebook kernel starts in notebooks/ and must still use this project)
        env = {k: v for k, v in {**os.environ, **self.env}.items() if k != "CATALYST_PATHS__ROOT"}
        return subprocess.run(
            [str(script), *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@dataclass(frozen=True)
class Done:
    """What a command printed and returned (picklable, so workers can share it)."""

    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Archived:
    """The runs `catalyst cycle` and `catalyst review` archived in one project (made once per test
    session, shared by the xdist workers)."""

    root: Path
    env: dict[str, str]
    cycle: Done
    review: Done

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    def folder(self, kind: str) -> Path:
        """The run folder the fixture's `catalyst cycle` / `catalyst review` printed."""
        done = {"cycle": self.cycle, "review": self.review}[kind]
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("Run folder:")]
        assert lines, f"`catalyst {kind}` printed no run folder:\n{done.stdout}\n{done.stderr}"
        return Path(lines[-1].split(":", 1)[1].strip())

    def to_json(self) -> str:
        return json.dumps(
            {
                "root": str(self.root),
                "env": self.env,
                "cycle": asdict(self.cycle),
                "review": asdict(self.review),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Archived:
        raw = json.loads(text)
        return cls(Path(raw["root"]), raw["env"], Done(**raw["cycle"]), Done(**raw["review"]))
