"""The soak's project: one simulated gateway of its own, a folder with its own state and ledger, and
the `catalyst` command line run in it as real processes (each in its own process group, so a
SIGKILL takes the papermill kernel that actually sends the orders down with the command)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalyst.ledger import Ledger
from catalyst.sim.gateway.launcher import GatewayHandle

#: A Tuesday morning in continuous trading (HK time): cycles scan and send, orders fill.
SIM_CLOCK = "2026-11-24T10:00:00+08:00"
CATALYST = Path(sys.executable).with_name("catalyst")
#: Small, quick cycles that find candidates on the simulator's tape (as the notebook and cycle
#: acceptance tests run them).
CYCLE_PARAMS = (
    "-p",
    "universe",
    "700,5,3988,2388,1211,1299,941",
    "-p",
    "strategy_params",
    '{"min_gap_pct": 0.0, "min_rvol": 0.5, "max_candidates": 3}',
)
#: Client ids: the monitor's and the audit's are fixed; every cycle or reconciliation gets its own.
MONITOR_CLIENT_ID = 51
AUDIT_CLIENT_ID = 97


@dataclass
class Proc:
    """A `catalyst` command running in the background, with its log."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    client_id: int
    started: float = field(default_factory=time.monotonic)
    killed: bool = False

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the command and everything it started (its kernel), as a crash would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)
        self.killed = True

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM the command's group, SIGKILL it if it does not stop in time."""
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
            self.kill()  # and whatever it left of its group (a kernel)
        return int(self.popen.returncode)

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class ChaosProject:
    root: Path
    gateway: GatewayHandle
    account: str
    logs: Path
    env: dict[str, str] = field(default_factory=dict)
    _next_client: int = 2
    _count: int = 0
    procs: list[Proc] = field(default_factory=list)

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def ledger(self) -> Ledger:
        return Ledger(self.state_dir / "ledger.duckdb")

    def _env(self, client_id: int | None) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("CATALYST_")}
        extra = {} if client_id is None else {"CATALYST_BROKER__CLIENT_ID": str(client_id)}
        return {**base, **self.env, **extra}

    def client_id(self) -> int:
        """A client id no earlier process of the soak used (a killed client's id may linger)."""
        cid = self._next_client
        self._next_client = cid + 1 if cid + 1 < MONITOR_CLIENT_ID else 2
        return cid

    def start(
        self, name: str, *args: str, client_id: int | None = None, env: dict[str, str] | None = None
    ) -> Proc:
        self._count += 1
        cid = self.client_id() if client_id is None else client_id
        log = self.logs / f"{self._count:03d}-{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [str(CATALYST), *args],
                cwd=self.root,
                env={**self._env(cid), **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        proc = Proc(name, popen, log, cid)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        """Leave nothing running: every command this project started, and what it started."""
        for proc in self.procs:
            proc.stop()

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run one `catalyst` command to its end (its own client id)."""
        return subprocess.run(
            [str(CATALYST), *args],
            cwd=self.root,
            env=self._env(self.client_id()),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def audit(self, grace: float) -> tuple[int, list[dict[str, Any]], str]:
        """`catalyst broker audit --json`: exit code, violations, what it printed on stderr."""
        done = subprocess.run(
            [
                str(CATALYST),
                "broker",
                "audit",
                "--json",
                "--grace",
                str(grace),
                "--client-id",
                str(AUDIT_CLIENT_ID),
            ],
            cwd=self.root,
            env=self._env(None),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        found = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        return done.returncode, found, "\n".join(errors) or done.stderr[-2000:]


def project_env(root: Path, gateway: GatewayHandle) -> dict[str, str]:
    """Default settings, as a trader starts: sim mode on this gateway, no account configured."""
    return {
        "CATALYST_PATHS__ROOT": str(root),
        "CATALYST_MODE": "sim",
        "CATALYST_SIM__PORT": str(gateway.port),
    }


def wait_for(probe: Callable[[], Any], *, timeout: float, every: float = 0.5) -> Any:
    """Re-check ``probe`` until it is truthy or ``timeout`` passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(every)
