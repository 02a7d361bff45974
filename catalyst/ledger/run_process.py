"""Which process runs a run, and whether that process is still alive.

A run's row records its process (``pid``, ``host``, ``pid_started``: the start time of that pid,
read from ``/proc``). Reconciliation asks :func:`process_alive` about runs left ``running``: a
process that is gone (SIGKILL, a crash) left its run behind; a pid the kernel reused for a newer
process (its start time differs) is not the run's process either. A run recorded on another host
cannot be judged from here (``None``), and is left alone.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

#: Start times read from /proc differ by the rounding of clock ticks; more than this is another process.
_START_TOLERANCE_S = 2.0


@dataclass(frozen=True)
class RunProcess:
    pid: int
    host: str
    pid_started: float | None

    def as_row(self) -> dict[str, object]:
        return {"pid": self.pid, "host": self.host, "pid_started": self.pid_started}


def _boot_time() -> float | None:
    try:
        for line in Path("/proc/stat").read_text(encoding="ascii").splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def process_start_time(pid: int) -> float | None:
    """When ``pid`` started (seconds since the epoch), or None when it is unknown (no /proc, gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
        fields = stat.rpartition(")")[2].split()  # the command name may hold spaces: skip past it
        ticks = float(fields[19])  # field 22 of proc(5), counted from after the name
        boot = _boot_time()
        if boot is None:
            return None
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def this_process() -> RunProcess:
    """The calling process, as a run row records it."""
    pid = os.getpid()
    return RunProcess(pid=pid, host=socket.gethostname(), pid_started=process_start_time(pid))


def process_alive(pid: int | None, host: str | None, pid_started: float | None = None) -> bool | None:
    """True when the recorded process still runs, False when it is gone, None when this host cannot tell."""
    if pid is None or pid <= 0 or not host:
        return None
    if host != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, owned by another user
    if pid_started is None:
        return True
    now_started = process_start_time(pid)
    if now_started is None:
        return True
    return abs(now_started - pid_started) <= _START_TOLERANCE_S
