"""IB clients other than ib_async, each in its own directory, run as a separate process against the gateway.

They cannot share the project's environment: ``ib_insync`` needs ``eventkit``, whose module name is
the one ib_async's ``aeventkit`` installs, and the two ``ibapi`` releases are both the package
``ibapi``. ``make clients`` (part of ``make test``) installs each under ``.venv/clients/<dir>``; a test
whose client is missing skips and says how to install it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from catalyst.sim.gateway.launcher import GatewayHandle

ROOT = Path(__file__).resolve().parents[3]
SCRIPTS = Path(__file__).resolve().parent / "clients"
CLIENTS_DIR = Path(os.environ.get("CATALYST_TEST_CLIENTS", ROOT / ".venv" / "clients"))


@dataclass(frozen=True)
class OtherClient:
    name: str  # as a report names it
    directory: str  # under CLIENTS_DIR
    package: str  # the import package that proves it is installed
    script: str  # the session script in clients/

    @property
    def path(self) -> Path:
        return CLIENTS_DIR / self.directory

    def require(self) -> Path:
        """The install directory; a missing client skips the test (fails it where CI requires clients)."""
        if not (self.path / self.package / "__init__.py").is_file():
            reason = f"{self.name} is not installed in {self.path}: `make clients` installs it"
            if os.environ.get("CATALYST_REQUIRE_CLIENTS"):
                pytest.fail(reason)
            pytest.skip(reason)
        return self.path


IBAPI_981 = OtherClient("IB's official ibapi 9.81.1.post1", "ibapi-9.81", "ibapi", "ibapi_session.py")
IBAPI_CURRENT = OtherClient("IB's official ibapi 10.50.2", "ibapi-10.50", "ibapi", "ibapi_session.py")
IB_INSYNC = OtherClient("ib_insync 0.9.86", "ib_insync-0.9.86", "ib_insync", "ib_insync_session.py")


def _run(client: OtherClient, script: str, args: list[str], timeout: float = 120) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(client.require()), str(SCRIPTS)]))
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{client.name}: {script} exited {done.returncode}: {done.stderr[-3000:]}"


def run_session(
    client: OtherClient,
    gateway: GatewayHandle,
    tmp_path: Path,
    *,
    client_id: int,
    symbol: str,
    quantity: int,
    max_version: int | None = None,
) -> dict[str, Any]:
    """One session of ``client`` (handshake .. bracket .. disconnect); its report as a dict."""
    out = tmp_path / f"{client.directory}-{client_id}.json"
    args = [gateway.host, str(gateway.port), str(client_id), symbol, str(quantity), str(out)]
    _run(client, client.script, args + ([str(max_version)] if max_version is not None else []))
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return report


def reference_problems(frames: list[dict[str, Any]], tmp_path: Path) -> list[str]:
    """Each ``{"version", "fields"}`` frame read by IB's current decoder: what it could not read exactly."""
    source = tmp_path / "frames.json"
    source.write_text(json.dumps(frames), encoding="utf-8")
    out = tmp_path / "reference-problems.json"
    _run(IBAPI_CURRENT, "reference_decode.py", [str(source), str(out)])
    problems: list[str] = json.loads(out.read_text(encoding="utf-8"))
    return problems
