"""``catalyst gateway conform``: read a capture, start a fresh simulator, replay, compare.

The simulator starts at the time the captured gateway gave in its handshake (so the market is in
the same session phase), unless told otherwise, with the behaviour settings given; ``against``
replays against a gateway already running instead.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from catalyst.sim.capture.capture_file import Capture, check_replayable, read_capture
from catalyst.sim.capture.capture_replay import replay_capture
from catalyst.sim.capture.conform import ConformReport, compare
from catalyst.sim.engine.behaviour import behaviour_from_specs
from catalyst.sim.gateway.launcher import start_gateway

#: zone names a gateway may give in its handshake time, and their UTC offsets
_ZONES = {
    "UTC": "+00:00",
    "GMT": "+00:00",
    "HKT": "+08:00",
    "Hongkong": "+08:00",
    "Asia/Hong_Kong": "+08:00",
    "China Standard Time": "+08:00",
}


def conform_capture(
    path: Path,
    *,
    behaviour: Sequence[str] = (),
    clock: str | None = None,
    seed: int = 7,
    tolerance: float = 1.0,
    against: tuple[str, int] | None = None,
) -> ConformReport:
    capture = read_capture(path)
    check_replayable(capture, path)
    settings = behaviour_from_specs(behaviour)
    if against is not None:
        return compare(replay_capture(capture, *against), settings, tolerance)
    with tempfile.TemporaryDirectory(prefix="catalyst-conform-") as state:
        handle = start_gateway(
            Path(state),
            clock=clock or capture_clock(capture),
            seed=seed,
            fresh=True,
            ephemeral=True,
            behaviour=list(behaviour),
        )
        try:
            replays = replay_capture(capture, handle.host, handle.port)
        finally:
            handle.stop()
    return compare(replays, settings, tolerance)


def capture_clock(capture: Capture) -> str:
    """The captured gateway's time at its first handshake (ISO), else the time the recording began."""
    text = capture.sessions[0].server_time if capture.sessions else ""
    stamp, _, zone = text.partition(" ")[2].partition(" ")
    day = text.partition(" ")[0]
    offset = _ZONES.get(zone.strip())
    if offset is not None:
        try:
            when = datetime.strptime(f"{day} {stamp}", "%Y%m%d %H:%M:%S")
            return when.isoformat() + offset
        except ValueError:
            pass
    recorded = str(capture.header.get("recorded_at", ""))
    return recorded or datetime.now(UTC).isoformat()
