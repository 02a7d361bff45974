"""Run the simulated IB Gateway as a program: engine + TWS protocol server + control channel.

``python -m catalyst.sim.gateway.gateway_main --state DIR --port N ...`` is what ``catalyst gateway
start`` runs (in the foreground, or detached through :mod:`catalyst.sim.gateway.launcher`). It writes
``DIR/gateway.json`` (host, port, control port, pid) and ``DIR/gateway.pid`` once it listens,
stops cleanly on SIGTERM/SIGINT or the control channel's ``stop`` (saving the engine state), and
removes both files on the way out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from catalyst.market import HK_TZ, accepts_new_orders, next_session_open
from catalyst.sim.engine.behaviour import behaviour_from_specs
from catalyst.sim.engine.errors import ClockBehindStateError
from catalyst.sim.gateway.connection_faults import parse_fault_spec
from catalyst.sim.gateway.control import GATEWAY_FILE, PID_FILE, ControlServer
from catalyst.sim.gateway.server import GatewayServer, ServerSettings
from catalyst.sim.gateway.wire_framing import SERVER_VERSION

log = structlog.get_logger(__name__)

STATE_FILE = "sim_state.duckdb"
DEFAULT_PORT = 4002


@dataclass
class GatewayConfig:
    state_dir: Path
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    control_port: int = 0
    fresh: bool = False
    seed: int = 7
    speed: float = 1.0
    clock: str = "auto"  # "auto" or an ISO 8601 time with zone
    faults: list[str] = field(default_factory=list)
    accounts: tuple[str, ...] = ("DU0000001",)
    master_client_id: int | None = None
    #: Keep no state file (benchmarks and load tests: the engine then never touches the disk).
    ephemeral: bool = False
    #: ``NAME=VALUE`` overrides of the uncertain-IB-behaviour settings (``SimBehaviour``).
    behaviour: list[str] = field(default_factory=list)


def auto_start_clock(now: datetime) -> datetime:
    """Now, if HKEX is in continuous trading; else 10:00 HK on the next trading day (so a demo fills)."""
    if accepts_new_orders(now):
        return now
    open_at = next_session_open(now)
    return open_at.astimezone(HK_TZ).replace(hour=10, minute=0, second=0, microsecond=0)


def resolve_start(config: GatewayConfig, state_exists: bool, now: datetime) -> datetime | None:
    """The engine's start time: None keeps a persisted clock (a restart keeps its time)."""
    if config.clock != "auto":
        when = datetime.fromisoformat(config.clock)
        if when.tzinfo is None:
            raise ValueError(f"--clock {config.clock!r} needs a time zone, e.g. 2026-11-24T10:00:00+08:00")
        return when
    if state_exists and not config.fresh:
        return None
    return auto_start_clock(now)


def _write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)


def make_exchange(config: GatewayConfig) -> Any:
    from catalyst.sim.engine.exchange import Exchange

    state_path = config.state_dir / STATE_FILE
    start = resolve_start(config, state_path.exists() and not config.ephemeral, datetime.now(HK_TZ))
    exchange = Exchange(
        accounts=config.accounts,
        seed=config.seed,
        start=start,
        speed=config.speed,
        state_path=None if config.ephemeral else state_path,
        fresh=config.fresh,
        behaviour=behaviour_from_specs(config.behaviour),
    )
    if config.clock != "auto" and start is not None:
        saved = exchange.now()
        if start < saved - timedelta(seconds=1):
            exchange.close()
            at = saved.isoformat(timespec="seconds")
            raise ClockBehindStateError(
                f"the saved state in {config.state_dir} has its clock at {at}; --clock {config.clock} "
                "is earlier and the simulated clock cannot go back. Start with a --clock at or after "
                f"{at} (or --clock auto to resume), or "
                "add --fresh to start over (discarding the saved orders, executions and positions)"
            )
        if abs(saved - start) > timedelta(seconds=1):
            exchange.set_clock(start)
    return exchange


