"""What `catalyst rehearse` does to the account, step by step, and what it reads back.

Everything runs in a rehearsal project of its own (a temporary folder unless told otherwise): its
own ledger, run archive, alert file and state, so a trader's real ledger is never touched. Cycles
and the monitor are the real commands (`catalyst cycle`, `catalyst monitor`) run as processes in
that project, as a trader runs them; the broker is read back through a separate read-only session,
and on the simulator through its control channel too (every order, done ones included).

On the simulator the rehearsal starts its own fresh gateway in the project (unless pointed at a
running one with ``gateway_state``) and may move prices and the clock. On a paper account it runs
only what places no order unless ``place_orders`` is set, and never what needs the control channel.
The judging is in :mod:`catalyst.runs.rehearsal`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Protocol

import pandas as pd
import structlog

from catalyst.config import Settings, load_settings
from catalyst.config.settings_loader import CONFIG_ENV, ENV_ALIASES
from catalyst.ledger import Ledger
from catalyst.market import HK_TZ, security, snap_to_tick, to_hk
from catalyst.runs import rehearsal as r
from catalyst.runs.gateway_autostart import DEFAULT_SIM_ACCOUNT
from catalyst.runs.errors import RunsError
from catalyst.runs.scheduler import catalyst_command

log = structlog.get_logger(__name__)

#: Client ids of the rehearsal's own sessions, above the cycle's, the monitor's and `broker check`'s.
READ_CLIENT_OFFSET = 170
CLEAR_CLIENT_OFFSET = 171
#: A small, quick universe; the strategy's filters opened up so that a cycle finds something to send.
DEFAULT_UNIVERSE = "700,5,941,1299,3988,2388,1211,388"
DEFAULT_STRATEGY_PARAMS: dict[str, Any] = {"min_gap_pct": 0.0, "min_rvol": 0.5, "max_candidates": 2}
#: The tiny daily loss limit (HKD) the monitor runs with in the breaker check.
TINY_LOSS_LIMIT = "1"
ADOPTED_EVENT = "broker.submit.adopted"
CRASH_POINT = "bracket_placed"
#: Trading days the simulator may try before a cycle finds a candidate.
CANDIDATE_DAYS = 3


class RehearsalError(RunsError):
    """The rehearsal cannot start (live account, unusable gateway state, bad option)."""


@dataclass(frozen=True)
class RehearsalOptions:
    mode: str  # sim | paper
    place_orders: bool = False
    universe: str = DEFAULT_UNIVERSE
    strategy_params: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_STRATEGY_PARAMS))
    gateway_state: Path | None = None  # a running simulator to use instead of a fresh one
    project: Path | None = None
    cycle_timeout: float = 600.0
    wait: float = 120.0  # the longest wait for any broker event (generous: a loaded machine)

    @property
    def paper(self) -> bool:
        return self.mode != "sim"


@dataclass(frozen=True)
class Done:
    returncode: int
    output: str


@dataclass(frozen=True)
class RehearsalProject:
    """The rehearsal's own folder and the environment every command in it runs with."""

    root: Path
    env: dict[str, str]

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def ledger_path(self) -> Path:
        return self.state_dir / "ledger.duckdb"

    @property
    def logs(self) -> Path:
        path = self.root / "logs"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def settings(self) -> Settings:
        return load_settings(environ=self.env)

    def ledger(self) -> Ledger:
        return Ledger(self.ledger_path)

    def run(self, *args: str, timeout: float, extra_env: Mapping[str, str] | None = None) -> Done:
        """Run `catalyst ARGS` in the project and wait for it."""
        proc = self.start(*args, extra_env=extra_env)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)
        return Done(proc.returncode if proc.returncode is not None else -9, self.output_of(proc))

    def start(self, *args: str, extra_env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start `catalyst ARGS` in its own process group (so a kill reaches the notebook's kernel)."""
        out = self.logs / f"{time.time_ns()}-{args[0]}.out"
        with out.open("wb") as sink:
            proc = subprocess.Popen(
                [*catalyst_command(), *args],
                cwd=self.root,
                env={**self.env, **(extra_env or {})},
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc.rehearsal_output = out  # type: ignore[attr-defined]
        return proc

    @staticmethod
    def output_of(proc: subprocess.Popen[bytes]) -> str:
        path: Path = proc.rehearsal_output  # type: ignore[attr-defined]
        return path.read_text(encoding="utf-8", errors="replace")


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (children first), read from /proc.

    The notebook's kernel is started in a session of its own, so a signal to the cycle's process
    group does not reach it; it is the kernel that sends the orders.
    """
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 1 and fields[1].isdigit():
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def kill_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL, timeout: float = 30.0) -> int:
    """Signal ``proc``, every process below it (the kernel too) and its process group, then reap it.

    Returns how many processes were signalled.
    """
    below = descendants(proc.pid)
    for child in below:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(child, sig)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout)
    return 1 + len(below)


def _names_for(path: tuple[str, ...]) -> set[str]:
    """Every environment variable that sets the settings key ``path``."""
    long = "CATALYST_" + "__".join(p.upper() for p in path)
    return {long, *(name for name, p in ENV_ALIASES.items() if p == path)}


def project_env(
    base: Mapping[str, str],
    root: Path,
    *,
    mode: str,
    config_file: Path | None,
    gateway: tuple[str, int] | None = None,
) -> dict[str, str]:
    """``base`` with every path pointed into ``root`` (and the gateway, for a simulator of its own)."""
    overrides: dict[tuple[str, ...], str] = {
        ("mode",): mode,
        ("paths", "root"): str(root),
        ("paths", "state_dir"): str(root / "state"),
        ("paths", "runs_dir"): str(root / "runs"),
        ("paths", "ledger"): str(root / "state" / "ledger.duckdb"),
        ("alerts", "alert_file"): str(root / "state" / "alerts.jsonl"),
    }
    if gateway is not None:
        overrides[("broker", "host")] = gateway[0]
        overrides[("broker", "port")] = str(gateway[1])
    env = dict(base)
    for path in overrides:
        for name in _names_for(path):
            env.pop(name, None)
    env.update({"CATALYST_" + "__".join(p.upper() for p in path): v for path, v in overrides.items()})
    for name in ("CATALYST_RUN_ID", "CATALYST_RUN_DIR"):
        env.pop(name, None)
    if config_file is not None:
        env[CONFIG_ENV] = str(Path(config_file).resolve())
    else:
        env.pop(CONFIG_ENV, None)
    return env


# --- reading the broker ----------------------------------------------------------------------------


class ControlChannel(Protocol):
    """The simulator's control channel, as far as the rehearsal uses it."""

    def status(self) -> dict[str, Any]: ...
    def orders(self) -> list[dict[str, Any]]: ...
    def executions(self) -> list[dict[str, Any]]: ...
    def positions(self, account: str | None = None) -> list[dict[str, Any]]: ...
    def move_price(self, symbol: str, pct: Any = None, price: Any = None) -> dict[str, Any]: ...
    def set_clock(self, ts: datetime | str) -> str: ...


def _dec(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    text = str(value)
    if text in ("", "None", "nan", "NaN"):
        return None
    return Decimal(text)


def _int(value: Any) -> int:
    try:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return 0
        return int(value)
    except (TypeError, ValueError):
        return 0


def sim_view(control: ControlChannel, account: str) -> r.BrokerView:
    """Every order (done ones too), fill and position of ``account``, from the simulator itself."""
    orders = []
    for o in control.orders():
        if o.get("account") != account:
            continue
        kind = str(o["order_type"])
        orders.append(
            r.BrokerOrder(
                order_ref=str(o.get("order_ref") or ""),
                perm_id=_int(o.get("perm_id")),
                order_id=_int(o.get("order_id")),
                parent_id=_int(o.get("parent_id")),
                parent_perm_id=_int(o.get("parent_perm_id")),
                symbol=str(o["symbol"]),
                side=str(o["action"]),
                order_type=kind,
                quantity=_int(o.get("total_quantity")),
                limit_price=_dec(o.get("lmt_price")) if kind in ("LMT", "STP LMT") else None,
                stop_price=_dec(o.get("aux_price")) if kind.startswith("STP") else None,
                oca_group=str(o.get("oca_group") or ""),
                status=str(o.get("status") or ""),
                filled=_int(o.get("filled")),
            )
        )
    fills = [
        r.BrokerFill(
            order_ref=str(e.get("order_ref") or ""),
            perm_id=_int(e.get("perm_id")),
            order_id=_int(e.get("order_id")),
            symbol=str(e["symbol"]),
            side="BUY" if e.get("side") == "BOT" else "SELL",
            quantity=_int(e.get("shares")),
            price=Decimal(str(e["price"])),
        )
        for e in control.executions()
        if e.get("account") == account
    ]
    positions = {str(p["symbol"]): _int(p["quantity"]) for p in control.positions(account)}
    return r.BrokerView(tuple(orders), tuple(fills), positions)


def view_from_frames(
    open_orders: pd.DataFrame, executions: pd.DataFrame, positions: pd.DataFrame
) -> r.BrokerView:
    """What a broker session reports (open orders of every client, today's fills, positions)."""
    orders = tuple(
        r.BrokerOrder(
            order_ref=str(row.get("order_ref") or ""),
            perm_id=_int(row.get("perm_id")),
            order_id=_int(row.get("order_id")),
            parent_id=_int(row.get("parent_id")),
            parent_perm_id=_int(row.get("parent_perm_id")),
            symbol=str(row["symbol"]),
            side=str(row["side"]),
            order_type=str(row["order_type"]),
            quantity=_int(row["quantity"]),
            limit_price=_dec(row.get("limit_price")),
            stop_price=_dec(row.get("stop_price")),
            oca_group=str(row.get("oca_group") or ""),
            status=str(row.get("status") or ""),
            filled=_int(row.get("filled")),
        )
        for row in open_orders.to_dict("records")
    )
    fills = tuple(
        r.BrokerFill(
            order_ref=str(row.get("order_ref") or ""),
            perm_id=_int(row.get("perm_id")),
            order_id=_int(row.get("order_id")),
            symbol=str(row["symbol"]),
            side=str(row["side"]),
            quantity=_int(row["quantity"]),
            price=Decimal(str(row["price"])),
        )
        for row in executions.to_dict("records")
    )
    held: dict[str, int] = {}
    for row in positions.to_dict("records"):
        held[str(row["symbol"])] = held.get(str(row["symbol"]), 0) + _int(row["quantity"])
    return r.BrokerView(orders, fills, held)


def session_look(settings: Settings) -> tuple[str, datetime, r.BrokerView]:
    """Account, broker time and a view of the account, through a read-only session of our own."""
    from catalyst.broker import SyncBrokerSession

    cid = settings.broker.client_id + READ_CLIENT_OFFSET
    with SyncBrokerSession(settings, client_id=cid, readonly=True) as broker:
        account = broker.session.account
        now = broker.server_time()
        view = view_from_frames(broker.open_orders(), broker.executions(), broker.positions())
    return account, now, view


def clear_account(settings: Settings, timeout: float) -> str:
    """Cancel every working order and close every position (the rehearsal leaves the account flat)."""
    from catalyst.broker import SyncBrokerSession

    cid = settings.broker.client_id + CLEAR_CLIENT_OFFSET
    with SyncBrokerSession(settings, client_id=cid, run_id="rehearsal-clear") as broker:
        broker.cancel_all(timeout=timeout)
        held = view_from_frames(broker.open_orders(), broker.executions(), broker.positions()).positions
        for symbol in [s for s, q in held.items() if q]:
            broker.flatten(symbol)
        left = broker._run(broker.session.wait_flat(timeout=timeout))
    return "flat" if not left else f"still holding {left}"


# --- the gateway -----------------------------------------------------------------------------------


@dataclass
class Gateway:
    host: str
    port: int
    control: ControlChannel | None
    own: bool = False
    stop: Callable[[], object] = lambda: None


@contextlib.contextmanager
def rehearsal_gateway(settings: Settings, options: RehearsalOptions, root: Path) -> Iterator[Gateway]:
    """The gateway to rehearse against: paper as configured; on sim a fresh one of our own, or the
    running simulator at ``options.gateway_state``."""
    if options.paper:
        yield Gateway(settings.broker.host, settings.broker_port, None)
        return
    from catalyst.sim.gateway.control import GatewayControl, GatewayControlError, read_gateway_file
    from catalyst.sim.gateway.launcher import start_gateway

    if options.gateway_state is not None:
        try:
            info = read_gateway_file(options.gateway_state)
            control = GatewayControl(options.gateway_state)
            control.status()
        except GatewayControlError as exc:
            raise RehearsalError(str(exc)) from None
        yield Gateway(str(info["host"]), int(info["port"]), control)
        return
    start = r.fresh_simulator_start(datetime.now(HK_TZ))
    handle = start_gateway(
        root / "state" / "sim",
        clock=start.isoformat(),
        seed=settings.sim.seed,
        speed=settings.sim.speed,
        accounts=(settings.broker.account or DEFAULT_SIM_ACCOUNT,),
        fresh=True,
    )
    try:
        yield Gateway(handle.host, handle.port, handle.control, own=True, stop=handle.stop)
    finally:
        handle.stop()


# --- the steps -------------------------------------------------------------------------------------


@dataclass
class Rehearsal:
    """One rehearsal: the project, the gateway, the account, and what the checks have found so far."""

    project: RehearsalProject
    gateway: Gateway
    options: RehearsalOptions
    say: Callable[[str], None]
    account: str = ""
    brackets: tuple[r.PlannedBracket, ...] = ()
    placed_orders: bool = False

    # -- reads ---------------------------------------------------------------------------------------

    def view(self) -> r.BrokerView:
        """The account now: from the simulator's own books when there is one, else the read-only session."""
        if self.gateway.control is not None:
            return sim_view(self.gateway.control, self.account)
        return session_look(self.project.settings())[2]

    def broker_now(self) -> datetime:
        if self.gateway.control is not None:
            return datetime.fromisoformat(str(self.gateway.control.status()["clock"]))
        return datetime.now(HK_TZ)

    def wait_for(self, what: Callable[[], Any], timeout: float | None = None, every: float = 0.25) -> Any:
        """Poll ``what`` until it returns something truthy or ``timeout`` passes (then None)."""
        deadline = time.monotonic() + (self.options.wait if timeout is None else timeout)
        pause = every if self.gateway.control is not None else max(every, 2.0)
        while True:
            got = what()
            if got or time.monotonic() > deadline:
                return got or None
            time.sleep(pause)

    def planned(self, run_id: str) -> tuple[r.PlannedBracket, ...]:
        """The intents a run recorded."""
        return self.intents_where("run_id = ?", [run_id])

    def intents_where(self, where: str, params: list[Any]) -> tuple[r.PlannedBracket, ...]:
        frame = self.project.ledger().query(
            "SELECT intent_id, symbol, side, quantity, entry_price, stop_price, target_price, status "
            f"FROM intents WHERE {where} ORDER BY created_at",
            params,
        )
        return tuple(
            r.PlannedBracket(
                intent_id=str(row["intent_id"]),
                symbol=str(row["symbol"]),
                side=str(row["side"]),
                quantity=int(row["quantity"]),
                entry=Decimal(str(row["entry_price"])).normalize(),
                stop=Decimal(str(row["stop_price"])).normalize(),
                target=Decimal(str(row["target_price"])).normalize(),
                status=str(row["status"]),
            )
            for row in frame.to_dict("records")
        )

    # -- the cycle ----------------------------------------------------------------------------------

    def cycle_args(self, *, dry_run: bool = False) -> list[str]:
        args = ["cycle", "--no-progress", "-p", "universe", self.options.universe]
        args += ["-p", "strategy_params", json.dumps(dict(self.options.strategy_params))]
        if dry_run:
            args += ["-p", "dry_run", "true"]
        return args

    def finished_cycle(self, done: Done, *, dry_run: bool = False) -> r.CycleRun:
        run_id = run_id_from_output(done.output)
        brackets = self.planned(run_id) if run_id else ()
        return r.CycleRun(done.returncode, run_id, done.output, brackets, dry_run)

    def cycle(self, *, dry_run: bool = False) -> r.CycleRun:
        if not dry_run:
            self.placed_orders = True
        done = self.project.run(*self.cycle_args(dry_run=dry_run), timeout=self.options.cycle_timeout)
        return self.finished_cycle(done, dry_run=dry_run)


def run_id_from_output(output: str) -> str:
    """The run id of the folder `catalyst cycle` printed ("Run folder: ..."), or "" when none."""
    for line in reversed(output.splitlines()):
        if line.startswith("Run folder:"):
            folder = Path(line.split(":", 1)[1].strip())
            try:
                return str(json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["run_id"])
            except (OSError, ValueError, KeyError):
                return ""
    return ""


def run_folder_from_output(output: str) -> Path | None:
    for line in reversed(output.splitlines()):
        if line.startswith("Run folder:"):
            return Path(line.split(":", 1)[1].strip())
    return None


def look_at_gateway(reh: Rehearsal, *, needs_flat: bool) -> r.CheckResult:
    g = reh.gateway
    mode = reh.options.mode
    try:
        moved = None
        if g.control is not None:
            now = datetime.fromisoformat(str(g.control.status()["clock"]))
            moved = r.rehearsal_start(now)
            if moved is not None:
                g.control.set_clock(moved)
        account, server_time, view = session_look(reh.project.settings())
    except Exception as exc:  # any failure to reach the broker is this check's finding
        return r.check_gateway(
            r.GatewayLook(g.host, g.port, mode, "", None, {}, 0, error=f"{type(exc).__name__}: {exc}"),
            needs_flat=needs_flat,
        )
    reh.account = account
    working = [o for o in view.orders if o.status not in ("Filled", "Cancelled", "Inactive", "ApiCancelled")]
    look = r.GatewayLook(
        g.host, g.port, mode, account, server_time, view.positions, len(working), clock_moved_to=moved
    )
    return r.check_gateway(look, needs_flat=needs_flat)


def check_cycle_step(reh: Rehearsal) -> r.CheckResult:
    """One full cycle; on the simulator, a day on which the scan finds nothing is skipped (at most
    :data:`CANDIDATE_DAYS` days), since every later check needs a bracket."""
    run = reh.cycle()
    moved: list[str] = []
    control = reh.gateway.control
    while (
        control is not None and run.returncode == 0 and not run.brackets and len(moved) < CANDIDATE_DAYS - 1
    ):
        day = r.next_day_start(reh.broker_now())
        control.set_clock(day)
        moved.append(f"{day:%Y-%m-%d}")
        run = reh.cycle()
    reh.brackets = run.brackets
    result = r.check_cycle(run)
    if moved:
        note = f" (no candidate on the day(s) before: simulator clock moved to {', '.join(moved)})"
        result = r.CheckResult(result.check, result.result, result.evidence + note)
    return result


def check_structure_step(reh: Rehearsal) -> r.CheckResult:
    """Read every proven bracket back through an independent read-only session."""
    settings = reh.project.settings()

    def complete() -> r.BrokerView | None:
        view = session_look(settings)[2]
        ok = all(not r.bracket_problems(b, view) for b in reh.brackets if b.status == "proven")
        return view if ok else None

    view = reh.wait_for(complete, timeout=min(reh.options.wait, 20.0)) or session_look(settings)[2]
    where = f"a read-only session (client {settings.broker.client_id + READ_CLIENT_OFFSET})"
    return r.check_structure(reh.brackets, view, source=where)


def _one_tick_through(symbol: str, price: Decimal, direction: Literal["up", "down"], on: datetime) -> Decimal:
    """The first price on the ladder strictly beyond ``price`` in ``direction``."""
    nudge = Decimal("0.0001") if direction == "up" else Decimal("-0.0001")
    return snap_to_tick(price + nudge, direction, on=on, table=security(symbol).spread_table)


def check_stop_step(reh: Rehearsal) -> r.CheckResult:
    """Move the price one tick past a bracket's stop and wait for the stop leg to fill."""
    control = reh.gateway.control
    assert control is not None
    proven = [b for b in reh.brackets if b.status == "proven"]
    if not proven:
        return r.failed(r.CHECK_STOP, "no proven bracket to trigger (the cycle check did not pass)")

    def filled_bracket(whole: bool = True) -> r.PlannedBracket | None:
        held = reh.view().positions
        for b in proven:
            quantity = abs(held.get(b.symbol, 0))
            if quantity and (quantity == b.quantity or not whole):
                return b
        return None

    chosen = reh.wait_for(filled_bracket, timeout=min(reh.options.wait, 30.0))
    if chosen is None:  # no entry filled yet: bring the price to the first entry
        first = proven[0]
        control.move_price(first.symbol, price=str(first.entry))
        chosen = reh.wait_for(filled_bracket, timeout=min(reh.options.wait, 30.0))
    if chosen is None:  # still filling in parts: trigger the stop on what is held
        chosen = filled_bracket(whole=False)
    if chosen is None:
        return r.failed(r.CHECK_STOP, f"no entry of {', '.join(b.symbol for b in proven)} filled")
    b: r.PlannedBracket = chosen
    before = reh.view().positions.get(b.symbol, 0)
    through: Literal["up", "down"] = "down" if b.side == "BUY" else "up"
    target = _one_tick_through(b.symbol, b.stop, through, to_hk(reh.broker_now()))
    started = time.monotonic()
    try:
        control.move_price(b.symbol, price=str(target))
    except Exception as exc:  # the simulator's refusal is this check's finding
        return r.check_stop(r.StopTrial(b.symbol, b.stop, target, before, before, "", 0, error=str(exc)))

    def stopped() -> r.BrokerView | None:
        view = reh.view()
        legs = view.legs(f"{b.intent_id}:SL")
        return view if legs and legs[0].status == "Filled" else None

    view = reh.wait_for(stopped) or reh.view()
    sl = view.legs(f"{b.intent_id}:SL")
    tp = view.legs(f"{b.intent_id}:TP")
    fills = [f for f in view.fills if f.order_ref == f"{b.intent_id}:SL"]
    avg = None
    if fills:
        qty = sum(f.quantity for f in fills)
        avg = (
            (sum((f.price * f.quantity for f in fills), Decimal(0)) / qty)
            .quantize(Decimal("0.001"))
            .normalize()
        )
    return r.check_stop(
        r.StopTrial(
            symbol=b.symbol,
            stop=b.stop,
            moved_to=target,
            position_before=before,
            position_after=view.positions.get(b.symbol, 0),
            stop_status=sl[0].status if sl else "",
            stop_filled=sl[0].filled if sl else 0,
            stop_fill_price=avg,
            target_status=tp[0].status if tp else "",
            waited_seconds=time.monotonic() - started,
        )
    )


def check_breaker_step(reh: Rehearsal) -> r.CheckResult:
    """`catalyst monitor` with a tiny loss limit until it records a trip, then one more cycle."""
    from catalyst.risk.state import halt_expiry, load_risk_state

    before = reh.view().entry_refs()
    monitor = reh.project.start(
        "monitor", "--poll-interval", "2", "--reconcile-with", "off",
        extra_env={"CATALYST_RISK__DAILY_LOSS_LIMIT_HKD": TINY_LOSS_LIMIT},
    )  # fmt: skip
    reh.placed_orders = True
    started = time.monotonic()

    def tripped() -> dict[str, Any] | str | None:
        if monitor.poll() is not None:
            return "exited"
        found = reh.project.ledger().query(
            "SELECT ts, coalesce(account, '') AS account, message FROM risk_events "
            "WHERE kind = 'breaker_tripped' ORDER BY ts DESC LIMIT 1"
        )
        return {str(k): v for k, v in found.iloc[0].items()} if len(found) else None

    try:
        got = reh.wait_for(tripped, every=0.5)
    finally:
        waited = time.monotonic() - started
        if monitor.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(monitor.pid, signal.SIGTERM)
            try:
                monitor.wait(30)
            except subprocess.TimeoutExpired:
                kill_group(monitor)
    output = reh.project.output_of(monitor)
    if not isinstance(got, dict):
        exited = monitor.returncode if got == "exited" else None
        return r.check_breaker(
            r.BreakerTrial(False, "", output, None, waited_seconds=waited, monitor_exit=exited)
        )
    tripped_at = pd.Timestamp(got["ts"]).to_pydatetime()
    broker_now = reh.broker_now()
    state = load_risk_state(reh.project.ledger(), reh.account, broker_now)
    cycle = reh.cycle()
    new_entries = tuple(sorted(reh.view().entry_refs() - before))
    refusals = 0
    if cycle.run_id:
        refusals = int(
            reh.project.ledger().scalar(
                "SELECT count(*) FROM risk_events WHERE run_id = ? AND kind = 'pretrade_rejected' "
                "AND CAST(detail AS VARCHAR) LIKE '%breaker_halted%'",
                [cycle.run_id],
            )
            or 0
        )
    return r.check_breaker(
        r.BreakerTrial(
            halted=True,
            halt_reason=str(got["message"]),
            monitor_output=output,
            cycle=cycle,
            new_entries=new_entries,
            halted_refusals=refusals,
            waited_seconds=waited,
            recorded_account=str(got["account"]),
            account=reh.account,
            tripped_at=tripped_at,
            broker_time=broker_now,
            halt_until=halt_expiry(tripped_at),
            halted_at_broker_time=state.halted,
        )
    )


def reset_for_rerun(reh: Rehearsal) -> list[str]:
    """Lift the rehearsal's own halt (recorded in its ledger) and, on the simulator, start a new day."""
    from catalyst.risk.state import load_risk_state, reset_breaker

    notes = []
    ledger = reh.project.ledger()
    now = reh.broker_now()
    last_trip = ledger.scalar(
        "SELECT max(ts) FROM risk_events WHERE kind = 'breaker_tripped' AND coalesce(account, '') = ?",
        [reh.account],
    )
    if last_trip is not None or load_risk_state(ledger, reh.account, now).halted:
        # after the trip on every clock: the broker's, the wall clock and the trip's own stamp
        stamps = [now, datetime.now(HK_TZ)]
        if last_trip is not None:
            stamps.append(pd.Timestamp(last_trip).to_pydatetime() + timedelta(milliseconds=1))
        reset_breaker(
            ledger, account=reh.account, reason="rehearsal: lifted after the breaker check", ts=max(stamps)
        )
        notes.append("breaker reset in the rehearsal's ledger")
    if reh.gateway.control is not None:
        day = r.next_day_start(now)
        reh.gateway.control.set_clock(day)
        notes.append(f"simulator clock moved to {day:%Y-%m-%d %H:%M} HKT (a new trading day)")
    if any(reh.view().positions.values()):
        notes.append("account cleared: " + clear_account(reh.project.settings(), reh.options.wait))
    return notes


def crash_point_env() -> dict[str, str]:
    """The cycle's own crash point, when this installation has one: SIGKILL to its kernel and its
    command right after every leg of a bracket was placed and before the broker answered, so the
    crash lands between sending and proof every time (observing the broker from outside, a kill
    nearly always comes after the proof, when there is nothing left to adopt)."""
    try:
        from catalyst.broker import crash_points
    except ImportError:
        return {}
    return {crash_points.ENV_CRASH_POINT: CRASH_POINT, crash_points.ENV_CRASH_PARENT: "1"}


def check_rerun_step(reh: Rehearsal) -> r.CheckResult:
    """A cycle dies by SIGKILL after it sent a bracket; a rerun; then count, compare and look for adoption."""
    before = reh.view()
    known = {o.order_ref for o in before.orders} | {f.order_ref for f in before.fills}
    reh.placed_orders = True
    crash_env = crash_point_env()
    crashed = reh.project.start(*reh.cycle_args(), extra_env=crash_env)

    def new_refs() -> set[str]:
        view = reh.view()  # on paper only working orders show: a filled entry is found by its fills
        refs = {o.order_ref for o in view.orders} | {f.order_ref for f in view.fills}
        return {ref for ref in refs if ref and ref not in known}

    def ended_or_sent() -> str | None:
        if crashed.poll() is not None:
            return "ended"
        if not crash_env and any(ref.endswith(":SL") for ref in new_refs()):
            return "sent"  # no crash point here: kill from outside as soon as a whole bracket shows
        return None

    outcome = reh.wait_for(ended_or_sent, timeout=reh.options.cycle_timeout, every=0.1)
    killed = kill_group(crashed)
    refs_at_kill = tuple(sorted(new_refs()))
    crashed_output = reh.project.output_of(crashed)
    how = (
        f"SIGKILL at the cycle's crash point {CRASH_POINT} (kernel and command)"
        if crash_env and outcome == "ended" and crashed.returncode == -signal.SIGKILL
        else f"SIGKILL to the cycle and its kernel ({killed} processes)"
    )
    if not refs_at_kill or crashed.returncode == 0:
        return r.check_rerun(
            r.RerunTrial(refs_at_kill, crashed.returncode, crashed_output, None, crash_how=how)
        )
    rerun = reh.cycle()
    after = reh.view()
    crash_intents = {ref.rpartition(":")[0] for ref in refs_at_kill}
    crash_refs = _refs_of(after, crash_intents)
    ledger = reh.project.ledger()
    rows = ledger.query(
        "SELECT order_ref, intent_id FROM orders WHERE order_ref IN (SELECT unnest(?))", [crash_refs]
    )
    in_ledger = {str(x["order_ref"]): str(x["intent_id"] or "") for x in rows.to_dict("records")}
    intents = ledger.query(
        "SELECT intent_id, status, CAST(detail AS VARCHAR) AS detail FROM intents "
        "WHERE intent_id IN (SELECT unnest(?))",
        [sorted(crash_intents)],
    )
    crashed_brackets = reh.intents_where("intent_id IN (SELECT unnest(?))", [sorted(crash_intents)])
    return r.check_rerun(
        r.RerunTrial(
            sent_before_kill=refs_at_kill,
            killed_returncode=crashed.returncode,
            killed_processes=killed,
            crash_how=how,
            crashed_output=crashed_output,
            rerun=rerun,
            entries_per_symbol=_new_entries_per_symbol(after, known),
            unknown_to_ledger=tuple(ref for ref in crash_refs if ref not in in_ledger),
            adopted_by_rerun=tuple(
                sorted((adopted_intents(rerun.output) | adopted_in(intents)) & crash_intents)
            ),
            unlinked=tuple(ref for ref, iid in in_ledger.items() if iid != ref.rpartition(":")[0]),
            crashed=crashed_brackets,
            rerun_decisions=reh.planned(rerun.run_id) if rerun.run_id else (),
            left_open=tuple(
                str(x["intent_id"])
                for x in intents.to_dict("records")
                if str(x["status"]) in ("approved", "submitted")
            ),
        )
    )


def _new_entries_per_symbol(view: r.BrokerView, known: set[str]) -> dict[str, int]:
    """How many entry orders (working or filled) each symbol has that were not there before."""
    entries: dict[str, set[str]] = {}
    for o in view.orders:
        if o.role == "P" and o.order_ref not in known:
            entries.setdefault(o.symbol, set()).add(o.order_ref)
    for f in view.fills:
        if f.order_ref.endswith(":P") and f.order_ref not in known:
            entries.setdefault(f.symbol, set()).add(f.order_ref)
    return {s: len(v) for s, v in entries.items()}


def _refs_of(view: r.BrokerView, intent_ids: set[str]) -> list[str]:
    """The orderRefs of the intents' legs the broker shows, working or filled, sorted."""
    return sorted(
        {o.order_ref for o in view.orders if o.intent_id in intent_ids}
        | {f.order_ref for f in view.fills if f.order_ref.rpartition(":")[0] in intent_ids}
    )


def adopted_in(intents: pd.DataFrame) -> set[str]:
    """Intents whose ledger row says their legs were adopted (``"adopted": true`` in the detail)."""
    found = set()
    for row in intents.to_dict("records"):
        with contextlib.suppress(ValueError, TypeError):
            if json.loads(str(row.get("detail") or "{}")).get("adopted") is True:
                found.add(str(row["intent_id"]))
    return found


def adopted_intents(cycle_output: str) -> set[str]:
    """Intents whose legs the cycle's submitter adopted (from its run folder's events.jsonl)."""
    folder = run_folder_from_output(cycle_output)
    found: set[str] = set()
    if folder is None:
        return found
    with contextlib.suppress(OSError):
        for line in (folder / "events.jsonl").read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if event.get("event") == ADOPTED_EVENT and event.get("intent_id"):
                    found.add(str(event["intent_id"]))
    return found


# --- the whole checklist ---------------------------------------------------------------------------


def make_project(options: RehearsalOptions, say: Callable[[str], None]) -> Path:
    """A new temporary folder, or the one given (a project with a ledger only when pointed at it)."""
    if options.project is None:
        return Path(tempfile.mkdtemp(prefix="catalyst-rehearsal-")).resolve()
    root = options.project.expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise RehearsalError(f"--project {root} is a file; give a folder for the rehearsal's project")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RehearsalError(
            f"--project {root} cannot be created ({exc.strerror}); give a folder you can write"
        ) from None
    if (root / "state" / "ledger.duckdb").exists():
        say(
            f"note: {root} already holds a ledger (state/ledger.duckdb); you pointed the rehearsal at it, "
            "so its runs, orders, risk events and its breaker trip and reset go into that ledger"
        )
    return root


def quiet_logging(path: Path, settings: Settings) -> None:
    """The rehearsal's own structured log goes to a file in its project; the terminal shows the table."""
    from catalyst.log import configure_logging

    quiet = open(os.devnull, "w")  # noqa: SIM115 - held by the log handler for the process's life
    configure_logging(json_file=path, secrets=settings.secret_values(), stream=quiet)


def rehearse(
    settings: Settings, options: RehearsalOptions, *, say: Callable[[str], None] = print
) -> tuple[list[r.CheckResult], Path]:
    """Run the checklist; returns the result rows and the rehearsal's project folder."""
    if options.mode == "live":
        raise RehearsalError(
            "catalyst rehearse never runs against a live account; use --mode sim, or --mode paper with a "
            "paper gateway"
        )
    if options.mode not in ("sim", "paper"):
        raise RehearsalError(f"--mode must be sim or paper, got {options.mode!r}")
    if settings.mode != options.mode:  # the gateway's address and the account checks follow the mode
        settings = load_settings(settings.config_file, environ={**os.environ, "CATALYST_MODE": options.mode})
    root = make_project(options, say)
    say(f"Rehearsal project (its own ledger, runs and state): {root}")
    quiet_logging(root / "logs" / "rehearsal.jsonl", settings)
    results: list[r.CheckResult] = []
    with rehearsal_gateway(settings, options, root) as gateway:
        env = project_env(
            os.environ,
            root,
            mode=options.mode,
            config_file=settings.config_file,
            gateway=(gateway.host, gateway.port) if gateway.own or options.gateway_state else None,
        )
        reh = Rehearsal(RehearsalProject(root, env), gateway, options, say)
        has_control = gateway.control is not None
        needs_flat = not options.paper or options.place_orders
        say(f"Gateway {gateway.host}:{gateway.port} ({'its own simulator' if gateway.own else options.mode})")
        results.append(look_at_gateway(reh, needs_flat=needs_flat))
        if not results[0].passed:
            results += [r.skipped(c, f"the {r.CHECK_GATEWAY} check did not pass") for c in r.CHECKS[1:]]
            return results, root
        results += run_checks(reh, has_control=has_control)
        if reh.placed_orders and not gateway.own:  # its own simulator stops anyway
            with contextlib.suppress(Exception):
                say("Leaving the account flat: " + clear_account(reh.project.settings(), options.wait))
    return results, root


def run_checks(reh: Rehearsal, *, has_control: bool) -> list[r.CheckResult]:
    o = reh.options
    out: list[r.CheckResult] = []

    def reason(check: str) -> str | None:
        return r.skip_reason(check, paper=o.paper, place_orders=o.place_orders, has_control=has_control)

    def step(check: str, action: Callable[[], r.CheckResult]) -> None:
        why = reason(check) if check else None
        if why is not None:
            out.append(r.skipped(check, why))
            return
        reh.say(f"... {check or r.CHECK_CYCLE + ' (dry run)'}")
        try:
            result = action()
        except Exception as exc:  # one broken step fails its row, not the rehearsal
            log.exception("rehearsal.step_failed", check=check)
            result = r.failed(check or r.CHECK_CYCLE, f"{type(exc).__name__}: {exc}")
        out.append(result)
        reh.say(f"    {result.result}: {result.evidence}")

    if reason(r.CHECK_CYCLE) is not None:  # no orders: the cycle still runs, as a dry run
        step("", lambda: r.check_cycle(reh.cycle(dry_run=True)))
        out += [r.skipped(c, reason(c) or r.SKIP_PLACES_ORDERS) for c in r.CHECKS[2:]]
        return out

    step(r.CHECK_CYCLE, lambda: check_cycle_step(reh))
    if any(b.status == "proven" for b in reh.brackets):
        step(r.CHECK_STRUCTURE, lambda: check_structure_step(reh))
        step(r.CHECK_STOP, lambda: check_stop_step(reh))
        step(r.CHECK_BREAKER, lambda: check_breaker_step(reh))
    else:
        out += [
            r.skipped(c, reason(c) or r.SKIP_NO_BRACKET)
            for c in (r.CHECK_STRUCTURE, r.CHECK_STOP, r.CHECK_BREAKER)
        ]
    for note in reset_for_rerun(reh):
        reh.say(f"    ({note})")
    step(r.CHECK_RERUN, lambda: check_rerun_step(reh))
    return out
