"""The rehearsal checklist as values: what was observed in, one result row per check out.

The predecessor's paper checklist, automated: a full cycle; each bracket's structure at the broker;
a stop triggered by moving the price and seen to execute; the breaker tripped and the next cycle
refused; a crash and a rerun that adopts. :mod:`catalyst.runs.rehearsal_driver` does the steps and
collects the observations; every function here only judges them, so each judgement is tested
without a gateway. The CLI prints :func:`render_table` and exits with :func:`exit_code`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from catalyst.market import accepts_new_orders, next_session_open, session_for, to_hk

PASS = "pass"
FAIL = "FAIL"
SKIP = "skipped"

CHECK_GATEWAY = "gateway and account"
CHECK_CYCLE = "a. full cycle"
CHECK_STRUCTURE = "b. bracket structure at the broker"
CHECK_STOP = "c. stop triggered and executed"
CHECK_BREAKER = "d. breaker trips, next cycle refused"
CHECK_RERUN = "e. crash and rerun adopted"
CHECKS = (CHECK_GATEWAY, CHECK_CYCLE, CHECK_STRUCTURE, CHECK_STOP, CHECK_BREAKER, CHECK_RERUN)

#: Checks that place orders (they run on a paper account only with --place-orders).
PLACES_ORDERS = frozenset({CHECK_CYCLE, CHECK_STRUCTURE, CHECK_STOP, CHECK_BREAKER, CHECK_RERUN})
#: Checks that need the simulator's control channel (prices, clock).
NEEDS_CONTROL = frozenset({CHECK_STOP})

SKIP_PLACES_ORDERS = "skipped: places orders on a paper account; pass --place-orders"
SKIP_NO_BRACKET = "skipped: needs a bracket proven by check a, which sent none"
SKIP_NEEDS_CONTROL = (
    "skipped: needs the simulator's control channel to move the price; a paper account has none"
)

#: Exit codes of `catalyst rehearse`.
EXIT_ALL_PASSED = 0
EXIT_FAILED = 1
EXIT_INCOMPLETE = 3  # nothing failed, but some checks were skipped

#: A rehearsal needs this much continuous trading ahead of it (before lunch or the close).
TRADING_RUNWAY = timedelta(minutes=30)


@dataclass(frozen=True)
class CheckResult:
    """One row of the table: the check, pass / FAIL / skipped, and what was seen."""

    check: str
    result: str
    evidence: str

    @property
    def passed(self) -> bool:
        return self.result == PASS


def passed(check: str, evidence: str) -> CheckResult:
    return CheckResult(check, PASS, evidence)


def failed(check: str, evidence: str) -> CheckResult:
    return CheckResult(check, FAIL, evidence)


def skipped(check: str, reason: str) -> CheckResult:
    return CheckResult(check, SKIP, reason if reason.startswith("skipped") else f"skipped: {reason}")


def skip_reason(check: str, *, paper: bool, place_orders: bool, has_control: bool) -> str | None:
    """Why ``check`` must not run here, or None when it may."""
    if paper and check in PLACES_ORDERS and not place_orders:
        return SKIP_PLACES_ORDERS
    if check in NEEDS_CONTROL and not has_control:
        return SKIP_NEEDS_CONTROL
    return None


def exit_code(results: Sequence[CheckResult]) -> int:
    """0 only when every check passed; 1 when one failed; 3 when none failed but some were skipped."""
    if not results or any(r.result == FAIL for r in results):
        return EXIT_FAILED
    if any(r.result == SKIP for r in results):
        return EXIT_INCOMPLETE
    return EXIT_ALL_PASSED


def render_table(results: Sequence[CheckResult], *, width: int = 110) -> str:
    """The pass/fail table: check, result, evidence (wrapped under its column)."""
    name_w = max([len("check"), *(len(r.check) for r in results)])
    result_w = max(len("result"), len(PASS), len(FAIL), len(SKIP))
    evidence_w = max(30, width - name_w - result_w - 4)
    lines = [f"{'check':<{name_w}}  {'result':<{result_w}}  evidence", "-" * min(width, 200)]
    for r in results:
        wrapped = textwrap.wrap(r.evidence, evidence_w) or [""]
        lines.append(f"{r.check:<{name_w}}  {r.result:<{result_w}}  {wrapped[0]}")
        lines += [f"{'':<{name_w}}  {'':<{result_w}}  {more}" for more in wrapped[1:]]
    return "\n".join(lines)


def summary_line(results: Sequence[CheckResult]) -> str:
    counts = {k: sum(r.result == k for r in results) for k in (PASS, FAIL, SKIP)}
    verdict = {EXIT_ALL_PASSED: "rehearsal passed", EXIT_FAILED: "rehearsal FAILED"}.get(
        exit_code(results), "rehearsal incomplete"
    )
    return f"{verdict}: {counts[PASS]} passed, {counts[FAIL]} failed, {counts[SKIP]} skipped"


def rehearsal_start(now: datetime) -> datetime | None:
    """None when ``now`` leaves enough continuous trading for a rehearsal, else when to move the
    simulator's clock to: 10:00 HK of the next session (half an hour into it)."""
    t = to_hk(now)
    day = session_for(t.date())
    if day is not None and accepts_new_orders(t):
        next_break = day.break_start if day.break_start is not None and t < day.break_start else day.close
        if next_break - t >= TRADING_RUNWAY:
            return None
    return next_session_open(t) + timedelta(minutes=30)


