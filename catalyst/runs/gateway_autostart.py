"""Zero-setup default: in sim mode, make sure a simulated gateway listens; elsewhere, only check.

``ensure_gateway`` probes the configured address. In ``sim`` mode, when nothing listens there, it
starts the simulated gateway in the background (its own session, so it outlives this command)
with state under ``state/sim``, says so, and leaves it running for the next run; ``catalyst gateway
stop`` ends it. ``paper`` and ``live`` never start anything: they say what is not reachable.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from catalyst.runs.errors import GatewayUnreachableError

#: Where ``catalyst gateway start`` keeps the simulator's state by default (relative to state_dir).
SIM_STATE_SUBDIR = "sim"
DEFAULT_SIM_ACCOUNT = "DU0000001"


@dataclass(frozen=True)
class GatewayAddress:
    host: str
    port: int
    started: bool = False
    pid: int | None = None
    state_dir: Path | None = None


def is_listening(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when something accepts TCP connections at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def ensure_gateway(
    *,
    mode: str,
    host: str,
    port: int,
    state_dir: Path,
    account: str = "",
    seed: int = 7,
    speed: float = 1.0,
    say: Callable[[str], None] = print,
) -> GatewayAddress:
    """The gateway address to use; starts a simulated gateway only in sim mode and only when needed."""
    if is_listening(host, port):
        return GatewayAddress(host, port)
    if mode != "sim":
        raise GatewayUnreachableError(
            f"nothing listens at {host}:{port} ({mode} mode): start IB Gateway or TWS, enable the API "
            "(Configure > API > Settings) on that port, or set broker.host / broker.port "
            "(CATALYST_IB_HOST / CATALYST_IB_PORT). Catalyst never starts a gateway for paper or live."
        )
    from catalyst.sim.gateway.launcher import start_gateway

    sim_state = state_dir / SIM_STATE_SUBDIR
    handle = start_gateway(
        sim_state,
        host=host,
        port=port,
        seed=seed,
        speed=speed,
        fresh=False,
        detach=True,
        accounts=(account or DEFAULT_SIM_ACCOUNT,),
    )
    say(
        f"No gateway was listening at {host}:{port}, so Catalyst started the simulated gateway in the "
        f"background (pid {handle.pid}, state in {sim_state}). It keeps running for the next run; "
        "`catalyst gateway stop` ends it."
    )
    return GatewayAddress(handle.host, handle.port, started=True, pid=handle.pid, state_dir=sim_state)
