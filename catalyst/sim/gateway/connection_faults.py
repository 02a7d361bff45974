"""Connection-level faults of the simulated gateway: what the socket layer does wrong on demand.

The exchange engine owns the order faults (``drop-children``, ``reject-children``,
``partial-fills``, ``drift``); this module holds the state of the five that act on connections:

- ``disconnect``: close client sockets now, or after ``after`` more client messages
  (``client_id`` limits it to one client).
- ``restart``: IB Gateway's nightly restart: drop every client, refuse connections for
  ``seconds`` (default 5), come back with state intact.
- ``latency``: delay the acknowledgement of every order request by ``ms`` (default 500).
- ``pacing``: more than ``limit`` (default 50) messages a second from one client gets error 100 and
  the message is dropped; ``max_violations`` (default 3) such excesses close the socket.
- ``connectivity``: an IB server reset with the socket up: error 1100 to every client, orders held
  for ``seconds`` (default 5), then 1101 (``restore=1101``: subscriptions dropped) or 1102
  (``restore=1102``, the default).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from catalyst.sim.engine.errors import FaultParameterError
from catalyst.sim.engine.faults import ENGINE_FAULT_NAMES, FAULT_NAMES, SERVER_FAULT_NAMES, unknown_fault

__all__ = [
    "ALL_FAULTS",
    "CONNECTION_FAULTS",
    "ENGINE_FAULTS",
    "ConnectionFaults",
    "PacingWindow",
    "connectivity_params",
    "parse_fault_spec",
    "parse_param_value",
    "unknown_fault",
]

CONNECTION_FAULTS = SERVER_FAULT_NAMES
ENGINE_FAULTS = ENGINE_FAULT_NAMES
ALL_FAULTS = FAULT_NAMES
RESTORE_CODES = (1101, 1102)
DEFAULT_OUTAGE_SECONDS = 5.0


def connectivity_params(params: dict[str, object]) -> tuple[float, int]:
    """``seconds`` and ``restore`` of the connectivity fault, checked: (outage seconds, 1101|1102)."""
    unknown = sorted(set(params) - {"seconds", "restore"})
    if unknown:
        raise FaultParameterError(f"fault connectivity takes seconds= and restore=, not {', '.join(unknown)}")
    raw_seconds = params.get("seconds", DEFAULT_OUTAGE_SECONDS)
    try:
        seconds = float(str(raw_seconds))
    except ValueError:
        raise FaultParameterError(
            f"fault connectivity: seconds must be a number of seconds, got {raw_seconds!r}"
        ) from None
    if not 0 <= seconds < float("inf"):
        raise FaultParameterError(f"fault connectivity: seconds must be >= 0, got {raw_seconds!r}")
    raw_restore = params.get("restore", 1102)
    try:
        restore = int(str(raw_restore))
    except ValueError:
        restore = 0
    if restore not in RESTORE_CODES:
        raise FaultParameterError(
            f"fault connectivity: restore must be 1101 (data lost) or 1102 (data maintained), "
            f"got {raw_restore!r}"
        )
    return seconds, restore


def parse_fault_spec(spec: str) -> tuple[str, dict[str, object]]:
    """``name`` or ``name:k=v:k2=v2`` (the ``--faults`` syntax) to a name and its parameters."""
    name, *pairs = [p.strip() for p in spec.strip().split(":")]
    if name not in ALL_FAULTS:
        raise unknown_fault(name)
    params: dict[str, object] = {}
    for pair in pairs:
        if not pair:
            continue
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"fault parameter {pair!r} of {name!r} is not key=value")
        params[key.strip()] = parse_param_value(raw.strip())
    if name == "connectivity":
        connectivity_params(params)
    return name, params


def parse_param_value(raw: str) -> object:
    """Parameter text to int, float or str (in that order of preference)."""
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            continue
    return raw


@dataclass
class PacingWindow:
    """Per-client message times over the last second (monotonic seconds)."""

    times: deque[float] = field(default_factory=deque)
    violations: int = 0

    def admit(self, now: float, limit: int) -> bool:
        """Record a message at ``now``; False if it exceeds ``limit`` messages per second."""
        while self.times and now - self.times[0] >= 1.0:
            self.times.popleft()
        if len(self.times) >= limit:
            self.violations += 1
            return False
        self.times.append(now)
        return True


@dataclass
class ConnectionFaults:
    """Which connection faults are on, with their parameters."""

    active: dict[str, dict[str, object]] = field(default_factory=dict)
    disconnect_countdown: int | None = None

    def set(self, name: str, on: bool, params: dict[str, object]) -> None:
        if name not in CONNECTION_FAULTS:
            raise unknown_fault(name)
        if on:
            self.active[name] = dict(params)
            if name == "disconnect":
                after = params.get("after")
                self.disconnect_countdown = int(str(after)) if after is not None else None
        else:
            self.active.pop(name, None)
            if name == "disconnect":
                self.disconnect_countdown = None

    def is_on(self, name: str) -> bool:
        return name in self.active

    def latency_seconds(self) -> float:
        if "latency" not in self.active:
            return 0.0
        return float(str(self.active["latency"].get("ms", 500))) / 1000.0

    def pacing_limit(self) -> int | None:
        if "pacing" not in self.active:
            return None
        return int(str(self.active["pacing"].get("limit", 50)))

    def pacing_max_violations(self) -> int:
        return int(str(self.active.get("pacing", {}).get("max_violations", 3)))

    def count_message_for_disconnect(self) -> bool:
        """Count one client message; True when a pending ``disconnect after N`` is due now."""
        if self.disconnect_countdown is None:
            return False
        self.disconnect_countdown -= 1
        return self.disconnect_countdown <= 0