def fresh_simulator_start(now: datetime) -> datetime:
    """Where a rehearsal's own simulator starts: 10:00 HK of the next session after ``now``.

    Always the next session, never "now", so a rehearsal reads the same at whatever hour it runs
    (its simulated clock is then ahead of the wall clock, as a simulator started outside trading
    hours always is).
    """
    return next_session_open(to_hk(now)) + timedelta(minutes=30)


def next_day_start(now: datetime) -> datetime:
    """10:00 HK on the session after ``now``'s (a new trading day for the crash-and-rerun check)."""
    t = to_hk(now)
    start = next_session_open(t)
    if start.date() == t.date():
        start = next_session_open(start)
    return start + timedelta(minutes=30)


# --- observations ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedBracket:
    """A bracket the cycle decided and recorded in the ledger (the intent)."""

    intent_id: str
    symbol: str
    side: str  # BUY | SELL
    quantity: int
    entry: Decimal
    stop: Decimal
    target: Decimal
    status: str = ""

    @property
    def exit_side(self) -> str:
        return "SELL" if self.side == "BUY" else "BUY"


@dataclass(frozen=True)
class BrokerOrder:
    """One order as the broker reports it (open, or done where the source shows done orders)."""

    order_ref: str
    perm_id: int
    order_id: int
    parent_id: int
    parent_perm_id: int
    symbol: str
    side: str
    order_type: str
    quantity: int
    limit_price: Decimal | None
    stop_price: Decimal | None
    oca_group: str
    status: str
    filled: int = 0

    @property
    def intent_id(self) -> str:
        return self.order_ref.rpartition(":")[0]

    @property
    def role(self) -> str:
        return self.order_ref.rpartition(":")[2]


@dataclass(frozen=True)
class BrokerFill:
    order_ref: str
    perm_id: int
    order_id: int
    symbol: str
    side: str
    quantity: int
    price: Decimal


@dataclass(frozen=True)
class BrokerView:
    """Orders, fills and positions of the account at one moment."""

    orders: tuple[BrokerOrder, ...] = ()
    fills: tuple[BrokerFill, ...] = ()
    positions: Mapping[str, int] = field(default_factory=dict)

    def legs(self, ref: str) -> list[BrokerOrder]:
        return [o for o in self.orders if o.order_ref == ref]

    def entry_refs(self) -> set[str]:
        """Every Catalyst entry leg (``<intent_id>:P``) the broker shows, as orders or fills."""
        refs = {o.order_ref for o in self.orders if o.role == "P"}
        return refs | {f.order_ref for f in self.fills if f.order_ref.endswith(":P")}


# --- the checks ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GatewayLook:
    host: str
    port: int
    mode: str
    account: str
    server_time: datetime | None
    positions: Mapping[str, int]
    open_orders: int
    error: str = ""
    clock_moved_to: datetime | None = None


def _holdings(held: Mapping[str, int]) -> str:
    return ", ".join(f"{s} {q}" for s, q in sorted(held.items()))


