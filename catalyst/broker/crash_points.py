"""Named points where a test may make this process die as a crash would (SIGKILL, no cleanup).

Set ``CATALYST_CRASH_POINT`` to a point's name (``bracket_placed``: right after ``placeOrder`` of
every leg of a bracket; ``bracket_proven``: right after the broker proved it, before its outcome
is recorded) and the process kills itself there with SIGKILL. With ``CATALYST_CRASH_GROUP=1`` it
kills its whole process group instead (a notebook kernel and the `catalyst` process that runs it,
as when a machine or a terminal dies). Unset (always, outside tests) it does nothing.
"""

from __future__ import annotations

import os
import signal

import structlog

log = structlog.get_logger(__name__)

ENV_CRASH_POINT = "CATALYST_CRASH_POINT"
ENV_CRASH_GROUP = "CATALYST_CRASH_GROUP"
POINTS = frozenset({"bracket_placed", "bracket_proven"})


def crash_point(name: str) -> None:
    """Die here with SIGKILL if ``CATALYST_CRASH_POINT`` names this point."""
    if name not in POINTS:
        raise ValueError(f"unknown crash point {name!r}; known: {sorted(POINTS)}")
    if os.environ.get(ENV_CRASH_POINT) != name:
        return
    log.critical(
        "crash_point.kill", point=name, pid=os.getpid(), group=os.environ.get(ENV_CRASH_GROUP) == "1"
    )
    if os.environ.get(ENV_CRASH_GROUP) == "1":
        os.killpg(os.getpgid(0), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
