"""A run's outcome, carried from the notebook's kernel to the command that exits with its code.

The cycle runs inside a papermill kernel, a separate process. Its last cell writes the cycle's
outcome (:class:`~catalyst.cycle.outcome.CycleOutcome`) to ``outcome.json`` in the run folder; the
runner reads it back, weighs it against the notebook's failure (if any) and the run's trade log (a
bracket left ``failed`` or ``submitted`` is unproven whatever the kernel managed to say), and
records the result in the manifest's summary, under the hash chain. The launcher exits with its code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import structlog

from catalyst.cycle.outcome import CycleOutcome, ExitCode, most_urgent
from catalyst.runs.manifest import Failure
from catalyst.runs.summary import brackets_unproven

log = structlog.get_logger(__name__)

OUTCOME_NAME = "outcome.json"

#: Exceptions a notebook may stop with that are refusals or bad settings, not crashes (matched by
#: class name: the kernel's exception reaches the runner as papermill's text).
REFUSAL_ERRORS: Mapping[str, ExitCode] = {
    "LeaseHeldError": ExitCode.REFUSED,
    "TradingHaltedError": ExitCode.HALTED,
    "TradingBlockedError": ExitCode.BLOCKED,
    "ConfigError": ExitCode.BAD_INPUT,
    "AlertConfigError": ExitCode.BAD_INPUT,
    # the account has no market data for a symbol: refused before anything was sized or sent
    "MarketDataNotSubscribedError": ExitCode.REFUSED,
    # the trader's own strategy raised, returned bad output or could not be loaded: nothing was sent
    "StrategyOutputError": ExitCode.BAD_INPUT,
    "StrategyLoadError": ExitCode.BAD_INPUT,
    "StrategyParamError": ExitCode.BAD_INPUT,
    "UnknownStrategyError": ExitCode.BAD_INPUT,
}


def write_outcome(run_dir: Path, outcome: CycleOutcome | Mapping[str, Any]) -> Path:
    """Write the kernel's outcome into the run folder (the last cell of the cycle notebook)."""
    data = outcome.to_dict() if isinstance(outcome, CycleOutcome) else dict(outcome)
    path = run_dir / OUTCOME_NAME
    path.write_text(json.dumps(data, sort_keys=True, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def read_outcome(run_dir: Path) -> CycleOutcome | None:
    """The outcome the kernel wrote, or ``None`` (not a cycle, or it never got that far)."""
    path = run_dir / OUTCOME_NAME
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.error("run.outcome_unreadable", path=str(path), error=str(exc))
        return CycleOutcome(ExitCode.CRASH, "failed", f"{path.name} is unreadable: {exc}")
    return CycleOutcome.from_dict(raw) if isinstance(raw, dict) else None


def settle_outcome(
    kernel: CycleOutcome | None, failure: Failure | None, summary: Mapping[str, Any]
) -> CycleOutcome:
    """The run's outcome: the most urgent of what the kernel said, how the notebook failed, and
    what the trade log shows."""
    candidates: list[CycleOutcome] = [kernel] if kernel is not None else []
    if failure is not None:
        code = REFUSAL_ERRORS.get(failure.ename, ExitCode.CRASH)
        candidates.append(CycleOutcome(code, "failed", f"{failure.ename}: {failure.evalue}"))
    unproven = brackets_unproven(dict(summary))
    if unproven and not any(c.code is ExitCode.UNPROVEN for c in candidates):
        candidates.append(
            CycleOutcome(
                ExitCode.UNPROVEN,
                "unproven",
                f"the trade log holds {unproven} bracket(s) sent but not proven at the broker",
            )
        )
    if not candidates:
        return CycleOutcome(ExitCode.OK, "ok", "the notebook ran to the end")
    code = most_urgent([c.code for c in candidates])
    return next(c for c in candidates if c.code is code)


def refusal_code(exc: BaseException) -> ExitCode:
    """The exit code of a run refused before its notebook started (bad input unless it is one of
    :data:`REFUSAL_ERRORS`)."""
    for cls in type(exc).__mro__:
        if cls.__name__ in REFUSAL_ERRORS:
            return REFUSAL_ERRORS[cls.__name__]
    return ExitCode.BAD_INPUT