def check_gateway(look: GatewayLook, *, needs_flat: bool) -> CheckResult:
    """The gateway answers, the account is resolved, and (to place orders) nothing is held or working."""
    where = f"{look.host}:{look.port} ({look.mode})"
    if look.error:
        return failed(CHECK_GATEWAY, f"{where}: {look.error}")
    if not look.account:
        return failed(CHECK_GATEWAY, f"{where}: the broker named no account")
    seen = f"account {look.account} at {where}"
    if look.server_time is not None:
        seen += f", broker time {to_hk(look.server_time):%Y-%m-%d %H:%M:%S} HKT"
    if look.clock_moved_to is not None:
        seen += f" (simulator clock moved to {to_hk(look.clock_moved_to):%Y-%m-%d %H:%M} for the rehearsal)"
    held = {s: q for s, q in look.positions.items() if q}
    if needs_flat and (held or look.open_orders):
        return failed(
            CHECK_GATEWAY,
            f"{seen}: holds {len(held)} position(s) ({_holdings(held)}) "
            f"and {look.open_orders} working order(s); the rehearsal places orders and needs a flat "
            "account with nothing working (rehearse on a fresh simulator, or flatten first)",
        )
    return passed(CHECK_GATEWAY, f"{seen}; {len(held)} position(s), {look.open_orders} working order(s)")


@dataclass(frozen=True)
class CycleRun:
    """One `catalyst cycle` as run by the rehearsal."""

    returncode: int
    run_id: str
    output: str
    brackets: tuple[PlannedBracket, ...] = ()
    dry_run: bool = False


def _tail(text: str, lines: int = 3) -> str:
    kept = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return " | ".join(kept[-lines:])


def check_cycle(run: CycleRun) -> CheckResult:
    """The papermill cycle ran, was archived, and every bracket it sent was proven at the broker."""
    name = f"{CHECK_CYCLE} (dry run: nothing sent)" if run.dry_run else CHECK_CYCLE
    if run.returncode != 0 or not run.run_id:
        return failed(name, f"`catalyst cycle` exited {run.returncode}: {_tail(run.output)}")
    by_status: dict[str, list[str]] = {}
    for b in run.brackets:
        by_status.setdefault(b.status, []).append(b.symbol)
    shown = ", ".join(f"{k}: {' '.join(sorted(v))}" for k, v in sorted(by_status.items())) or "no intents"
    if run.dry_run:
        return passed(name, f"run {run.run_id} archived; {shown}")
    proven = by_status.get("proven", [])
    unproven = [b for b in run.brackets if b.status in ("submitted", "failed", "not_proven")]
    if unproven:
        return failed(name, f"run {run.run_id}: {len(unproven)} bracket(s) not proven ({shown})")
    if not proven:
        return failed(
            name,
            f"run {run.run_id} sent no bracket ({shown}); the rest of the checklist needs one "
            "(try a wider --universe)",
        )
    return passed(name, f"run {run.run_id}: {len(proven)} bracket(s) sent and proven ({shown})")


def _price(value: Decimal | None) -> str:
    return "none" if value is None else f"{value.normalize():f}"


def _leg_problems(
    want_side: str,
    want_types: tuple[str, ...],
    qty: int,
    limit: Decimal | None,
    stop: Decimal | None,
    leg: BrokerOrder,
) -> list[str]:
    problems = []
    if leg.side != want_side:
        problems.append(f"side {leg.side} (want {want_side})")
    if leg.order_type not in want_types:
        problems.append(f"type {leg.order_type} (want {' or '.join(want_types)})")
    if leg.quantity != qty:
        problems.append(f"quantity {leg.quantity} (want {qty})")
    if limit is not None and leg.limit_price != limit:
        problems.append(f"limit {_price(leg.limit_price)} (want {_price(limit)})")
    if stop is not None and leg.stop_price != stop:
        problems.append(f"stop {_price(leg.stop_price)} (want {_price(stop)})")
    return problems


