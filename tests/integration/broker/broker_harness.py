"""Helpers for the broker integration suite: a real gateway process, a real ib_async session.

``gateway`` yields the simulated gateway (``catalyst gateway`` as a separate process on a free
port, one per test module), or, when CATALYST_IB_HOST, CATALYST_IB_PORT and CATALYST_IB_ACCOUNT
are set and the test is marked ``ibkr_paper``, a real IB paper gateway. A paper account id must
start with "DU": anything else is refused, so this suite can never trade a live account.

The paper session is recorded by default: the suite talks to the paper gateway through the
transparent capture proxy (``catalyst.sim.capture.capture_proxy``, the proxy of ``catalyst gateway
record``), and the capture, redacted, goes to ``runs/captures/ib-paper-<UTC time>.jsonl`` (or the
file ``CATALYST_IB_CAPTURE`` names; ``CATALYST_IB_CAPTURE=off`` talks to the gateway directly).
Under pytest-xdist each worker records its own file (``-gw0``, ``-gw1`` ...).
``catalyst gateway conform FILE`` then says where the simulator answers differently
(docs/simulator.md, "Calibration against a real IB session").
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from catalyst.broker import BrokerSession
from catalyst.config import BrokerSettings, PathSettings, Settings
from catalyst.ledger import Ledger
from catalyst.sim.capture.capture_proxy import ProxyThread
from catalyst.sim.gateway.control import GatewayControl
from catalyst.sim.gateway.launcher import start_gateway

SIM_ACCOUNT = "DU0000001"
#: A Tuesday morning in continuous trading (HK time): fills happen, DAY orders stay alive.
SIM_CLOCK = "2026-11-24T10:00:00+08:00"

#: Where the paper session's capture goes: a file path, or "off" for no recording.
CAPTURE_ENV = "CATALYST_IB_CAPTURE"
_CAPTURE_OFF = frozenset({"off", "0", "no", "false", "none"})
CAPTURE_DIR = Path(__file__).resolve().parents[3] / "runs" / "captures"

_client_ids = itertools.count(11)
#: This test process's own state folder (leases): never the shared tree's ``state/``.
STATE_DIR = Path(tempfile.mkdtemp(prefix="catalyst-broker-it-"))


@dataclass
class GatewayTarget:
    kind: str  # "sim" | "paper"
    host: str
    port: int
    account: str
    control: GatewayControl | None

    def require_control(self) -> GatewayControl:
        if self.control is None:
            pytest.skip("needs the simulator's control channel (fault injection, clock, gateway records)")
        return self.control


def paper_target() -> GatewayTarget | None:
    host, port, account = (os.environ.get(f"CATALYST_IB_{k}") for k in ("HOST", "PORT", "ACCOUNT"))
    if not (host and port and account):
        return None
    if not account.startswith("DU"):
        pytest.fail(
            f"CATALYST_IB_ACCOUNT={account!r} is not a paper account (paper ids start with DU); refusing"
        )
    return GatewayTarget("paper", host, int(port), account, None)


def capture_path(environ: Mapping[str, str], now: datetime | None = None) -> Path | None:
    """The file the paper session is recorded to (None: ``CATALYST_IB_CAPTURE=off``)."""
    value = environ.get(CAPTURE_ENV, "").strip()
    if value.lower() in _CAPTURE_OFF:
        return None
    # under pytest-xdist every worker runs its own session, so each records a file of its own
    worker = environ.get("PYTEST_XDIST_WORKER", "")
    if value:
        path = Path(value).expanduser().resolve()
        return path.with_name(f"{path.stem}-{worker}{path.suffix}") if worker else path
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return CAPTURE_DIR / f"ib-paper-{stamp}{'-' + worker if worker else ''}.jsonl"


@dataclass
class RecordedTarget:
    """A paper target reached through the capture proxy, and the proxy to stop at the end."""

    target: GatewayTarget
    proxy: ProxyThread | None
    capture: Path | None

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()


def recorded(target: GatewayTarget, capture: Path | None) -> RecordedTarget:
    """``target`` through a capture proxy writing ``capture`` (unchanged when ``capture`` is None)."""
    if capture is None:
        return RecordedTarget(target, None, None)
    capture.parent.mkdir(parents=True, exist_ok=True)
    proxy = ProxyThread(target.host, target.port, capture).start()
    through = GatewayTarget(target.kind, "127.0.0.1", proxy.port, target.account, target.control)
    return RecordedTarget(through, proxy, capture)


def start_sim(state_dir: Path, **kwargs: Any) -> Any:
    return start_gateway(state_dir, clock=kwargs.pop("clock", SIM_CLOCK), accounts=(SIM_ACCOUNT,), **kwargs)


def make_settings(target: GatewayTarget, *, client_id: int | None = None, **broker: Any) -> Settings:
    return Settings(
        mode="sim" if target.kind == "sim" else "paper",
        paths=PathSettings(state_dir=STATE_DIR),
        broker=BrokerSettings(
            **{
                "host": target.host,
                "port": target.port,
                "client_id": client_id if client_id is not None else next(_client_ids),
                "account": target.account,
                "connect_timeout": 5,
                "request_timeout": 5,
                **broker,
            }
        ),
    )


Scenario = Callable[[BrokerSession], Awaitable[Any]]


def run_session(
    target: GatewayTarget,
    ledger: Ledger | None,
    scenario: Scenario,
    *,
    risk_events: list[dict[str, Any]] | None = None,
    **session_kwargs: Any,
) -> Any:
    """Connect a real BrokerSession to ``target``, run ``scenario(session)``, always close."""

    async def main() -> Any:
        settings = make_settings(target, **session_kwargs.pop("broker", {}))
        s = BrokerSession(
            settings,
            ledger=ledger,
            run_id="it",
            on_risk_event=risk_events.append if risk_events is not None else None,
            proof_timeout=session_kwargs.pop("proof_timeout", 3.0),
            reconnect_delays=session_kwargs.pop("reconnect_delays", (0.1, 0.2, 0.5)),
            **session_kwargs,
        )
        await s.connect()
        try:
            return await scenario(s)
        finally:
            await s.close()

    return asyncio.run(main())


def tick_up(price: Decimal, n: int, symbol: str) -> Decimal:
    from catalyst.market import security, ticks_from

    return ticks_from(price, n, "up", table=security(symbol).spread_table)


def tick_down(price: Decimal, n: int, symbol: str) -> Decimal:
    from catalyst.market import security, ticks_from

    return ticks_from(price, n, "down", table=security(symbol).spread_table)
