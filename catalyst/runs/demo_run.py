"""``catalyst demo`` (what ``make demo`` runs): the whole loop on the simulated gateway.

Start the simulated gateway if none listens, run a trading cycle, let the simulated market trade
(advancing its clock through the control channel, and saying so), run a reconciliation (which syncs
order status and fills) and a review, then print the run folders and the HTML review's path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime
from typing import Any

from catalyst.cycle.outcome import ExitCode, most_urgent
from catalyst.market import HK_TZ, accepts_new_orders, minutes_to_close, next_session_open
from catalyst.runs.gateway_autostart import SIM_STATE_SUBDIR, ensure_gateway
from catalyst.runs.notebook_runner import RunResult, describe_failure
from catalyst.runs.env import ENV_MODE
from catalyst.runs.launcher import launch_run

#: Looser than the strategy's defaults so a newcomer sees orders on an ordinary simulated day.
DEMO_STRATEGY_PARAMS = {"min_gap_pct": 0.0, "min_rvol": 0.5, "max_candidates": 3}
DEMO_LIMITS = {"max_positions": 5}
#: How far the demo lets the simulated market run after the cycle, in steps (seconds).
ADVANCE_STEPS = (60, 120, 300, 600)


def _control(settings: Any) -> Any | None:
    from catalyst.sim.gateway.control import GatewayControl, GatewayControlError

    try:
        return GatewayControl(settings.state_dir / SIM_STATE_SUBDIR)
    except GatewayControlError:
        return None


def trading_time(clock: datetime) -> datetime | None:
    """None when ``clock`` leaves at least 30 minutes of continuous trading; else a better time
    (10:00 HK on the next trading day) to move the simulated clock to."""
    left = minutes_to_close(clock)
    if accepts_new_orders(clock) and left is not None and left >= 30:
        return None
    target = next_session_open(clock).astimezone(HK_TZ)
    return target.replace(hour=10, minute=0, second=0, microsecond=0)


def _report(kind: str, result: RunResult, say: Callable[[str], None]) -> bool:
    outcome = result.outcome
    if result.ok and outcome.ok:
        say(f"  {kind:9} ok      {result.folder.path}")
        return True
    if not result.ok:
        assert result.manifest.failure is not None
        failure = describe_failure(result.manifest.failure)
        say(f"  {kind:9} FAILED  {result.folder.path}\n            {failure}")
    else:
        say(f"  {kind:9} {outcome.code.name:7} {result.folder.path}\n            {outcome.line()}")
    return False


def run_demo(say: Callable[[str], None] = print) -> int:
    from catalyst.config import load_settings

    os.environ[ENV_MODE] = "sim"
    settings = load_settings()
    ensure_gateway(
        mode="sim",
        host=settings.broker.host,
        port=settings.broker_port,
        state_dir=settings.state_dir,
        account=settings.broker.account,
        seed=settings.sim.seed,
        speed=settings.sim.speed,
        say=say,
    )
    control = _control(settings)
    if control is not None:
        clock = datetime.fromisoformat(str(control.status()["clock"]))
        better = trading_time(clock)
        if better is not None:
            control.set_clock(better.isoformat())
            say(
                f"The simulated clock was at {clock:%Y-%m-%d %H:%M} HKT, outside continuous trading; "
                f"moved it to {better:%Y-%m-%d %H:%M} HKT through the gateway's control channel."
            )
    params = [
        ("strategy_params", json.dumps(DEMO_STRATEGY_PARAMS)),
        ("limit_overrides", json.dumps(DEMO_LIMITS)),
    ]
    say("1/3 Trading cycle (demo strategy settings: " + json.dumps(DEMO_STRATEGY_PARAMS) + ")")
    cycle = launch_run("cycle", mode="sim", pairs=params, say=say)
    if control is not None:
        before = len(control.executions())
        advanced = 0
        for step in ADVANCE_STEPS:
            control.advance(step)
            advanced += step
            if len(control.executions()) > before:
                break
        fills = len(control.executions()) - before
        say(
            f"Advanced the simulated clock by {advanced // 60} min through the control channel so the market "
            f"could trade: {fills} new execution(s) at the simulated exchange."
        )
    say("2/3 Reconciliation and order-status sync")
    recon = launch_run("reconcile", mode="sim", say=say)
    say("3/3 Review of the day")
    # the archive dates runs by the wall clock, the simulated market by its own clock: review both days
    today = datetime.now(HK_TZ).date()
    sim_day = today
    if control is not None:
        sim_day = datetime.fromisoformat(str(control.status()["clock"])).astimezone(HK_TZ).date()
    first, last = min(today, sim_day), max(today, sim_day)
    review_params = [("day", json.dumps(str(last))), ("days", str((last - first).days + 1))]
    review = launch_run("review", mode="sim", pairs=review_params, say=say)
    proven = int((cycle.manifest.summary.get("intents") or {}).get("proven", 0))
    say(f"\nThe cycle sent {proven} bracket(s), each proven at the broker leg by leg (see its report).")
    say("Run folders (each sealed into the archive's hash chain; `catalyst runs verify` checks them):")
    ok = all([_report("cycle", cycle, say), _report("reconcile", recon, say), _report("review", review, say)])
    say(f"\nThe review as HTML (opens offline): {review.folder.html}")
    say(f"The trading cycle as HTML: {cycle.folder.html}")
    say("The simulated gateway keeps running for the next run; `catalyst gateway stop` ends it.")
    return 0 if ok else int(most_urgent([r.outcome.code for r in (cycle, recon, review)]) or ExitCode.CRASH)
