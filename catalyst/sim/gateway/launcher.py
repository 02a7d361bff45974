"""Start the simulated gateway as a separate process (tests, ``catalyst gateway start --detach``).

``start_gateway(state_dir)`` spawns ``python -m catalyst.sim.gateway.gateway_main`` on a free port (or
the one asked for), waits until it has written ``gateway.json`` with its own pid, and returns a
:class:`GatewayHandle` with the address, a :class:`~catalyst.sim.gateway.control.GatewayControl` and
``stop()``. Output goes to ``state_dir/gateway.out``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from catalyst.sim.gateway.control import GATEWAY_FILE, GatewayControl, GatewayControlError


class GatewayStartError(RuntimeError):
    """The gateway process exited or did not become ready in time."""


@dataclass
class GatewayHandle:
    host: str
    port: int
    control_port: int
    pid: int
    state_dir: Path
    process: subprocess.Popen[bytes] | None = field(repr=False, default=None)

    @property
    def control(self) -> GatewayControl:
        return GatewayControl(("127.0.0.1", self.control_port))

    def stop(self, timeout: float = 15.0) -> int | None:
        """Ask the gateway to stop (control channel, then SIGTERM, then SIGKILL); returns the exit code."""
        if self.process is not None and self.process.poll() is not None:
            return self.process.returncode
        try:
            self.control.stop()
        except GatewayControlError:
            _signal(self.pid, signal.SIGTERM)
        if self.process is None:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and process_alive(self.pid):
                time.sleep(0.05)
            return None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            try:
                return self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                return self.process.wait(5)

    def __enter__(self) -> GatewayHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, exited but not yet reaped by its parent, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def start_gateway(
    state_dir: Path | str,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    seed: int = 7,
    speed: float = 1.0,
    clock: str = "auto",
    faults: Sequence[str] = (),
    fresh: bool = True,
    accounts: Sequence[str] = ("DU0000001",),
    master_client_id: int | None = None,
    timeout: float = 30.0,
    detach: bool = False,
    ephemeral: bool = False,
    behaviour: Sequence[str] = (),
) -> GatewayHandle:
    """Spawn a gateway process and wait until it listens. ``detach`` starts it in its own session."""
    state = Path(state_dir)
    state.mkdir(parents=True, exist_ok=True)
    args = _gateway_args(
        state,
        host=host,
        port=port,
        seed=seed,
        speed=speed,
        clock=clock,
        faults=faults,
        fresh=fresh,
        accounts=accounts,
        master_client_id=master_client_id,
        ephemeral=ephemeral,
        behaviour=behaviour,
    )
    out_path = state / "gateway.out"
    with open(out_path, "ab") as out:
        process = subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=detach,
        )
    return _wait_until_listening(process, state, out_path, timeout)


def _gateway_args(
    state: Path,
    *,
    host: str,
    port: int,
    seed: int,
    speed: float,
    clock: str,
    faults: Sequence[str],
    fresh: bool,
    accounts: Sequence[str],
    master_client_id: int | None,
    ephemeral: bool,
    behaviour: Sequence[str],
) -> list[str]:
    """The gateway program's command line (``gateway_main``'s options)."""
    args = [
        sys.executable,
        "-m",
        "catalyst.sim.gateway.gateway_main",
        "--state",
        str(state),
        "--host",
        host,
        "--port",
        str(port),
        "--seed",
        str(seed),
        "--speed",
        str(speed),
        "--clock",
        clock,
        "--accounts",
        ",".join(accounts),
    ]
    if faults:
        args += ["--faults", ",".join(faults)]
    if fresh:
        args.append("--fresh")
    if ephemeral:
        args.append("--ephemeral")
    if master_client_id is not None:
        args += ["--master-client-id", str(master_client_id)]
    for spec in behaviour:
        args += ["--behaviour", spec]
    return args


def _wait_until_listening(
    process: subprocess.Popen[bytes], state: Path, out_path: Path, timeout: float
) -> GatewayHandle:
    """The handle once the process has written its gateway file; its output if it exits or stalls."""
    deadline = time.monotonic() + timeout
    info_path = state / GATEWAY_FILE
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            raise GatewayStartError(
                f"the gateway exited with code {code} before listening; its output:\n{_tail(out_path)}"
            )
        try:
            info = json.loads(info_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            info = None
        if info and info.get("pid") == process.pid:
            return GatewayHandle(
                host=str(info["host"]),
                port=int(info["port"]),
                control_port=int(info["control_port"]),
                pid=process.pid,
                state_dir=state,
                process=process,
            )
        time.sleep(0.05)
    process.terminate()
    raise GatewayStartError(
        f"the gateway did not start within {timeout:.0f} s; its output:\n{_tail(out_path)}"
    )


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"