async def run_gateway(
    config: GatewayConfig, *, on_ready: Callable[[dict[str, Any]], None] | None = None
) -> None:
    """Serve until SIGTERM/SIGINT or a control ``stop``; save the state on the way out."""
    config.state_dir.mkdir(parents=True, exist_ok=True)
    exchange = make_exchange(config)
    server = GatewayServer(
        exchange,
        host=config.host,
        port=config.port,
        settings=ServerSettings(master_client_id=config.master_client_id),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    info: dict[str, Any] = {}
    control = ControlServer(
        server, host="127.0.0.1", port=config.control_port, on_stop=stop.set, info=lambda: info
    )
    await server.start()
    await control.start()
    for spec in config.faults:
        name, params = parse_fault_spec(spec)
        server.set_fault(name, True, **params)
    info.update(
        {
            "host": config.host,
            "port": server.port,
            "control_host": "127.0.0.1",
            "control_port": control.port,
            "pid": os.getpid(),
            "state_dir": str(config.state_dir.resolve()),
            "server_version": SERVER_VERSION,
            "started_at": datetime.now(HK_TZ).isoformat(),
            "seed": config.seed,
            "speed": config.speed,
        }
    )
    gateway_file = config.state_dir / GATEWAY_FILE
    pid_file = config.state_dir / PID_FILE
    _write_json_atomically(gateway_file, info)
    pid_file.write_text(f"{os.getpid()}\n", encoding="utf-8")
    log.info("sim.gateway.ready", **{k: str(v) for k, v in info.items()}, clock=exchange.now().isoformat())
    if on_ready is not None:
        on_ready(info)
    try:
        await stop.wait()
    finally:
        log.info("sim.gateway.stopping")
        await control.stop()
        await server.stop()
        try:
            exchange.save()
        except Exception:
            log.exception("sim.gateway.save_failed")
        for path in (gateway_file, pid_file):
            with contextlib.suppress(FileNotFoundError):
                if path == pid_file or json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
                    path.unlink()
        log.info("sim.gateway.stopped")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="catalyst-sim-gateway", description="Simulated IB Gateway (synthetic HKEX)."
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--control-port", type=int, default=0)
    p.add_argument("--state", default="state/sim")
    p.add_argument("--fresh", action="store_true")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--speed", type=float, default=1.0)
    p.add_argument("--clock", default="auto")
    p.add_argument("--faults", default="", help="comma list: name or name:k=v:k=v")
    p.add_argument("--accounts", default="DU0000001")
    p.add_argument("--master-client-id", type=int, default=None)
    p.add_argument("--ephemeral", action="store_true", help="keep no state file (benchmarks, load tests)")
    p.add_argument(
        "--behaviour",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override an uncertain-IB-behaviour setting (repeatable; see sim_behaviour)",
    )
    return p


def split_fault_list(text: str) -> list[str]:
    return [f.strip() for f in text.split(",") if f.strip()]


def config_from_args(argv: Sequence[str] | None = None) -> GatewayConfig:
    a = build_parser().parse_args(argv)
    return GatewayConfig(
        state_dir=Path(a.state),
        host=a.host,
        port=a.port,
        control_port=a.control_port,
        fresh=a.fresh,
        seed=a.seed,
        speed=a.speed,
        clock=a.clock,
        faults=split_fault_list(a.faults),
        accounts=tuple(x.strip() for x in a.accounts.split(",") if x.strip()),
        master_client_id=a.master_client_id,
        ephemeral=a.ephemeral,
        behaviour=list(a.behaviour),
    )


def configure_gateway_logging(state_dir: Path) -> None:
    """Structured logs (JSON lines) to the state dir, through catalyst.log when it is available."""
    state_dir.mkdir(parents=True, exist_ok=True)
    try:
        from catalyst.log import configure_logging
    except ImportError:
        return
    configure_logging(json_file=state_dir / "gateway.log.jsonl", console=None)
    # Every event goes to gateway.log.jsonl. When stderr is not a terminal (the launcher's
    # gateway.out) it repeats only warnings and errors, so each order event is formatted once, not
    # twice into two files; a terminal keeps the readable INFO stream.
    if sys.stderr.isatty():
        return
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            handler.setLevel(max(handler.level, logging.WARNING))


def apply_settings_market_rules() -> None:
    """Serve the spread table on the settings' dates (the Phase 2 launch date), as the broker checks.

    A configuration error is the client side's to report; the gateway then keeps the defaults.
    """
    from catalyst.config import ConfigError, load_settings

    try:
        load_settings().apply_market_rules()
    except ConfigError as exc:
        log.warning("sim.gateway.settings_unreadable", error=str(exc))


class GatewayAlreadyRunningError(RuntimeError):
    """Another gateway process already serves this state directory."""


def refuse_second_gateway(state_dir: Path) -> None:
    """One gateway per state directory: the state file belongs to the running one."""
    from catalyst.sim.gateway.launcher import process_alive

    path = state_dir / GATEWAY_FILE
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return
    pid = int(info.get("pid", 0))
    if pid and pid != os.getpid() and process_alive(pid):
        raise GatewayAlreadyRunningError(
            f"a gateway (pid {pid}) already runs on {info.get('host')}:{info.get('port')} for {state_dir}; "
            f"stop it with `catalyst gateway stop --state {state_dir}` or use another --state"
        )


def main(argv: Sequence[str] | None = None) -> int:
    config = config_from_args(argv)
    try:
        for spec in config.faults:
            parse_fault_spec(spec)  # fail before binding if a fault name is wrong
        behaviour_from_specs(config.behaviour)  # likewise a behaviour setting
        refuse_second_gateway(config.state_dir)
    except (ValueError, GatewayAlreadyRunningError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    configure_gateway_logging(config.state_dir)
    apply_settings_market_rules()

    def announce(info: dict[str, Any]) -> None:
        print(
            f"catalyst simulated IB Gateway (SYNTHETIC data) listening on {info['host']}:{info['port']} "
            f"(control {info['control_host']}:{info['control_port']}, pid {info['pid']}, "
            f"server version {SERVER_VERSION})",
            flush=True,
        )

    try:
        asyncio.run(run_gateway(config, on_ready=announce))
    except ClockBehindStateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            raise
        print(
            f"error: cannot listen on {config.host}:{config.port} ({exc.strerror or exc}); is another "
            "gateway or IB Gateway using that port? Pick another with --port",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
