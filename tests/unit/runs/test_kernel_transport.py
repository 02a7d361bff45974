"""Archived runs' kernels talk over Unix sockets: no TCP port, no "without encryption" warning."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from catalyst.ledger import Ledger
from catalyst.runs.notebook_runner import execute_run, ledger_hooks

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("notebook_runner")]

_TRANSPORT = (
    "from ipykernel.kernelapp import IPKernelApp\nprint('transport', IPKernelApp.instance().transport)"
)


def test_a_run_s_kernel_uses_ipc_and_prints_no_unencrypted_tcp_warning(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    params = nbformat.v4.new_code_cell('mode = "sim"\nrun_id = ""')
    params.metadata["tags"] = ["parameters"]
    notebook = tmp_path / "transport.ipynb"
    nb = nbformat.v4.new_notebook(cells=[params, nbformat.v4.new_code_cell(_TRANSPORT)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(notebook))
    ledger = Ledger(tmp_path / "ledger.duckdb")
    result = execute_run(
        "reconcile",
        mode="sim",
        parameters={},
        runs_dir=tmp_path / "runs",
        hooks=ledger_hooks(ledger, lambda _dir: None),
        notebook=notebook,
        progress=False,
    )
    assert result.ok, result.manifest.failure
    assert "transport ipc" in result.folder.notebook.read_text()
    assert "without encryption" not in capfd.readouterr().err


def test_show_code_puts_the_code_cells_into_the_html_report(tmp_path: Path) -> None:
    """``-p show_code true``: the runner exports the report with the code (hidden by default)."""
    params = nbformat.v4.new_code_cell('mode = "sim"\nrun_id = ""\nshow_code = False')
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[params, nbformat.v4.new_code_cell("print('the answer', 6 * 7)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(tmp_path / "code.ipynb"))
    ledger = Ledger(tmp_path / "ledger.duckdb")
    html = {}
    for show in (False, True):
        result = execute_run(
            "reconcile",
            mode="sim",
            parameters={"show_code": show},
            runs_dir=tmp_path / "runs",
            hooks=ledger_hooks(ledger, lambda _dir: None),
            notebook=tmp_path / "code.ipynb",
            progress=False,
        )
        html[show] = result.folder.html.read_text()
    assert "the answer 42" in html[False] and "6 * 7" not in html[False].replace("&nbsp;", " ")
    assert "6" in html[True] and "print" in html[True]


def test_two_kernels_started_at_once_get_sockets_of_their_own() -> None:
    """jupyter_client's default ``kernel-ipc`` prefix is the same for every kernel started in one
    folder: two cycles at once bound each other's sockets and every message failed its signature
    (``ValueError: Invalid Signature``). Ports are chosen when the connection file is written, before
    either kernel binds, which is exactly when two simultaneous runs collided."""
    from catalyst.runs.kernel_transport import IpcKernelManager

    managers = [IpcKernelManager(kernel_name="python3") for _ in (1, 2)]  # as papermill makes them
    sockets = []
    for km in managers:
        km.write_connection_file()
        info = km.get_connection_info()
        ports = [info[f"{c}_port"] for c in ("shell", "iopub", "stdin", "control", "hb")]
        sockets.append({f"{info['ip']}-{port}" for port in ports})
        assert Path(info["ip"]).is_absolute(), "not a prefix relative to the kernel's working folder"
    for km in managers:
        km.cleanup_connection_file()
    assert not sockets[0] & sockets[1]
    assert all(len(path) < 108 for path in sockets[0] | sockets[1])  # the OS's limit for a socket path