def bracket_problems(b: PlannedBracket, view: BrokerView) -> list[str]:
    """What is wrong with one bracket at the broker (empty: parent, target and stop as decided)."""
    problems: list[str] = []
    refs = {code: f"{b.intent_id}:{code}" for code in ("P", "TP", "SL")}
    parents = view.legs(refs["P"])
    parent_fills = [f for f in view.fills if f.order_ref == refs["P"]]
    parent_perm = parent_id = 0
    if len(parents) > 1:
        problems.append(f"{len(parents)} entry orders with orderRef {refs['P']}")
    if parents:
        p = parents[0]
        parent_perm, parent_id = p.perm_id, p.order_id
        problems += [f"entry {x}" for x in _leg_problems(b.side, ("LMT",), b.quantity, b.entry, None, p)]
    elif parent_fills:
        f0 = parent_fills[0]
        parent_perm, parent_id = f0.perm_id, f0.order_id
        filled = sum(f.quantity for f in parent_fills)
        if any(f.side != b.side for f in parent_fills):
            problems.append(f"entry filled on the wrong side (want {b.side})")
        if filled != b.quantity:
            problems.append(f"entry filled {filled} (want {b.quantity})")
        worse = [
            f.price for f in parent_fills if (f.price > b.entry if b.side == "BUY" else f.price < b.entry)
        ]
        if worse:
            problems.append(f"entry filled at {_price(worse[0])}, beyond its limit {_price(b.entry)}")
    else:
        problems.append(f"no entry {refs['P']} at the broker (neither working nor filled)")
    children = {}
    for code, types, limit, stop in (
        ("TP", ("LMT",), b.target, None),
        ("SL", ("STP", "STP LMT"), None, b.stop),
    ):
        legs = view.legs(refs[code])
        name = "target" if code == "TP" else "stop"
        if len(legs) != 1:
            problems.append(f"{len(legs)} {name} orders with orderRef {refs[code]} (want 1)")
            continue
        leg = legs[0]
        children[code] = leg
        problems += [f"{name} {x}" for x in _leg_problems(b.exit_side, types, b.quantity, limit, stop, leg)]
        linked = (leg.parent_perm_id and leg.parent_perm_id == parent_perm) or (
            leg.parent_id and leg.parent_id == parent_id
        )
        if not linked:
            problems.append(
                f"{name} is not a child of the entry (parent {leg.parent_id or leg.parent_perm_id})"
            )
    if len(children) == 2:
        groups = {leg.oca_group for leg in children.values()}
        if "" in groups or len(groups) != 1:
            problems.append(f"target and stop are not one OCA group ({', '.join(sorted(groups)) or 'none'})")
    return problems


def check_structure(brackets: Sequence[PlannedBracket], view: BrokerView, *, source: str) -> CheckResult:
    """Each proven bracket, read back independently: parent, target and stop as decided, linked, OCA."""
    proven = [b for b in brackets if b.status == "proven"]
    if not proven:
        return failed(CHECK_STRUCTURE, "no proven bracket to verify (the cycle check did not pass)")
    bad: list[str] = []
    good: list[str] = []
    for b in proven:
        problems = bracket_problems(b, view)
        if problems:
            bad.append(f"{b.symbol} ({b.intent_id}): {'; '.join(problems)}")
        else:
            sl = view.legs(f"{b.intent_id}:SL")[0]
            good.append(
                f"{b.symbol} {b.side} {b.quantity} entry {_price(b.entry)} / target {_price(b.target)} / "
                f"stop {sl.order_type} {_price(b.stop)}, children linked, OCA {sl.oca_group}"
            )
    if bad:
        return failed(CHECK_STRUCTURE, f"read from {source}: " + " | ".join(bad))
    return passed(CHECK_STRUCTURE, f"read from {source}: " + " | ".join(good))


@dataclass(frozen=True)
class StopTrial:
    """The price moved past a bracket's stop, and what the broker showed afterwards."""

    symbol: str
    stop: Decimal
    moved_to: Decimal | None
    position_before: int
    position_after: int
    stop_status: str
    stop_filled: int
    stop_fill_price: Decimal | None = None
    target_status: str = ""
    waited_seconds: float = 0.0
    error: str = ""


def check_stop(trial: StopTrial) -> CheckResult:
    """The stop leg filled and the position is flat or smaller."""
    head = f"{trial.symbol}: stop {_price(trial.stop)}"
    if trial.error:
        return failed(CHECK_STOP, f"{head}: {trial.error}")
    seen = (
        f"{head}, price moved to {_price(trial.moved_to)}; stop leg {trial.stop_status or 'not seen'} "
        f"{trial.stop_filled}"
        + (f" @ {_price(trial.stop_fill_price)}" if trial.stop_fill_price is not None else "")
        + f", position {trial.position_before} -> {trial.position_after}"
        + (f", target {trial.target_status}" if trial.target_status else "")
        + f" (after {trial.waited_seconds:.0f} s)"
    )
    reduced = abs(trial.position_after) < abs(trial.position_before)
    if trial.stop_status == "Filled" and trial.stop_filled > 0 and reduced:
        return passed(CHECK_STOP, seen)
    return failed(CHECK_STOP, seen)


