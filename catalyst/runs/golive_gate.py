"""The go-live gate: ``--mode live`` needs a live account and enough clean paper trading on record.

A paper-trading day counts when the archive holds, for that Hong Kong date, sealed and intact
(verifying) paper runs with at least one trading cycle and at least one reconciliation run, every
cycle finished with all its brackets proven, and every reconciliation of the day (the reconcile runs'
and the cycles' startup ones) clean. The facts come from each run's manifest summary, computed from
its trade log when it was sealed, so they are covered by the hash chain.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from catalyst.runs.archive import list_runs, verify_archive
from catalyst.runs.folder import day_of
from catalyst.runs.summary import (
    brackets_unproven,
    reconciliations_clean,
    reconciliations_unclean,
)
from catalyst.runs.errors import GoLiveRefusedError


@dataclass(frozen=True)
class RunFacts:
    day: date
    relative: str
    kind: str
    mode: str
    status: str
    intact: bool
    summary: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class GateDecision:
    passed: bool
    qualifying_days: list[date]
    missing: list[str]


def is_live_account(account: str | None) -> bool:
    """IB live account ids start with ``U``; paper ones with ``DU``."""
    return account is not None and len(account) > 1 and account[0] == "U" and account[1:].isdigit()


def _day_problems(runs: list[RunFacts]) -> list[str]:
    problems: list[str] = []
    cycles = [r for r in runs if r.kind == "cycle"]
    recs = [r for r in runs if r.kind == "reconcile"]
    if not cycles:
        problems.append("no trading cycle")
    if not recs:
        problems.append("no reconciliation")
    for r in runs:
        if not r.intact:
            problems.append(f"{r.relative} does not verify")
        elif r.kind in ("cycle", "reconcile") and r.status != "ok":
            problems.append(f"{r.relative} failed")
    for r in cycles:
        if r.intact and brackets_unproven(r.summary):
            problems.append(f"{r.relative} has {brackets_unproven(r.summary)} unproven bracket(s)")
    for r in runs:  # every reconciliation of the day counts, the cycles' startup ones too
        if r.intact and reconciliations_unclean(r.summary):
            problems.append(f"{r.relative} reconciliation not clean")
    for r in recs:
        if r.intact and r.status == "ok" and not reconciliations_clean(r.summary):
            problems.append(f"{r.relative} recorded no clean reconciliation")
    return problems


def evaluate_gate(account: str | None, runs: list[RunFacts], required_days: int) -> GateDecision:
    """Pure decision from the account id and the archive's facts."""
    missing: list[str] = []
    if not is_live_account(account):
        missing.append(
            f"account {account or '(none)'} is not a live account: set broker.account "
            "(or CATALYST_IB_ACCOUNT) to your live id, which starts with U (paper ids start with DU)"
        )
    by_day: dict[date, list[RunFacts]] = defaultdict(list)
    for r in runs:
        if r.mode == "paper":
            by_day[r.day].append(r)
    good: list[date] = []
    bad: list[str] = []
    for day in sorted(by_day):
        problems = _day_problems(by_day[day])
        if problems:
            bad.append(f"{day}: " + "; ".join(problems))
        else:
            good.append(day)
    if len(good) < required_days:
        msg = (
            f"the archive holds {len(good)} clean paper-trading day(s); live needs {required_days} "
            "(settings golive.paper_days): run `catalyst cycle --mode paper` and `catalyst reconcile "
            "--mode paper` on more trading days"
        )
        if bad:
            msg += ". Paper days that do not count: " + " | ".join(bad[-5:])
        missing.append(msg)
    return GateDecision(passed=not missing, qualifying_days=good, missing=missing)


def archive_facts(runs_dir: Path) -> list[RunFacts]:
    """The facts of every sealed run, with whether its artifacts still verify."""
    report = verify_archive(runs_dir)
    broken = report.broken_runs()
    out: list[RunFacts] = []
    for r in list_runs(runs_dir):
        if r.manifest is None:
            continue
        out.append(
            RunFacts(
                day=day_of(r.path),
                relative=r.relative,
                kind=r.manifest.kind,
                mode=r.manifest.mode,
                status=r.manifest.status,
                intact=r.relative not in broken,
                summary=dict(r.manifest.summary),
            )
        )
    return out


def require_golive(account: str | None, runs_dir: Path, required_days: int) -> GateDecision:
    """Raise :class:`GoLiveRefusedError` naming what is missing, or return the passing decision."""
    decision = evaluate_gate(account, archive_facts(runs_dir), required_days)
    if not decision.passed:
        raise GoLiveRefusedError(decision.missing)
    return decision
