"""The kernel manager papermill starts each run's kernel with: ZeroMQ over Unix sockets, not TCP.

jupyter_client's default transport is TCP on 127.0.0.1, unencrypted, and ipykernel says so on every
start ("Kernel is running over TCP without encryption ... susceptible to eavesdropping"): any local
user could connect to the ports. With the ``ipc`` transport the kernel's five channels are Unix domain
sockets next to its connection file in Jupyter's runtime folder (mode 0700, the user's own), so no
other user can reach them, no port is open, and ipykernel has nothing to warn about.

JupyterLab (``make lab``) starts its kernels itself, over TCP as usual: that is an interactive session
the trader opened, not an archived run.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.paths import jupyter_runtime_dir

#: The transport of every archived run's kernel.
KERNEL_TRANSPORT = "ipc"
#: A Unix socket path longer than this is refused by the OS (108 bytes with the NUL on Linux).
MAX_SOCKET_PATH = 100


def socket_prefix() -> str:
    """A path prefix of this kernel's own: its five sockets are ``<prefix>-<n>``.

    jupyter_client's default prefix is ``kernel-ipc`` in the kernel's working folder, the same for
    every kernel started there: two runs at once (two cycles from two terminals) then bind each
    other's sockets and every message fails its signature. The prefix lives in Jupyter's runtime
    folder (the user's own, mode 0700), or the temporary folder when that path would be too long."""
    name = f"catalyst-{uuid.uuid4().hex[:12]}"
    runtime = Path(jupyter_runtime_dir())
    if len(str(runtime / name)) + 4 <= MAX_SOCKET_PATH:
        runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
        return str(runtime / name)
    return str(Path(tempfile.mkdtemp(prefix="catalyst-kernel-")) / "k")


class IpcKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose kernel listens on Unix sockets of its own (see the module's doc)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("transport", KERNEL_TRANSPORT)
        super().__init__(**kwargs)
        if self.transport == KERNEL_TRANSPORT and self.ip == "kernel-ipc":
            self.ip = socket_prefix()