@dataclass(frozen=True)
class BreakerTrial:
    """The monitor run with a tiny loss limit, then one more cycle."""

    halted: bool
    halt_reason: str
    monitor_output: str
    cycle: CycleRun | None
    new_entries: tuple[str, ...] = ()
    halted_refusals: int = 0
    waited_seconds: float = 0.0
    monitor_exit: int | None = None  # the monitor ended by itself, with this code
    recorded_account: str = ""  # the account the trip was recorded under
    account: str = ""  # the broker's account (the one the cycle trades)
    tripped_at: datetime | None = None  # the trip's timestamp in the ledger
    broker_time: datetime | None = None  # the broker's clock when the next cycle ran
    halt_until: datetime | None = None
    halted_at_broker_time: bool = True  # the ledger's risk state, judged at the broker's time


def _why_not_halted(trial: BreakerTrial) -> str:
    """Why a recorded trip may not halt the cycle: another account, or a halt already over."""
    if trial.recorded_account != trial.account:
        return (
            f"; the trip is recorded under account {trial.recorded_account or '(empty)'!r} while the "
            f"cycle trades {trial.account!r}"
        )
    if not trial.halted_at_broker_time and trial.tripped_at and trial.broker_time and trial.halt_until:
        return (
            f"; the trip is stamped {to_hk(trial.tripped_at):%Y-%m-%d %H:%M} HKT, so at the broker's time "
            f"{to_hk(trial.broker_time):%Y-%m-%d %H:%M} HKT its halt (until "
            f"{to_hk(trial.halt_until):%Y-%m-%d %H:%M}) reads as over: the trip is stamped with another "
            "clock than the one the cycle judges it by"
        )
    return ""


def check_breaker(trial: BreakerTrial) -> CheckResult:
    """The breaker tripped, and the next cycle sent no new entry because of the halt."""
    if not trial.halted and trial.monitor_exit is not None:
        return failed(
            CHECK_BREAKER,
            f"the monitor exited by itself (code {trial.monitor_exit}) without tripping the breaker: "
            f"{_tail(trial.monitor_output) or 'no output'}",
        )
    if not trial.halted:
        return failed(
            CHECK_BREAKER,
            f"the monitor (tiny daily loss limit) did not trip the breaker within "
            f"{trial.waited_seconds:.0f} s: {_tail(trial.monitor_output) or 'no output'}",
        )
    tripped = f"breaker tripped ({trial.halt_reason})"
    cycle = trial.cycle
    if cycle is None:
        return failed(CHECK_BREAKER, f"{tripped}; the next cycle did not run")
    if trial.new_entries:
        return failed(
            CHECK_BREAKER,
            f"{tripped}; the next cycle (run {cycle.run_id or '?'}, exit {cycle.returncode}) sent "
            f"{len(trial.new_entries)} new entr{'y' if len(trial.new_entries) == 1 else 'ies'} while "
            f"halted: {', '.join(sorted(trial.new_entries))}{_why_not_halted(trial)}",
        )
    said_halted = "halt" in cycle.output.lower()
    if not trial.halted_refusals and not said_halted:
        return failed(
            CHECK_BREAKER,
            f"{tripped}; the next cycle (exit {cycle.returncode}) sent nothing but did not say it was "
            f"halted, so the refusal is not proven{_why_not_halted(trial)}: {_tail(cycle.output)}",
        )
    how = (
        f"{trial.halted_refusals} entr{'y' if trial.halted_refusals == 1 else 'ies'} refused as halted"
        if trial.halted_refusals
        else "refused: halted"
    )
    return passed(
        CHECK_BREAKER,
        f"{tripped}; next cycle (run {cycle.run_id or '-'}, exit {cycle.returncode}): {how}, 0 new entries",
    )


