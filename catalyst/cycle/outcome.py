"""How a cycle ended, as the exit code cron, ``catalyst schedule`` and a shell see.

One table for every ``catalyst cycle | reconcile | review | research`` run: success, a crash, bad
input, and the three ways a cycle is refused before it sends anything, each with its own code, and
the one outcome that needs a person at once: a bracket that was not proven at the broker (its legs
were cancelled and any fill flattened by the broker module).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Protocol

import pandas as pd


class ExitCode(IntEnum):
    """The exit codes of ``catalyst cycle`` (and the other run commands)."""

    OK = 0
    CRASH = 1
    BAD_INPUT = 2
    REFUSED = 3
    HALTED = 4
    BLOCKED = 5
    UNPROVEN = 6

    @property
    def meaning(self) -> str:
        return _MEANING[self]

    @classmethod
    def known(cls, code: int) -> ExitCode | None:
        """The table's entry of a process's exit code, or ``None`` (a signal, a foreign code)."""
        return next((c for c in cls if int(c) == code), None)

    @classmethod
    def parse(cls, value: object) -> ExitCode:
        """The code of a recorded outcome (an int or a name); unknown values count as a crash."""
        if isinstance(value, str) and value.upper() in cls.__members__:
            return cls[value.upper()]
        try:
            return cls(int(str(value)))
        except ValueError:
            return cls.CRASH


_MEANING = {
    ExitCode.OK: "finished; every bracket it sent was proven at the broker (or none was sent)",
    ExitCode.CRASH: "a notebook cell raised (the run is archived, the cell named) or Catalyst crashed",
    ExitCode.BAD_INPUT: (
        "an unknown option or parameter, a bad value, unusable settings or files (no run), or a strategy "
        "that raised or returned bad output (the run is archived, the strategy named); nothing was sent"
    ),
    ExitCode.REFUSED: (
        "another trader holds the account (its lease, named in the message), or the account has no "
        "market data for a symbol (named, with the setting that helps); nothing was sent"
    ),
    ExitCode.HALTED: "the daily circuit breaker is tripped; no new entry was sent",
    ExitCode.BLOCKED: "the start-up reconciliation did not complete; no order was sent",
    ExitCode.UNPROVEN: (
        "a bracket was NOT proven at the broker: its legs were cancelled and any fill flattened; "
        "alerted; look at the account now"
    ),
}

#: Order of precedence when a run could claim several codes: the most urgent wins.
_URGENCY = (ExitCode.UNPROVEN, ExitCode.CRASH, ExitCode.BLOCKED, ExitCode.HALTED, ExitCode.REFUSED)


def most_urgent(codes: list[ExitCode]) -> ExitCode:
    """The code a run exits with when several apply."""
    for code in _URGENCY:
        if code in codes:
            return code
    return ExitCode.BAD_INPUT if ExitCode.BAD_INPUT in codes else ExitCode.OK


def exit_code_table() -> str:
    """The table for ``--help`` and the README: one line per code."""
    return "\n".join(f"{int(code)}  {code.name.lower():10} {code.meaning}" for code in ExitCode)


#: Report statuses of a cycle that sent nothing because something refused it.
_STATUS_CODES = {
    "strategy_failed": ExitCode.BAD_INPUT,  # the trader's strategy raised or returned bad output
    "blocked": ExitCode.BLOCKED,
    "halted": ExitCode.HALTED,
    "refused": ExitCode.REFUSED,
    "lease_held": ExitCode.REFUSED,
}
#: Outcomes of a sent bracket (``CycleReport.sent.outcome``) that make the cycle UNPROVEN.
UNPROVEN_OUTCOMES = frozenset({"not_proven", "flattened"})
#: Pre-trade refusal code of an entry refused because the breaker is tripped.
BREAKER_HALTED_CODE = "breaker_halted"


class ReportLike(Protocol):
    """The part of :class:`~catalyst.cycle.report.CycleReport` an outcome is read from."""

    @property
    def status(self) -> str: ...

    @property
    def message(self) -> str: ...

    @property
    def sent(self) -> pd.DataFrame: ...

    @property
    def refused(self) -> pd.DataFrame: ...

    @property
    def halted(self) -> bool: ...


@dataclass(frozen=True)
class CycleOutcome:
    """What the run's exit code will be, and why, as the kernel hands it to the launcher."""

    code: ExitCode
    status: str
    message: str
    proven: int = 0
    unproven: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.code is ExitCode.OK

    def line(self) -> str:
        """One line for the console: the outcome, its code and what it means."""
        return f"{self.status}: {self.message} (exit {int(self.code)}, {self.code.name.lower()})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "exit_code": int(self.code),
            "name": self.code.name.lower(),
            "status": self.status,
            "message": self.message,
            "proven": self.proven,
            "unproven": list(self.unproven),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> CycleOutcome:
        return cls(
            code=ExitCode.parse(raw.get("exit_code", raw.get("name", ExitCode.CRASH))),
            status=str(raw.get("status", "")),
            message=str(raw.get("message", "")),
            proven=int(raw.get("proven", 0) or 0),
            unproven=tuple(str(s) for s in raw.get("unproven", ()) or ()),
        )


def cycle_outcome(report: ReportLike) -> CycleOutcome:
    """The outcome of one cycle's report: unproven brackets first, then refusals, else OK."""
    sent = report.sent
    outcomes = sent["outcome"].astype(str) if "outcome" in sent.columns else pd.Series(dtype=str)
    unproven = (
        tuple(str(s) for s in sent.loc[outcomes.isin(UNPROVEN_OUTCOMES), "symbol"]) if len(sent) else ()
    )
    proven = int((outcomes == "proven").sum())
    codes = [ExitCode.UNPROVEN] if unproven else []
    if report.status in _STATUS_CODES:
        codes.append(_STATUS_CODES[report.status])
    refused_codes = set(report.refused["code"].astype(str)) if "code" in report.refused.columns else set()
    if report.halted or BREAKER_HALTED_CODE in refused_codes:
        codes.append(ExitCode.HALTED)
    return CycleOutcome(
        code=most_urgent(codes),
        status=report.status,
        message=report.message,
        proven=proven,
        unproven=unproven,
    )
