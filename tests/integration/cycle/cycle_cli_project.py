"""A trader's project for the cycle acceptance tests: a simulated gateway of its own, a folder, and
the `catalyst` command line run in it as real processes, in the DEFAULT settings (no account
configured: the gateway's one account is what every process must agree on)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalyst.ledger import Ledger
from catalyst.sim.gateway.launcher import GatewayHandle

#: A Tuesday morning in continuous trading (HK time): the cycle scans and sends, orders fill.
SIM_CLOCK = "2026-11-24T10:00:00+08:00"
CATALYST = Path(sys.executable).with_name("catalyst")
#: Small, quick cycles that find candidates on the simulator's tape.
CYCLE_PARAMS = (
    "-p",
    "universe",
    "700,5,3988,2388,1211,1299,941",
    "-p",
    "strategy_params",
    '{"min_gap_pct": 0.0, "min_rvol": 0.5, "max_candidates": 3}',
)


@dataclass
class CliProject:
    root: Path
    gateway: GatewayHandle
    env: dict[str, str] = field(default_factory=dict)

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def ledger(self) -> Ledger:
        return Ledger(self.state_dir / "ledger.duckdb")

    def _env(self, extra: dict[str, str] | None) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("CATALYST_")}
        return {**base, **self.env, **(extra or {})}

    def catalyst(
        self, *args: str, extra_env: dict[str, str] | None = None, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        """Run one `catalyst` command in the project folder, as a trader would, and wait for it."""
        return subprocess.run(
            [str(CATALYST), *args],
            cwd=self.root,
            env=self._env(extra_env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(
        self, *args: str, log: Path, extra_env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start a `catalyst` command in the background, its output into ``log``."""
        out = log.open("wb")
        try:
            return subprocess.Popen(
                [str(CATALYST), *args],
                cwd=self.root,
                env=self._env(extra_env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        finally:
            out.close()

    def entries(self) -> list[dict[str, Any]]:
        """Every Catalyst entry order the gateway ever received (any client, any status)."""
        return [o for o in self.gateway.control.orders() if str(o["order_ref"]).endswith(":P")]


def project_env(root: Path, gateway: GatewayHandle, **settings: str) -> dict[str, str]:
    """The project's environment: sim mode on this gateway, nothing else configured."""
    return {
        "CATALYST_PATHS__ROOT": str(root),
        "CATALYST_MODE": "sim",
        "CATALYST_SIM__PORT": str(gateway.port),
        **settings,
    }


def wait_until(
    probe: Callable[[], Any], *, timeout: float, what: str, alive: Callable[[], None] | None = None
) -> Any:
    """Re-check ``probe`` until it is truthy (processes and the gateway give no event to wait on)."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if alive is not None:
            alive()
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 60) -> int:
    """SIGTERM, then wait; SIGKILL only if it does not stop."""
    if proc.poll() is None:
        proc.terminate()
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()
    return int(proc.returncode)
