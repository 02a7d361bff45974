"""`catalyst gateway ...`: run and steer the simulated IB Gateway (synthetic HKEX, offline default).

``start`` runs it in the foreground (Ctrl-C or SIGTERM stops it cleanly, saving its state) or,
with ``--detach``, as a background process; ``stop``, ``status`` and ``fault`` talk to a running
gateway through its control channel, found via ``<state>/gateway.json``.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Annotated

import typer

from catalyst.sim.sim_behaviour import behaviour_from_specs
from catalyst.sim.sim_connection_faults import ALL_FAULTS, parse_fault_spec, parse_param_value
from catalyst.sim.sim_control import PID_FILE, GatewayControl, GatewayControlError
from catalyst.sim.sim_gateway_main import DEFAULT_PORT, split_fault_list
from catalyst.sim.sim_launcher import process_alive

gateway_app = typer.Typer(
    help="The simulated IB Gateway: synthetic HKEX market speaking the TWS API.", no_args_is_help=True
)

StateOpt = Annotated[Path, typer.Option("--state", help="State directory of the gateway.")]


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


@gateway_app.command("start")
def start(
    host: Annotated[
        str, typer.Option(help="Address to bind (loopback unless told otherwise).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TWS API port (4002 = IB Gateway paper).")] = DEFAULT_PORT,
    state: StateOpt = Path("state/sim"),
    fresh: Annotated[bool, typer.Option("--fresh", help="Discard saved state and start over.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic market.")] = 7,
    speed: Annotated[float, typer.Option(help="Simulated seconds per real second.")] = 1.0,
    clock: Annotated[
        str,
        typer.Option(
            help="Start time (ISO 8601 with zone) or 'auto' (now if HKEX trades, else 10:00 next day)."
        ),
    ] = "auto",
    faults: Annotated[
        str, typer.Option(help=f"Comma list of faults (name or name:k=v): {', '.join(ALL_FAULTS)}.")
    ] = "",
    detach: Annotated[bool, typer.Option("--detach", help="Run in the background and return.")] = False,
    behaviour: Annotated[
        list[str] | None,
        typer.Option(
            "--behaviour",
            help="NAME=VALUE: an uncertain IB behaviour (README: simulator settings); repeatable.",
        ),
    ] = None,
) -> None:
    """Start the simulated gateway."""
    fault_list = split_fault_list(faults)
    try:
        for spec in fault_list:
            parse_fault_spec(spec)
        behaviour_from_specs(behaviour or [])
    except ValueError as exc:
        _fail(str(exc))
    if detach:
        from catalyst.sim.sim_launcher import GatewayStartError, start_gateway

        try:
            handle = start_gateway(
                state,
                host=host,
                port=port,
                seed=seed,
                speed=speed,
                clock=clock,
                faults=fault_list,
                fresh=fresh,
                detach=True,
                behaviour=behaviour or [],
            )
        except GatewayStartError as exc:
            _fail(str(exc))
            return
        typer.echo(
            f"simulated IB Gateway (SYNTHETIC data) listening on {handle.host}:{handle.port} "
            f"(pid {handle.pid}, control port {handle.control_port}); stop it with "
            f"`catalyst gateway stop --state {state}`"
        )
        return
    from catalyst.sim.sim_gateway_main import main as gateway_main

    args = ["--host", host, "--port", str(port), "--state", str(state)]
    args += ["--seed", str(seed), "--speed", str(speed), "--clock", clock]
    if fault_list:
        args += ["--faults", ",".join(fault_list)]
    if fresh:
        args.append("--fresh")
    for spec in behaviour or []:
        args += ["--behaviour", spec]
    raise typer.Exit(code=gateway_main(args))


def _pid_of(state: Path) -> int | None:
    try:
        return int((state / PID_FILE).read_text(encoding="utf-8").strip())
    except (FileNotFoundError, ValueError):
        return None


@gateway_app.command("stop")
def stop(
    state: StateOpt = Path("state/sim"),
    timeout: Annotated[float, typer.Option(help="Seconds to wait for a clean stop.")] = 15.0,
) -> None:
    """Stop a running gateway (saving its state)."""
    pid = _pid_of(state)
    try:
        GatewayControl(state).stop()
    except GatewayControlError as exc:
        if pid is None or not process_alive(pid):
            _fail(f"no running gateway for {state}: {exc}")
        os.kill(pid, signal.SIGTERM)  # type: ignore[arg-type]
    if pid is not None:
        deadline = time.monotonic() + timeout
        while process_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if process_alive(pid):
            _fail(f"gateway pid {pid} did not stop within {timeout:.0f} s")
    typer.echo(f"gateway for {state} stopped")


@gateway_app.command("status")
def status(
    state: StateOpt = Path("state/sim"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw status as JSON.")] = False,
) -> None:
    """Show where the gateway listens, its clock, clients and active faults."""
    try:
        info = GatewayControl(state).status()
    except GatewayControlError as exc:
        typer.echo(f"not running: {exc}")
        raise typer.Exit(code=3) from None
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    typer.echo(
        f"simulated IB Gateway (SYNTHETIC data), pid {info.get('pid')}, "
        f"server version {info.get('server_version')}"
    )
    typer.echo(
        f"  listening   {info['host']}:{info['port']} ({'accepting' if info['accepting'] else 'restarting'})"
    )
    typer.echo(f"  control     127.0.0.1:{info['control_port']}")
    typer.echo(f"  clock       {info['clock']}")
    typer.echo(f"  accounts    {', '.join(info['accounts'])}")
    clients = ", ".join(str(c["client_id"]) for c in info["clients"]) or "none"
    typer.echo(f"  clients     {clients}")
    faults = ", ".join(f"{k} {v}" if v else k for k, v in info["faults"].items()) or "none"
    typer.echo(f"  faults      {faults}")


@gateway_app.command("fault")
def fault(
    name: Annotated[str, typer.Argument(help=f"One of: {', '.join(ALL_FAULTS)}.")],
    switch: Annotated[str, typer.Argument(help="on or off")],
    param: Annotated[list[str] | None, typer.Option("--param", help="k=v, repeatable (e.g. ms=500).")] = None,
    state: StateOpt = Path("state/sim"),
) -> None:
    """Switch a fault on or off in a running gateway."""
    if name not in ALL_FAULTS:
        _fail(f"unknown fault {name!r}; known faults: {', '.join(ALL_FAULTS)}")
    if switch not in ("on", "off"):
        _fail(f"the switch must be 'on' or 'off', got {switch!r}")
    params: dict[str, object] = {}
    for p in param or []:
        key, sep, value = p.partition("=")
        if not sep or not key:
            _fail(f"--param {p!r} is not k=v")
        params[key] = parse_param_value(value)
    try:
        states = GatewayControl(state).fault(name, switch == "on", **params)
    except GatewayControlError as exc:
        _fail(str(exc))
        return
    typer.echo(f"fault {name} {switch}; active faults: {', '.join(states) or 'none'}")


def register(app: typer.Typer) -> None:
    """Add the `gateway` group to the root app."""
    app.add_typer(gateway_app, name="gateway")
