"""The chaos soak (issue 10, item 9): cycles, the monitor and reconciliation run together over one
simulated gateway while faults are switched and processes are SIGKILLed at seeded points; after
every round the faults are cleared, things settle, and `catalyst broker audit` must find nothing.

Seeded and bounded. ``CATALYST_CHAOS_SEED`` replays a run (default: a random seed, printed at the
start and in every failure); ``CATALYST_CHAOS_ROUNDS`` sets the rounds (default 3, ``make soak``
runs 30); ``CATALYST_CHAOS_KEEP_GOING=1`` records a round's violations and goes on instead of
failing at the first. The figures (rounds, faults, kills, violations) go to ``chaos-soak.json``
in the test's tmp dir, whose path is printed.

A round, all from the seed: maybe reset a tripped breaker (or leave it, so cycles must refuse);
advance the clock; start one or two `catalyst cycle` runs (two terminals) and maybe a
`catalyst reconcile` beside them; switch one or two faults on at seeded moments (drop-children,
reject-children, partial-fills, latency, disconnect, restart); move the prices of held symbols;
SIGKILL a cycle once it has placed its n-th order, or let its kernel SIGKILL itself and its command
at a crash point (right after a bracket's placeOrder calls or right after its proof), and the
monitor when it places an order (mid-repair, else at a seeded moment), then restart the monitor.
Then: faults off, wait for the commands to end, `catalyst reconcile`, and wait (bounded) for the
audit to come back clean.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest
from chaos_project import (
    CYCLE_PARAMS,
    MONITOR_CLIENT_ID,
    SIM_CLOCK,
    ChaosProject,
    Proc,
    project_env,
    wait_for,
)

from catalyst.sim.gateway.launcher import start_gateway

ACCOUNT = "DU0000001"
UNIVERSE = CYCLE_PARAMS[CYCLE_PARAMS.index("universe") + 1].split(",")
SEED = int(os.environ.get("CATALYST_CHAOS_SEED") or random.SystemRandom().randrange(1, 2**31))
ROUNDS = int(os.environ.get("CATALYST_CHAOS_ROUNDS") or 3)
KEEP_GOING = os.environ.get("CATALYST_CHAOS_KEEP_GOING") == "1"
#: Bounds of one round: the commands it started, then the settling, then the audit's fill grace.
ROUND_TIMEOUT = 300.0
SETTLE_TIMEOUT = 90.0
AUDIT_GRACE = 10.0
#: Sim time after which no round advances the clock (entries end 15 min before the lunch break).
LATEST_CLOCK = "11:30"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.xdist_group("chaos_soak"),
    pytest.mark.timeout(240 + 420 * ROUNDS),
]

#: name, weight, parameters
FAULTS: tuple[tuple[str, float, dict[str, Any]], ...] = (
    ("drop-children", 3, {}),
    ("reject-children", 1.5, {}),
    ("partial-fills", 2, {"pieces": 3}),
    ("latency", 1.5, {"ms": 400}),
    ("disconnect", 1, {}),
    ("restart", 1, {"seconds": 1.5}),
)
ONE_SHOT = frozenset({"disconnect", "restart"})
MOVES = (-6, -5, -4, -2, 2, 4, 8, 9)
#: ``catalyst.broker.crash_points``: right after a bracket's placeOrder calls, right after its proof
CRASH_POINTS = ("bracket_placed", "bracket_proven")


@dataclass(frozen=True)
class FaultAt:
    at: float  # seconds after the round starts
    name: str
    params: dict[str, Any]


@dataclass(frozen=True)
class MoveAt:
    at: float
    pick: int  # which held symbol (modulo how many are held then)
    pct: int


@dataclass(frozen=True)
class RoundPlan:
    """What one round does and when, drawn from the seed before the round starts."""

    number: int
    reset_breaker: bool
    advance: float
    cycles: int
    second_cycle_after: float
    reconcile_at: float | None
    faults: tuple[FaultAt, ...]
    moves: tuple[MoveAt, ...]
    kill_cycle_after_orders: int | None  # SIGKILL the first cycle once it has placed this many orders
    crash_point: str | None  # or let its kernel SIGKILL itself (and its command) at this point
    kill_monitor_fallback_at: float | None  # kill when it repairs, else at this moment

    def summary(self) -> dict[str, Any]:
        return asdict(self)


def plan_round(rng: random.Random, number: int) -> RoundPlan:
    names = [f[0] for f in FAULTS]
    weights = [f[1] for f in FAULTS]
    params = {f[0]: f[2] for f in FAULTS}
    chosen = list(dict.fromkeys(rng.choices(names, weights, k=rng.choice((0, 1, 1, 2)))))
    return RoundPlan(
        number=number,
        reset_breaker=rng.random() < 0.7,
        advance=round(rng.uniform(0, 60), 1),
        cycles=2 if rng.random() < 0.5 else 1,
        second_cycle_after=round(rng.uniform(0.05, 3.0), 2),
        reconcile_at=round(rng.uniform(2, 20), 1) if rng.random() < 0.3 else None,
        faults=tuple(FaultAt(round(rng.uniform(0, 15), 1), n, params[n]) for n in chosen),
        moves=tuple(
            MoveAt(round(rng.uniform(5, 35), 1), rng.randrange(100), rng.choice(MOVES))
            for _ in range(rng.choice((1, 2)))
        ),
        kill_cycle_after_orders=rng.choice((1, 2, 3, 4, 6)) if rng.random() < 0.3 else None,
        crash_point=rng.choice(CRASH_POINTS) if rng.random() < 0.3 else None,
        kill_monitor_fallback_at=round(rng.uniform(5, 40), 1) if rng.random() < 0.35 else None,
    )


@dataclass
class Figures:
    seed: int
    rounds_planned: int
    rounds_run: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    kills: Counter[str] = field(default_factory=Counter)
    exits: Counter[str] = field(default_factory=Counter)
    violations: int = 0  # distinct (rule, symbol, orders): one left standing counts once
    violations_by_rule: Counter[str] = field(default_factory=Counter)
    sightings: int = 0  # violations found over all rounds' final audits, repeats included
    seen: set[str] = field(default_factory=set)
    rounds: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "replay": f"CATALYST_CHAOS_SEED={self.seed} CATALYST_CHAOS_ROUNDS={self.rounds_planned}",
            "rounds_planned": self.rounds_planned,
            "rounds_run": self.rounds_run,
            "duration_s": round(time.monotonic() - self.started, 1),
            "faults": dict(self.faults),
            "faults_total": sum(self.faults.values()),
            "kills": dict(self.kills),
            "kills_total": sum(self.kills.values()),
            "process_exits": dict(self.exits),
            "violations": self.violations,
            "violations_by_rule": dict(self.violations_by_rule),
            "violation_sightings": self.sightings,
            "rounds": self.rounds,
        }


class Soak:
    """Runs the rounds over one project and keeps the figures."""

    def __init__(self, project: ChaosProject, figures: Figures, say: Any) -> None:
        self.p = project
        self.gw = project.gateway.control
        self.figures = figures
        self.say = say
        self.monitor: Proc | None = None

    # -- the monitor ----------------------------------------------------------------------------

    def start_monitor(self) -> None:
        self.monitor = self.p.start(
            "monitor",
            "monitor",
            "--client-id",
            str(MONITOR_CLIENT_ID),
            "--poll-interval",
            "2",
            "--sync-interval",
            "5",
            "--reconcile-interval",
            "30",
            "--down-alert-after",
            "10",
            client_id=MONITOR_CLIENT_ID,
        )

    def ensure_monitor(self) -> None:
        if self.monitor is None or not self.monitor.running:
            if self.monitor is not None:
                self.figures.exits[f"monitor:{self.monitor.popen.returncode}"] += 1
            self.start_monitor()

    def stop(self) -> None:
        if self.monitor is not None:
            self.monitor.stop()

    # -- the gateway ----------------------------------------------------------------------------

    def orders_of(self, client_id: int) -> int:
        return sum(1 for o in self.gw.orders() if int(o.get("client_id") or 0) == client_id)

    def held_symbols(self) -> list[str]:
        return sorted(str(p["symbol"]) for p in self.gw.positions(ACCOUNT) if int(p["quantity"]) != 0)

    def clear_faults(self) -> None:
        for name in list(self.gw.faults()):
            self.gw.fault(name, False)

    def maybe_advance(self, seconds: float) -> float:
        clock = str(self.gw.status()["clock"])
        if seconds <= 0 or clock[11:16] >= LATEST_CLOCK:
            return 0.0
        self.gw.advance(seconds)
        return seconds

    # -- the breaker ----------------------------------------------------------------------------

    def halted(self) -> bool:
        last = self.p.ledger.query(
            "SELECT kind FROM risk_events WHERE kind IN ('breaker_tripped', 'breaker_reset') "
            "AND account = ? ORDER BY ts DESC LIMIT 1",
            [ACCOUNT],
        )
        return not last.empty and last["kind"].iloc[0] == "breaker_tripped"

    # -- one round ------------------------------------------------------------------------------

    def round(self, plan: RoundPlan) -> dict[str, Any]:
        record: dict[str, Any] = {"plan": plan.summary(), "events": []}
        events: list[str] = record["events"]
        if self.halted():
            if plan.reset_breaker:
                done = self.p.run(
                    "risk", "reset", "--reason", f"chaos soak round {plan.number}", "--account", ACCOUNT
                )
                events.append(f"breaker reset (exit {done.returncode})")
            else:
                events.append("breaker left tripped: cycles must refuse")
        if (advanced := self.maybe_advance(plan.advance)) > 0:
            events.append(f"clock +{advanced:.0f} s")
        self.ensure_monitor()
        t0 = time.monotonic()
        crash = (
            {}
            if plan.crash_point is None
            else {"CATALYST_CRASH_POINT": plan.crash_point, "CATALYST_CRASH_PARENT": "1"}
        )
        cycles = [self.p.start("cycle", "cycle", "--no-progress", *CYCLE_PARAMS, env=crash)]
        others: list[Proc] = []
        pending_faults = sorted(plan.faults, key=lambda f: f.at)
        pending_moves = sorted(plan.moves, key=lambda m: m.at)
        second_due = plan.cycles == 2
        reconcile_due = plan.reconcile_at is not None
        cycle_kill_armed = plan.kill_cycle_after_orders is not None
        monitor_kill_armed = plan.kill_monitor_fallback_at is not None
        monitor_orders_at_start = self.orders_of(MONITOR_CLIENT_ID)
        while True:
            elapsed = time.monotonic() - t0
            if second_due and elapsed >= plan.second_cycle_after:
                cycles.append(self.p.start("cycle", "cycle", "--no-progress", *CYCLE_PARAMS))
                second_due = False
            if reconcile_due and plan.reconcile_at is not None and elapsed >= plan.reconcile_at:
                others.append(self.p.start("reconcile", "reconcile", "--no-progress"))
                reconcile_due = False
            while pending_faults and elapsed >= pending_faults[0].at:
                fault = pending_faults.pop(0)
                self.gw.fault(fault.name, True, **fault.params)
                self.figures.faults[fault.name] += 1
                events.append(f"{elapsed:5.1f}s fault {fault.name} on {fault.params or ''}".rstrip())
            while pending_moves and elapsed >= pending_moves[0].at:
                move = pending_moves.pop(0)
                held = self.held_symbols() or list(UNIVERSE)  # held ones first: their exits must react
                symbol = held[move.pick % len(held)]
                self.gw.move_price(symbol, pct=move.pct)
                events.append(f"{elapsed:5.1f}s move {symbol} {move.pct:+d}%")
            if cycle_kill_armed and plan.kill_cycle_after_orders is not None:
                first = cycles[0]
                if first.running and self.orders_of(first.client_id) >= plan.kill_cycle_after_orders:
                    first.kill()
                    self.figures.kills["cycle_mid_send"] += 1
                    events.append(
                        f"{elapsed:5.1f}s SIGKILL cycle (client {first.client_id}) once it had placed "
                        f"{plan.kill_cycle_after_orders} order(s)"
                    )
                    cycle_kill_armed = False
                elif not first.running:
                    cycle_kill_armed = False
            if monitor_kill_armed and self.monitor is not None and self.monitor.running:
                repairing = self.orders_of(MONITOR_CLIENT_ID) > monitor_orders_at_start
                fallback = (
                    plan.kill_monitor_fallback_at is not None and elapsed >= plan.kill_monitor_fallback_at
                )
                if repairing or fallback:
                    self.monitor.kill()
                    kind = "monitor_mid_repair" if repairing else "monitor_at_seeded_moment"
                    self.figures.kills[kind] += 1
                    events.append(f"{elapsed:5.1f}s SIGKILL monitor ({kind})")
                    monitor_kill_armed = False
                    self.start_monitor()
            busy = any(c.running for c in cycles + others) or second_due or reconcile_due
            if not busy and not pending_faults and not pending_moves and not monitor_kill_armed:
                break
            if elapsed > ROUND_TIMEOUT:
                for proc in cycles + others:
                    if proc.running:
                        events.append(
                            f"{proc.name} (client {proc.client_id}) still running after "
                            f"{ROUND_TIMEOUT:.0f} s: stopped; its log ends:\n{proc.tail(15)}"
                        )
                        self.figures.exits[f"{proc.name}:hung"] += 1
                        proc.stop()
                break
            time.sleep(0.2)
        if (
            plan.crash_point is not None
            and cycles[0].popen.returncode == -signal.SIGKILL
            and not cycles[0].killed
        ):
            cycles[0].killed = True
            self.figures.kills[f"cycle_at_{plan.crash_point}"] += 1
            events.append(f"cycle (client {cycles[0].client_id}) SIGKILLed itself at {plan.crash_point}")
        for proc in cycles + others:
            if not proc.killed:
                code = proc.popen.returncode
                self.figures.exits[f"{proc.name}:{code}"] += 1
                events.append(f"{proc.name} (client {proc.client_id}) exit {code}")
        record["settle"] = self.settle(events)
        return record

    def settle(self, events: list[str]) -> dict[str, Any]:
        """Faults off, monitor up, a reconciliation, then the audit until clean (bounded)."""
        self.clear_faults()
        self.ensure_monitor()
        t0 = time.monotonic()
        done = self.p.run("reconcile", "--no-progress")
        events.append(f"settle: reconcile exit {done.returncode}")
        self.figures.exits[f"reconcile:{done.returncode}"] += 1
        last: dict[str, Any] = {}

        def clean() -> bool:
            code, found, err = self.p.audit(AUDIT_GRACE)
            if code == 1 and not found:  # a traceback, not a verdict: it could not check
                code = 2
            last.update(code=code, violations=found, error=err if code == 2 else "")
            last["audits"] = last.get("audits", 0) + 1
            if found and "first_violations" not in last:  # seen while settling, before the repairs
                last["first_violations"] = found
            return code == 0

        wait_for(clean, timeout=SETTLE_TIMEOUT, every=1.0)
        last["settle_s"] = round(time.monotonic() - t0, 1)
        return last


def _key(violation: dict[str, Any]) -> str:
    return json.dumps([violation["rule"], violation["symbol"], sorted(violation["order_refs"])])


@pytest.fixture
def project(tmp_path: Path) -> Iterator[ChaosProject]:
    root = tmp_path / "project"
    root.mkdir()
    logs = tmp_path / "logs"
    logs.mkdir()
    # the market is the one every test sees (the gateway's default seed); the chaos is the soak's seed
    handle = start_gateway(tmp_path / "gw", clock=SIM_CLOCK, accounts=(ACCOUNT,))
    made = ChaosProject(root=root, gateway=handle, account=ACCOUNT, logs=logs, env=project_env(root, handle))
    try:
        yield made
    finally:
        made.stop_all()
        handle.stop()


def test_the_audit_stays_clean_through_seeded_faults_and_kills(
    project: ChaosProject, tmp_path: Path, capsys: pytest.CaptureFixture[str], record_property: Any
) -> None:
    def say(text: str) -> None:
        with capsys.disabled():
            print(f"[chaos seed {SEED}] {text}", flush=True)

    report = tmp_path / "chaos-soak.json"
    record_property("chaos_seed", SEED)
    record_property("chaos_report", str(report))
    say(f"{ROUNDS} rounds; replay with CATALYST_CHAOS_SEED={SEED}; figures: {report}")
    rng = random.Random(SEED)
    figures = Figures(seed=SEED, rounds_planned=ROUNDS)
    soak = Soak(project, figures, say)
    failures: list[str] = []
    try:
        for number in range(1, ROUNDS + 1):
            plan = plan_round(rng, number)
            record = soak.round(plan)
            figures.rounds.append(record)
            figures.rounds_run = number
            report.write_text(
                json.dumps(figures.as_dict(), indent=2, default=str)
            )  # a long soak, readable as it goes
            settle = record["settle"]
            found = settle.get("violations", [])
            fresh = [v for v in found if _key(v) not in figures.seen]
            figures.seen.update(_key(v) for v in fresh)
            figures.sightings += len(found)
            figures.violations += len(fresh)
            figures.violations_by_rule.update(v["rule"] for v in fresh)
            record["new_violations"] = fresh
            steps = "; ".join(e.splitlines()[0] for e in record["events"])
            say(
                f"round {number}: {len(found)} violation(s) ({len(fresh)} new), audit exit "
                f"{settle.get('code')}, settled in {settle.get('settle_s')} s; {steps}"
            )
            if settle.get("code") != 0:
                lines = [
                    f"  {v['rule']} [{v['symbol'] or 'account'}] {v['detail']} {v['order_refs']}"
                    for v in found
                ]
                if settle.get("code") == 2:
                    lines.append(f"  the audit could not check: {settle.get('error')}")
                failures.append(
                    f"round {number} (seed {SEED}): audit exit {settle.get('code')} after "
                    f"{SETTLE_TIMEOUT:.0f} s of settling\n" + "\n".join(lines) + "\n  scenario:\n    "
                    + "\n    ".join(record["events"])
                )  # fmt: skip
                if not KEEP_GOING:
                    break
    finally:
        soak.stop()
        report.write_text(json.dumps(figures.as_dict(), indent=2, default=str))
        summary = figures.as_dict()
        say(
            f"figures: rounds {summary['rounds_run']}/{ROUNDS}, faults {summary['faults_total']} "
            f"{summary['faults']}, kills {summary['kills_total']} {summary['kills']}, violations "
            f"{summary['violations']} {summary['violations_by_rule']}, {summary['duration_s']} s; {report}"
        )
    assert not failures, (
        f"chaos soak seed {SEED} (replay: CATALYST_CHAOS_SEED={SEED}); figures in {report}\n"
        + "\n".join(failures)
    )
