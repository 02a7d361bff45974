"""Named points where a test may make this process die as a crash would (SIGKILL, no cleanup).

Set ``CATALYST_CRASH_POINT`` to a point's name (``bracket_placed``: right after ``placeOrder`` of
every leg of a bracket, before the broker answered; ``bracket_proven``: right after the broker
proved it, before its outcome is recorded) and the process kills itself there with SIGKILL. With
``CATALYST_CRASH_PARENT=1`` it first kills its parent process too (the `catalyst` command whose
notebook kernel it is), as when a machine or a terminal dies and nothing records anything. Unset
(always, outside tests) it does nothing.
"""

from __future__ import annotations

import os
import signal

import structlog

log = structlog.get_logger(__name__)

ENV_CRASH_POINT = "CATALYST_CRASH_POINT"
ENV_CRASH_PARENT = "CATALYST_CRASH_PARENT"
POINTS = frozenset({"bracket_placed", "bracket_proven"})


def crash_point(name: str) -> None:
    """Die here with SIGKILL if ``CATALYST_CRASH_POINT`` names this point."""
    if name not in POINTS:
        raise ValueError(f"unknown crash point {name!r}; known: {sorted(POINTS)}")
    if os.environ.get(ENV_CRASH_POINT) != name:
        return
    parent = os.environ.get(ENV_CRASH_PARENT) == "1"
    log.critical("crash_point.kill", point=name, pid=os.getpid(), parent=os.getppid() if parent else None)
    if parent and os.getppid() > 1:
        os.kill(os.getppid(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
