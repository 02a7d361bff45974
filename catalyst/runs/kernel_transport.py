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

from typing import Any

from jupyter_client.manager import AsyncKernelManager

#: The transport of every archived run's kernel.
KERNEL_TRANSPORT = "ipc"


class IpcKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose kernel listens on Unix sockets (see the module's doc)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("transport", KERNEL_TRANSPORT)
        super().__init__(**kwargs)
