"""`catalyst gateway ...`: run and steer the simulated IB Gateway (synthetic HKEX, offline default).

``start`` runs it in the foreground (Ctrl-C or SIGTERM stops it cleanly, saving its state) or,
with ``--detach``, as a background process; ``stop``, ``status``, ``fault``, ``move`` (a price shock)
and ``clock`` (move simulated time forward) talk to a running gateway through its control channel,
found via ``<state>/gateway.json``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from catalyst.market import HK_TZ
from catalyst.sim.engine.behaviour import behaviour_from_specs
from catalyst.sim.gateway.connection_faults import ALL_FAULTS, parse_fault_spec, parse_param_value
from catalyst.sim.gateway.control import PID_FILE, GatewayControl, GatewayControlError
from catalyst.sim.gateway.gateway_main import DEFAULT_PORT, split_fault_list
from catalyst.sim.gateway.launcher import process_alive

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
        from catalyst.sim.gateway.launcher import GatewayStartError, start_gateway

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
    from catalyst.sim.gateway.gateway_main import main as gateway_main

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


# --- steering the market from the shell: move a price, move the clock ---------------------------

#: Exit code of a refused move/clock command (bad input, no gateway, the gateway refused).
EXIT_REFUSED = 2
_DURATION = re.compile(r"^(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$")
_HHMM = re.compile(r"^(?P<h>\d{1,2}):(?P<m>\d{2})$")


class ClockArgumentError(ValueError):
    """A --advance duration or --to time the clock command cannot use."""


def _refuse(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=EXIT_REFUSED)


def parse_duration(text: str) -> int:
    """Seconds in ``90s``, ``5m``, ``1h30m``, ``2h5m10s`` (or a bare number of seconds); never negative."""
    raw = text.strip().lower()
    if raw.startswith("-"):
        raise ClockArgumentError(f"--advance {text!r} is negative: the simulated clock only moves forward")
    if raw.isdigit():
        seconds = int(raw)
    else:
        match = _DURATION.match(raw)
        if not raw or match is None:
            raise ClockArgumentError(f"--advance {text!r} is not a duration; write it like 90s, 5m or 1h30m")
        seconds = int(match["h"] or 0) * 3600 + int(match["m"] or 0) * 60 + int(match["s"] or 0)
    if seconds <= 0:
        raise ClockArgumentError(f"--advance {text!r} moves the clock by nothing; give a positive duration")
    return seconds


def parse_clock_target(text: str, sim_now: datetime) -> datetime:
    """``HH:MM`` (that time on the simulator's HK day) or an ISO timestamp (no zone = HK time)."""
    raw = text.strip()
    hk_now = sim_now.astimezone(HK_TZ)
    match = _HHMM.match(raw)
    if match is not None:
        hour, minute = int(match["h"]), int(match["m"])
        if hour > 23 or minute > 59:
            raise ClockArgumentError(f"--to {text!r} is not a time of day (HH:MM, 00:00 to 23:59)")
        return hk_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise ClockArgumentError(
            f"--to {text!r} is neither HH:MM nor an ISO timestamp such as 2026-11-24T10:00:00+08:00"
        ) from None
    return when.replace(tzinfo=HK_TZ) if when.tzinfo is None else when.astimezone(HK_TZ)


def _short_error(exc: GatewayControlError) -> str:
    """The gateway's own words, without the transport's prefix ("gateway refused 'x': KindError: ")."""
    text = str(exc)
    head, sep, tail = text.partition(": ")
    if sep and head.startswith("gateway refused"):
        kind, sep2, rest = tail.partition(": ")
        return rest if sep2 and kind.isidentifier() else tail
    return text


def _control(state: Path) -> GatewayControl:
    try:
        return GatewayControl(state)
    except GatewayControlError as exc:
        _refuse(str(exc))


def _sim_stock(symbol: str) -> str:
    from catalyst.sim.engine.contracts import LISTINGS

    key = symbol.strip()
    if key.isdigit():
        key = str(int(key))  # "0700" is 700, as on HKEX
    if key not in LISTINGS:
        _refuse(f"the simulator lists no stock {symbol!r}; it lists {', '.join(LISTINGS)}")
    return key


def _target_price(symbol: str, to: str, sim_now: datetime) -> Decimal:
    from catalyst.market import MarketError, require_on_tick
    from catalyst.sim.engine.contracts import LISTINGS

    try:
        price = Decimal(to.strip())
    except InvalidOperation:
        _refuse(f"--to {to!r} is not a price; give it in HKD, e.g. --to 98.55")
    if not price.is_finite() or price <= 0:
        _refuse(f"--to {to!r} must be a positive price in HKD")
    try:
        return require_on_tick(price, on=sim_now.date(), table=LISTINGS[symbol].spread_table)
    except MarketError as exc:
        _refuse(f"{exc}; the simulator prints only on the ladder, so give one of those (nothing was moved)")


def _percent(pct: str) -> Decimal:
    try:
        value = Decimal(pct.strip())
    except InvalidOperation:
        _refuse(f"--pct {pct!r} is not a number; e.g. --pct -5 for a 5% fall")
    if not value.is_finite() or value <= -100:
        _refuse(f"--pct {pct!r} must be a finite number above -100 (a price stays positive)")
    return value


@gateway_app.command("move")
def move(
    symbol: Annotated[str, typer.Argument(help="Stock code, e.g. 700 or 0941.")],
    pct: Annotated[
        str | None, typer.Option("--pct", help="Move the last price by P percent (-5 = fall 5%).")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Move the last price to PRICE (HKD, on the tick ladder).")
    ] = None,
    state: StateOpt = Path("state/sim"),
) -> None:
    """Shock a price: from the next second every print of SYMBOL is moved (stops and limits react).

    Give exactly one of --pct and --to. A --to price off the HKEX tick ladder is refused (not
    snapped) with the two nearest valid prices named. The new last price is the target moved by the
    market's own next print, so it can differ from the target by a tick or so; both are shown.
    """
    if (pct is None) == (to is None):
        _refuse("give exactly one of --pct P or --to PRICE")
    stock = _sim_stock(symbol)
    control = _control(state)
    try:
        sim_now = datetime.fromisoformat(str(control.status()["clock"])).astimezone(HK_TZ)
        before = control.quote(stock)
        if to is not None:
            after = control.move_price(stock, price=_target_price(stock, to, sim_now))
        else:
            after = control.move_price(stock, pct=_percent(str(pct)))
    except GatewayControlError as exc:
        _refuse(_short_error(exc))
    old, new = Decimal(str(before["last"])), Decimal(str(after["last"]))
    change = (new - old) / old * 100
    asked = f"asked {to}" if to is not None else f"asked {pct}%"
    typer.echo(
        f"{stock}: last {old} -> {new} ({change:+.2f}%, {asked}); bid {after['bid']} ask {after['ask']} "
        f"at {after['time']}"
    )


@gateway_app.command("clock")
def clock(
    advance: Annotated[
        str | None, typer.Option("--advance", help="Move the clock forward by DURATION: 90s, 5m, 1h30m.")
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Move the clock to TIME: HH:MM (HK time, the simulator's day) or ISO 8601 (no zone = HK).",
        ),
    ] = None,
    state: StateOpt = Path("state/sim"),
) -> None:
    """Move the simulator's clock forward; the market catches up (fills, stop triggers, expiries).

    Give exactly one of --advance and --to. The simulated clock never goes back: a time earlier
    than its clock is refused by the gateway, and nothing changes.
    """
    if (advance is None) == (to is None):
        _refuse("give exactly one of --advance DURATION or --to TIME")
    control = _control(state)
    try:
        seconds = parse_duration(advance) if advance is not None else None
        before = datetime.fromisoformat(str(control.status()["clock"]))
        if seconds is not None:
            after = control.advance(seconds)
        else:
            after = control.set_clock(parse_clock_target(str(to), before))
    except ClockArgumentError as exc:
        _refuse(str(exc))
    except GatewayControlError as exc:
        _refuse(_short_error(exc))
    moved = datetime.fromisoformat(after)
    typer.echo(f"clock {before.isoformat(timespec='seconds')} -> {moved.isoformat(timespec='seconds')}")


@gateway_app.command("record")
def record(
    upstream: Annotated[str, typer.Option(help="HOST:PORT of the real IB Gateway / TWS (or a simulator).")],
    out: Annotated[Path, typer.Option("--out", help="Capture file to write (JSON lines).")],
    listen: Annotated[int, typer.Option(help="Local port clients connect to (0: any free port).")] = 4012,
    host: Annotated[
        str, typer.Option(help="Address to bind (loopback unless told otherwise).")
    ] = "127.0.0.1",
) -> None:
    """Record a TWS session: a transparent proxy that writes every frame, redacted, to --out.

    Point any client at --listen instead of the gateway; Ctrl-C stops the recording cleanly.
    """
    import asyncio

    from catalyst.sim.capture.capture_proxy import CaptureProxy, UpstreamError, parse_host_port, run_recording

    try:
        target = parse_host_port(upstream)
    except ValueError as exc:
        _fail(str(exc))
        return
    if out.exists() and (out.is_dir() or out.stat().st_size > 0):
        _fail(f"--out {out} already exists; choose another file (a capture is never overwritten)")
    try:
        out.touch()
    except OSError as exc:
        _fail(f"cannot write --out {out}: {exc.strerror or exc}")

    def listening(proxy: CaptureProxy) -> None:
        typer.echo(f"recording {proxy.upstream} to {out}: clients connect to {proxy.host}:{proxy.port}; "
                   "Ctrl-C stops", err=False)  # fmt: skip

    try:
        proxy = asyncio.run(run_recording(target, (host, listen), out, listening))
    except UpstreamError as exc:
        _fail(str(exc))
        return
    except OSError as exc:
        _fail(f"cannot listen on {host}:{listen}: {exc.strerror or exc}")
        return
    for problem in proxy.errors:
        typer.echo(f"error: {problem}", err=True)
    typer.echo(f"recording stopped; capture in {out}")
    if proxy.errors:
        raise typer.Exit(code=1)


@gateway_app.command("conform")
def conform(
    capture: Annotated[Path, typer.Argument(help="A capture file of `catalyst gateway record`.")],
    behaviour: Annotated[
        list[str] | None,
        typer.Option("--behaviour", help="NAME=VALUE for the fresh simulator (as `start`); repeatable."),
    ] = None,
    clock: Annotated[
        str | None, typer.Option(help="Simulator start time (default: the captured gateway's time).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic market.")] = 7,
    tolerance: Annotated[float, typer.Option(help="Seconds a reply may come sooner or later.")] = 1.0,
    against: Annotated[
        str | None, typer.Option(help="HOST:PORT of a running simulator instead of a fresh one.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Replay a capture's client side against a fresh simulator; report where it answers differently.

    Exit code 0: no difference; 2: differences (listed); 1: the capture or the replay failed.
    """
    from catalyst.sim.capture.capture_file import CaptureFileError
    from catalyst.sim.capture.capture_proxy import parse_host_port
    from catalyst.sim.capture.capture_replay import ReplayError
    from catalyst.sim.capture.conform import render_table
    from catalyst.sim.capture.conform_run import conform_capture
    from catalyst.sim.gateway.launcher import GatewayStartError

    try:
        target = parse_host_port(against) if against else None
        report = conform_capture(capture, behaviour=behaviour or [], clock=clock, seed=seed,
                                 tolerance=tolerance, against=target)  # fmt: skip
    except (CaptureFileError, ReplayError, GatewayStartError, ValueError) as exc:
        _fail(str(exc))
        return
    typer.echo(report.to_json() if as_json else render_table(report))
    if not report.conforms:
        raise typer.Exit(code=2)


def register(app: typer.Typer) -> None:
    """Add the `gateway` group to the root app."""
    app.add_typer(gateway_app, name="gateway")