@dataclass(frozen=True)
class RerunTrial:
    """A cycle killed with SIGKILL after it sent, and its rerun."""

    sent_before_kill: tuple[str, ...]  # orderRefs the broker showed when the kill was sent
    killed_returncode: int | None
    crashed_output: str
    rerun: CycleRun | None
    killed_processes: int = 1  # the cycle and what ran below it (the notebook's kernel)
    crash_how: str = ""  # how it died, for the evidence
    entries_per_symbol: Mapping[str, int] = field(default_factory=dict)  # new entry legs since the start
    unknown_to_ledger: tuple[str, ...] = ()  # broker orderRefs of the crash that the ledger lacks
    adopted_by_rerun: tuple[str, ...] = ()  # intents the rerun's submitter adopted
    unlinked: tuple[str, ...] = ()  # ledger order rows of the crash with no intent link
    left_open: tuple[str, ...] = ()  # intents of the crash still 'submitted'/'approved' after the rerun
    crashed: tuple[PlannedBracket, ...] = ()  # the dead run's intents whose legs reached the broker
    rerun_decisions: tuple[PlannedBracket, ...] = ()  # every intent the rerun recorded


def _intents(refs: Iterable[str]) -> list[str]:
    return sorted({r.rpartition(":")[0] for r in refs})


def adoption_problems(trial: RerunTrial) -> list[str]:
    """Each intent of the dead run that the rerun did not adopt, and what the rerun did instead.

    Adopting means the rerun, deciding the same thing, arrives at the same intent id and takes over
    the legs already at the broker (issue 10, item 4). A new id for the same decision that only the
    pre-trade duplicate check stops is the old failure, not adoption.
    """
    adopted = set(trial.adopted_by_rerun) | {b.intent_id for b in trial.rerun_decisions}
    problems = []
    for c in trial.crashed:
        if c.intent_id in adopted:
            continue
        again = [b for b in trial.rerun_decisions if (b.symbol, b.side) == (c.symbol, c.side)]
        if again:
            shown = ", ".join(f"{b.intent_id} ({b.status})" for b in again)
            problems.append(
                f"the rerun decided {c.symbol} {c.side} again as {shown}, not as the dead run's "
                f"{c.intent_id}: it did not adopt the legs at the broker"
            )
        else:
            problems.append(f"the rerun did not decide {c.symbol} {c.side} again, so it adopted nothing")
    return problems


def check_rerun(trial: RerunTrial) -> CheckResult:
    """After the crash and the rerun: the rerun adopted what the dead run sent, one entry per symbol,
    every order of the crash on record and no intent of the dead run left open."""
    if trial.sent_before_kill and trial.killed_returncode == 0:
        return failed(
            CHECK_RERUN,
            "the cycle finished normally (exit 0) before it could be killed, so nothing crashed: "
            f"{_tail(trial.crashed_output)}",
        )
    if not trial.sent_before_kill:
        return failed(
            CHECK_RERUN,
            f"the cycle sent nothing before it ended (exit {trial.killed_returncode}); nothing to crash: "
            f"{_tail(trial.crashed_output)}",
        )
    crashed = _intents(trial.sent_before_kill)
    sent = len(trial.sent_before_kill)
    how = trial.crash_how or f"SIGKILL to the cycle and its kernel ({trial.killed_processes} processes)"
    head = f"{how} after it sent {sent} leg(s) ({', '.join(crashed)})"
    rerun = trial.rerun
    if rerun is None or not rerun.run_id:
        shown = _tail(rerun.output) if rerun is not None else "did not run"
        return failed(CHECK_RERUN, f"{head}; the rerun failed: {shown}")
    problems = []
    doubled = {s: n for s, n in trial.entries_per_symbol.items() if n > 1}
    if doubled:
        problems.append("duplicate entries: " + ", ".join(f"{s} x{n}" for s, n in sorted(doubled.items())))
    if trial.unknown_to_ledger:
        problems.append(
            f"{len(trial.unknown_to_ledger)} broker order(s) of the crash missing from the ledger "
            f"after the rerun: {', '.join(sorted(trial.unknown_to_ledger))}"
        )
    if trial.unlinked:
        problems.append(f"ledger rows not linked to their intent: {', '.join(sorted(trial.unlinked))}")
    if trial.left_open:
        problems.append(
            f"intent(s) of the dead run still open in the ledger: {', '.join(sorted(trial.left_open))}"
        )
    problems += adoption_problems(trial)
    if problems:
        return failed(
            CHECK_RERUN, f"{head}; rerun {rerun.run_id} (exit {rerun.returncode}): " + "; ".join(problems)
        )
    adopted = ", ".join(c.intent_id for c in trial.crashed)
    return passed(
        CHECK_RERUN,
        f"{head}; rerun {rerun.run_id} (exit {rerun.returncode}) adopted {adopted}; one entry per "
        "symbol, every order of the crash in the ledger",
    )
