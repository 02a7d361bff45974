"""The bad inputs of issue 10, finding 8, re-tried over the real command line: one list, one runner.

Each :class:`BadInput` is what a trader could type or leave lying around (bad arguments, damaged or
misplaced files, bad settings, bad notebook parameters, bad gateway control input). The test module
(``test_bad_inputs.py``) runs every one as a ``catalyst`` subprocess in a project folder of its own
and asserts that it is refused: a non-zero exit, no traceback, a message naming what was wrong, and
nothing silently done (no run folder, no damaged file rewritten, no gateway started). The table
script (``bad_inputs_table.py``) runs the same list and prints the markdown table of the closing note.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

#: A trading morning on the simulated gateway's clock (the cycle's market phase checks pass).
SIM_CLOCK = "2026-11-24T10:00:00+08:00"
SIM_ACCOUNT = "DU0000001"
NOBODY = 65534
LEDGER = Path("state") / "ledger.duckdb"
#: In a case's arguments: the shared gateway's state folder (its control channel is found there).
GATEWAY_STATE = "{gateway_state}"

Setup = Callable[[Path], None]


def _nothing(project: Path) -> None:
    return None


@dataclass(frozen=True)
class BadInput:
    """One bad input, what it must be refused with, and what must be left as it was."""

    id: str
    args: tuple[str, ...]
    #: A regular expression the output must match: it names what was wrong.
    expect: str
    setup: Setup = _nothing
    #: Environment variables (on top of the project's).
    env: Mapping[str, str] = field(default_factory=dict)
    #: Needs the shared simulated gateway (connects before it meets the bad input).
    gateway: bool = False
    #: Run as an unprivileged user (permission cases; root reads everything).
    as_nobody: bool = False
    #: Files (relative to the project) that must be byte-identical afterwards: nothing was rewritten.
    unchanged: tuple[str, ...] = ()
    #: What a trader would call the input, for the table (default: the command line).
    label: str = ""

    def describe(self) -> str:
        return self.label or "catalyst " + " ".join(self.args)


# -- damage done to a project before the command runs ----------------------------------------------


def make_ledger(path: Path) -> None:
    """A valid, migrated ledger."""
    from catalyst.ledger import Ledger

    path.parent.mkdir(parents=True, exist_ok=True)
    Ledger(path).tables()


_TEMPLATE: dict[str, bytes] = {}


def _template_ledger() -> bytes:
    if "ledger" not in _TEMPLATE:
        with tempfile.TemporaryDirectory() as tmp:
            make_ledger(Path(tmp) / "ledger.duckdb")
            _TEMPLATE["ledger"] = (Path(tmp) / "ledger.duckdb").read_bytes()
    return _TEMPLATE["ledger"]


def good_ledger(project: Path) -> None:
    (project / "state").mkdir(parents=True, exist_ok=True)
    (project / LEDGER).write_bytes(_template_ledger())


def garbage_ledger(project: Path) -> None:
    (project / "state").mkdir(parents=True, exist_ok=True)
    (project / LEDGER).write_bytes(random.Random(8).randbytes(12_288))


def truncated_ledger(project: Path) -> None:
    data = _template_ledger()
    (project / "state").mkdir(parents=True, exist_ok=True)
    (project / LEDGER).write_bytes(data[: len(data) // 3])


def empty_ledger(project: Path) -> None:
    (project / "state").mkdir(parents=True, exist_ok=True)
    (project / LEDGER).write_bytes(b"")


def ledger_is_a_folder(project: Path) -> None:
    (project / LEDGER).mkdir(parents=True)


def lock_is_a_folder(project: Path) -> None:
    good_ledger(project)
    (project / "state" / "ledger.duckdb.lock").mkdir()


def unreadable_ledger(project: Path) -> None:
    good_ledger(project)
    (project / LEDGER).chmod(0)


def read_only_state(project: Path) -> None:
    (project / "state").mkdir()
    (project / "state").chmod(0o555)


def state_is_a_file(project: Path) -> None:
    (project / "state").write_text("not a folder\n")


def runs_is_a_file(project: Path) -> None:
    good_ledger(project)
    (project / "runs").write_text("not a folder\n")


def read_only_runs(project: Path) -> None:
    good_ledger(project)
    (project / "runs").mkdir()
    (project / "runs").chmod(0o555)


def _recorded_run(project: Path, run_id: str = "20261124-093012-cycle-3fa9c1", status: str = "ok") -> str:
    from catalyst.ledger import Ledger

    good_ledger(project)
    day = f"{run_id[:4]}-{run_id[4:6]}-{run_id[6:8]}"
    folder = project / "runs" / day / run_id[9:]
    Ledger(project / LEDGER).upsert(
        "runs",
        {
            "run_id": run_id,
            "kind": "cycle",
            "mode": "sim",
            "started_at": datetime(2026, 11, 24, 1, 30, 12, tzinfo=UTC),
            "status": status,
            "run_dir": str(folder),
        },
    )
    return run_id


def emptied_runs(project: Path) -> None:
    """The ledger records a run; the archive folder is empty (someone emptied runs/)."""
    _recorded_run(project)
    (project / "runs").mkdir(exist_ok=True)


def stray_folder_in_runs(project: Path) -> None:
    good_ledger(project)
    (project / "runs" / "2026-11-24" / "copy of a run").mkdir(parents=True)


def unsealed_run(project: Path) -> None:
    """What a SIGKILLed run leaves: a folder with a log, no manifest."""
    run_id = _recorded_run(project, status="running")
    folder = project / "runs" / "2026-11-24" / "093012-cycle-3fa9c1"
    folder.mkdir(parents=True)
    (folder / "events.jsonl").write_text('{"event": "run.started"}\n')
    assert run_id


def sealed_run(project: Path) -> None:
    from catalyst.runs.archive_chain import seal_run
    from catalyst.runs.folder import folder_for

    run_id = _recorded_run(project)
    folder = folder_for(project / "runs", run_id)
    folder.path.mkdir(parents=True)
    folder.events.write_text('{"event": "run.started"}\n')
    seal_run(
        project / "runs", folder, mode="sim", status="ok", started_at="s", finished_at="f", parameters={}
    )


def _settings_file(text: str) -> Setup:
    def write(project: Path) -> None:
        good_ledger(project)
        (project / "catalyst.toml").write_text(text)

    return write


def bad_csv(project: Path) -> None:
    (project / "bars.csv").write_text("this,is,not\na,bar,file\n")


# -- the list -----------------------------------------------------------------------------------------

_LEDGER_DAMAGE: tuple[tuple[str, Setup, str], ...] = (
    ("garbage", garbage_ledger, r"ledger\.duckdb.*not a valid DuckDB database file"),
    ("truncated", truncated_ledger, r"cannot open the ledger .*ledger\.duckdb"),
    ("empty", empty_ledger, r"ledger\.duckdb.*not a valid DuckDB database file"),
    ("a folder", ledger_is_a_folder, r"ledger\.duckdb.*[Ii]s a directory"),
)
_WHAT_TO_DO = r".*what to do: "


def _ledger_cases() -> list[BadInput]:
    commands: tuple[tuple[str, tuple[str, ...], bool], ...] = (
        ("risk-status", ("risk", "status"), False),
        ("risk-reset", ("risk", "reset", "--reason", "new day"), False),
        ("risk-unlock", ("risk", "unlock", "700", "--reason", "checked"), False),
        ("broker-sync", ("broker", "sync"), True),
        ("monitor", ("monitor",), True),
        ("cycle", ("cycle", "--no-progress"), False),
        ("runs-verify", ("runs", "verify"), False),
        ("reconcile", ("reconcile", "--no-progress"), False),
        ("review", ("review", "--no-progress"), False),
        ("broker-audit", ("broker", "audit"), True),
    )
    out = []
    for kind, setup, message in _LEDGER_DAMAGE:
        for name, args, gateway in commands:
            if kind != "garbage" and name in ("reconcile", "review", "broker-audit"):
                continue  # the path through the code of `cycle` and `broker sync`: garbage is enough
            if kind in ("empty", "a folder") and name not in ("risk-status", "cycle", "monitor"):
                continue  # the same path through the code as garbage: one command each is enough
            out.append(
                BadInput(
                    id=f"{name}-ledger-{kind.replace(' ', '-')}",
                    args=args,
                    expect=message + _WHAT_TO_DO,
                    setup=setup,
                    gateway=gateway,
                    unchanged=(str(LEDGER),) if kind != "a folder" else (),
                    label=f"`catalyst {' '.join(args)}` with the ledger {kind}",
                )
            )
    return out


CASES: tuple[BadInput, ...] = (
    *_ledger_cases(),
    # -- files and folders in the way, or not writable ------------------------------------------------
    BadInput(
        "risk-status-ledger-unreadable",
        ("risk", "status"),
        r"ledger\.duckdb.*Permission denied.*what to do: .*owner and mode",
        unreadable_ledger,
        as_nobody=True,
        label="`catalyst risk status` with the ledger unreadable (mode 000)",
    ),
    BadInput(
        "cycle-ledger-unreadable",
        ("cycle", "--no-progress"),
        r"ledger\.duckdb.*Permission denied.*what to do: .*owner and mode",
        unreadable_ledger,
        as_nobody=True,
        label="`catalyst cycle` with the ledger unreadable (mode 000)",
    ),
    BadInput(
        "risk-status-lock-a-folder",
        ("risk", "status"),
        r"cannot use .*ledger\.duckdb\.lock.*folder where Catalyst needs a file",
        lock_is_a_folder,
        label="`catalyst risk status` with the ledger's lock file a folder",
    ),
    BadInput(
        "risk-status-state-a-file",
        ("risk", "status"),
        r"cannot use .*state: .*a file is in the way where Catalyst needs a folder",
        state_is_a_file,
        label="`catalyst risk status` with state/ a file",
    ),
    BadInput(
        "cycle-state-a-file",
        ("cycle", "--no-progress"),
        r"cannot use the ledger .*state",
        state_is_a_file,
        label="`catalyst cycle` with state/ a file",
    ),
    BadInput(
        "monitor-state-a-file",
        ("monitor",),
        r"cannot use .*state.*: .*(file is in the way|a file where Catalyst needs a folder)",
        state_is_a_file,
        gateway=True,
        label="`catalyst monitor` with state/ a file",
    ),
    BadInput(
        "cycle-state-read-only",
        ("cycle", "--no-progress"),
        r"ledger.*Permission denied",
        read_only_state,
        as_nobody=True,
        label="`catalyst cycle` with state/ not writable",
    ),
    BadInput(
        "risk-reset-state-read-only",
        ("risk", "reset", "--reason", "x"),
        r"ledger.*Permission denied",
        read_only_state,
        as_nobody=True,
        label="`catalyst risk reset` with state/ not writable",
    ),
    BadInput(
        "runs-list-runs-a-file",
        ("runs", "list"),
        r"archive folder .*runs is a file, not a folder",
        runs_is_a_file,
        label="`catalyst runs list` with runs/ a file",
    ),
    BadInput(
        "runs-verify-runs-a-file",
        ("runs", "verify"),
        r"archive folder .*runs is a file, not a folder",
        runs_is_a_file,
        label="`catalyst runs verify` with runs/ a file",
    ),
    BadInput(
        "cycle-runs-a-file",
        ("cycle", "--no-progress"),
        r"archive folder .*runs is a file, not a folder",
        runs_is_a_file,
        label="`catalyst cycle` with runs/ a file",
    ),
    BadInput(
        "review-runs-read-only",
        ("review", "--no-progress"),
        r"cannot write the archive folder .*runs: Permission denied",
        read_only_runs,
        as_nobody=True,
        label="`catalyst review` with runs/ not writable",
    ),
    # -- the archive against the ledger ------------------------------------------------------------
    BadInput(
        "runs-verify-emptied",
        ("runs", "verify"),
        r"MISSING .*the ledger records cycle run 20261124-093012-cycle-3fa9c1",
        emptied_runs,
        label="`catalyst runs verify` on an emptied runs/ (the ledger lists a run)",
    ),
    BadInput(
        "runs-verify-stray-folder",
        ("runs", "verify"),
        r"UNEXPECTED 2026-11-24/copy of a run",
        stray_folder_in_runs,
        label="`catalyst runs verify` with a folder of an unexpected name in runs/",
    ),
    BadInput(
        "runs-verify-unsealed",
        ("runs", "verify"),
        r"UNSEALED .*catalyst runs seal 20261124-093012-cycle-3fa9c1 --reason",
        unsealed_run,
        label="`catalyst runs verify` with a crashed (unsealed) run",
    ),
    BadInput(
        "runs-show-unknown",
        ("runs", "show", "nosuchrun"),
        r"no run matches 'nosuchrun'",
        good_ledger,
    ),
    BadInput(
        "runs-seal-unknown",
        ("runs", "seal", "nosuchrun", "--reason", "x"),
        r"no run matches 'nosuchrun'",
        good_ledger,
    ),
    BadInput(
        "runs-seal-sealed",
        ("runs", "seal", "3fa9c1", "--reason", "x"),
        r"sealed already \(status ok\)",
        sealed_run,
        unchanged=("runs/2026-11-24/093012-cycle-3fa9c1/manifest.json", "runs/chain_head.json"),
        label="`catalyst runs seal` of a run that is sealed",
    ),
    BadInput(
        "runs-seal-no-reason",
        ("runs", "seal", "3fa9c1", "--reason", " "),
        r"--reason must say why",
        unsealed_run,
        label="`catalyst runs seal RUN --reason ' '`",
    ),
    BadInput(
        "runs-seal-reason-missing", ("runs", "seal", "3fa9c1"), r"Missing option '--reason'", unsealed_run
    ),
    # -- settings ----------------------------------------------------------------------------------
    BadInput(
        "config-check-garbage-toml",
        ("config", "check"),
        r"catalyst\.toml",
        _settings_file("this is [ not toml\n"),
        label="`catalyst config check` with a catalyst.toml that is not TOML",
    ),
    BadInput(
        "risk-status-garbage-toml",
        ("risk", "status"),
        r"catalyst\.toml",
        _settings_file("this is [ not toml\n"),
        label="`catalyst risk status` with a catalyst.toml that is not TOML",
    ),
    BadInput(
        "broker-check-garbage-toml",
        ("broker", "check"),
        r"catalyst\.toml",
        _settings_file("this is [ not toml\n"),
        label="`catalyst broker check` with a catalyst.toml that is not TOML",
    ),
    BadInput(
        "cycle-unknown-setting",
        ("cycle", "--no-progress"),
        r"risk\.max_postions",
        _settings_file("[risk]\nmax_postions = 3\n"),
        label="`catalyst cycle` with a misspelt setting (risk.max_postions)",
    ),
    BadInput(
        "config-show-mistyped-setting",
        ("config", "show"),
        r"broker\.port",
        _settings_file('[broker]\nport = "four thousand"\n'),
        label='`catalyst config show` with broker.port = "four thousand"',
    ),
    BadInput("config-check-no-such-file", ("config", "check", "--config", "nosuch.toml"), r"nosuch\.toml"),
    BadInput(
        "market-bad-mode-env",
        ("market", "snapshot", "--symbols", "700"),
        r"(?i)mode",
        env={"CATALYST_MODE": "margin"},
        label="`catalyst market snapshot` with CATALYST_MODE=margin",
    ),
    BadInput(
        "risk-status-unknown-env",
        ("risk", "status"),
        r"CATALYST_RISK__MAX_POSTIONS",
        good_ledger,
        env={"CATALYST_RISK__MAX_POSTIONS": "3"},
        label="`catalyst risk status` with CATALYST_RISK__MAX_POSTIONS=3 (misspelt)",
    ),
    # -- notebook parameters -----------------------------------------------------------------------
    BadInput(
        "cycle-universe-99999",
        ("cycle", "--no-progress", "-p", "universe", "99999"),
        r"universe: stock 99999 is not in Catalyst's universe",
        good_ledger,
    ),
    BadInput(
        "cycle-universe-700-lookback-abc",
        ("cycle", "--no-progress", "-p", "universe", "700", "-p", "lookback_days", "abc"),
        r"parameter lookback_days takes a whole number \(its default is 20\), got 'abc'",
        good_ledger,
        label='`catalyst cycle -p universe 700 -p lookback_days abc` (700 is taken as the text "700")',
    ),
    BadInput(
        "cycle-lookback-abc",
        ("cycle", "--no-progress", "-p", "lookback_days", "abc"),
        r"lookback_days takes a whole number",
        good_ledger,
    ),
    BadInput(
        "cycle-lookback-0",
        ("cycle", "--no-progress", "-p", "lookback_days", "0"),
        r"lookback_days must be 1\.\.365, got 0",
        good_ledger,
    ),
    BadInput(
        "cycle-dry-run-maybe",
        ("cycle", "--no-progress", "-p", "dry_run", "maybe"),
        r"dry_run takes true or false",
        good_ledger,
    ),
    BadInput(
        "cycle-unknown-parameter",
        ("cycle", "--no-progress", "-p", "dryrun", "true"),
        r"has no parameter 'dryrun'; its parameters: dry_run",
        good_ledger,
    ),
    BadInput(
        "cycle-unknown-strategy",
        ("cycle", "--no-progress", "-p", "strategy", "nosuch"),
        r"no strategy named 'nosuch'",
        good_ledger,
    ),
    BadInput(
        "cycle-unknown-strategy-param",
        ("cycle", "--no-progress", "-p", "strategy_params", '{"min_gap": 1}'),
        r"unknown parameter.*min_gap",
        good_ledger,
    ),
    BadInput(
        "cycle-unknown-limit",
        ("cycle", "--no-progress", "-p", "limit_overrides", '{"max_position": 1}'),
        r"unknown limit override.*max_position",
        good_ledger,
    ),
    BadInput(
        "cycle-limits-not-object",
        ("cycle", "--no-progress", "-p", "limit_overrides", "3"),
        r"limit_overrides takes a JSON object",
        good_ledger,
    ),
    BadInput(
        "cycle-mode-parameter",
        ("cycle", "--no-progress", "-p", "mode", "live"),
        r"'mode' is set by the runner \(use --mode",
        good_ledger,
    ),
    BadInput(
        "cycle-secret-parameter",
        ("cycle", "--no-progress", "-p", "api_key", "x"),
        r"has no parameter 'api_key'",
        good_ledger,
    ),
    BadInput(
        "cycle-parameter-twice",
        ("cycle", "--no-progress", "-p", "universe", "700", "-p", "universe", "5"),
        r"parameter 'universe' is given twice",
        good_ledger,
    ),
    BadInput(
        "cycle-dangling-p",
        ("cycle", "--no-progress", "-p", "universe"),
        r"-p needs a NAME and a VALUE",
        good_ledger,
    ),
    BadInput(
        "cycle-stray-argument",
        ("cycle", "--no-progress", "700"),
        r"unexpected argument '700'",
        good_ledger,
    ),
    BadInput(
        "cycle-bad-mode",
        ("cycle", "--no-progress", "--mode", "margin"),
        r"--mode must be one of sim, paper, live, got 'margin'",
        good_ledger,
    ),
    BadInput(
        "cycle-live-not-gated",
        ("cycle", "--no-progress", "--mode", "live"),
        r"live trading refused by the go-live gate",
        good_ledger,
    ),
    BadInput(
        "review-bad-day",
        ("review", "--no-progress", "-p", "day", "2026-13-01"),
        r"day must be YYYY-MM-DD, got '2026-13-01'",
        good_ledger,
    ),
    BadInput(
        "review-days-0",
        ("review", "--no-progress", "-p", "days", "0"),
        r"days must be at least 1, got 0",
        good_ledger,
    ),
    BadInput(
        "research-bad-source",
        ("research", "--no-progress", "-p", "data_source", "yahoo"),
        r"data_source must be one of sim, cache, file, broker, got 'yahoo'",
        good_ledger,
    ),
    BadInput(
        "research-bad-date",
        ("research", "--no-progress", "-p", "start", "2025-02-30"),
        r"start must be YYYY-MM-DD, got '2025-02-30'",
        good_ledger,
    ),
    BadInput(
        "research-compare-set-the-strategy-lacks",
        ("research", "--no-progress", "-p", "compare", '[{"stop_atr": 1.0}, {"holding_days": 3}]'),
        r"compare set \{'holding_days': 3\}: .*holding_days",
        good_ledger,
    ),
    BadInput(
        "research-grid-not-lists",
        ("research", "--no-progress", "-p", "grid", '{"stop_atr": 1.5}'),
        r"grid\['stop_atr'\] must be a non-empty list of values, got 1.5",
        good_ledger,
    ),
    BadInput(
        "research-unknown-symbol",
        ("research", "--no-progress", "-p", "symbols", "700,12345"),
        r"12345",
        good_ledger,
    ),
    # -- other commands' arguments -----------------------------------------------------------------
    BadInput(
        "monitor-sync-interval",
        ("monitor", "--sync-interval", "120"),
        r"--sync-interval must be at most 60",
        good_ledger,
    ),
    BadInput(
        "monitor-reconcile-with",
        ("monitor", "--reconcile-with", "sometimes"),
        r"--reconcile-with must be one of direct, notebook, off",
        good_ledger,
        gateway=True,
    ),
    BadInput(
        "schedule-run-due",
        ("schedule", "--run-due", "lunch"),
        r"--run-due takes one of .*got 'lunch'",
        good_ledger,
    ),
    BadInput(
        "schedule-cycle-times",
        ("schedule", "--cycle-times", "25:00", "--print-crontab"),
        r"25:00",
        good_ledger,
    ),
    BadInput(
        "broker-check-nothing-listening",
        ("broker", "check"),
        r"nothing is listening at 127\.0\.0\.1:\d+",
        good_ledger,
        label="`catalyst broker check` with no gateway at the configured port",
    ),
    BadInput(
        "market-bad-time",
        ("market", "snapshot", "--at", "yesterday"),
        r"'yesterday' is not an ISO date-time",
    ),
    BadInput(
        "market-unknown-symbol",
        ("market", "snapshot", "--symbols", "99999"),
        r"99999",
    ),
    BadInput("bars-import-missing-file", ("bars", "import", "nosuch.csv"), r"nosuch\.csv"),
    BadInput("bars-import-not-bars", ("bars", "import", "bars.csv"), r"bars\.csv", bad_csv),
    # -- gateway control input ---------------------------------------------------------------------
    BadInput(
        "gateway-fault-unknown",
        ("gateway", "fault", "earthquake", "on"),
        r"unknown fault 'earthquake'; known faults:",
    ),
    BadInput(
        "gateway-fault-switch",
        ("gateway", "fault", "pacing", "maybe"),
        r"the switch must be 'on' or 'off', got 'maybe'",
    ),
    BadInput(
        "gateway-fault-param",
        ("gateway", "fault", "latency", "on", "--param", "ms"),
        r"--param 'ms' is not k=v",
    ),
    BadInput(
        "gateway-fault-not-running",
        ("gateway", "fault", "latency", "on", "--state", "state/sim"),
        r"state/sim",
        label="`catalyst gateway fault latency on` with no gateway running",
    ),
    BadInput(
        "gateway-start-bad-fault",
        ("gateway", "start", "--faults", "earthquake"),
        r"earthquake",
    ),
    BadInput(
        "gateway-start-bad-behaviour",
        ("gateway", "start", "--behaviour", "nonsense"),
        r"nonsense",
    ),
    BadInput(
        "gateway-move-bad-pct",
        ("gateway", "move", "700", "--pct", "lots", "--state", GATEWAY_STATE),
        r"lots",
        gateway=True,
    ),
    BadInput(
        "gateway-move-unknown-symbol",
        ("gateway", "move", "99999", "--pct", "-5", "--state", GATEWAY_STATE),
        r"99999",
        gateway=True,
    ),
    BadInput(
        "gateway-clock-bad-duration",
        ("gateway", "clock", "--advance", "soon", "--state", GATEWAY_STATE),
        r"soon",
        gateway=True,
    ),
)


# -- running one -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    #: What the command did that it must not have (a run folder, a rewritten file, a gateway started).
    side_effects: tuple[str, ...] = ()

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def has_traceback(self) -> bool:
        return "Traceback" in self.output

    def first_line(self) -> str:
        """The first line of the refusal: an ``error:`` line if there is one, else the first line that
        is neither a log line, click's usage banner nor box drawing; a line ending in ``:`` takes the
        next one along."""
        lines = [ln.strip(" │╭╮╰╯─\t").strip() for ln in (self.stderr + "\n" + self.stdout).splitlines()]
        lines = [ln for ln in lines if ln and ln != "Error"]
        skip = ("Usage:", "Try '", "20", "{", "Make sure API port")
        candidates = [i for i, ln in enumerate(lines) if ln.lower().startswith("error")]
        candidates += [i for i, ln in enumerate(lines) if not ln.startswith(skip)]
        if not candidates:
            return ""
        i = candidates[0]
        line = lines[i]
        if line.endswith(":") and i + 1 < len(lines):
            line = f"{line} {lines[i + 1]}"
        return line


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def catalyst_script() -> Path:
    return Path(sys.executable).with_name("catalyst")


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _run_folders(project: Path) -> set[str]:
    runs = project / "runs"
    if not runs.is_dir():
        return set()
    return {str(p.relative_to(runs)) for p in runs.glob("*/*") if p.is_dir()}


def _chown(project: Path, uid: int) -> None:
    for root, dirs, files in os.walk(project):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(root, name), uid, uid)
    os.lchown(project, uid, uid)


def _stop_autostarted_gateway(project: Path) -> str | None:
    """A command that started a simulated gateway of its own (it must not) is stopped and named."""
    state = project / "state" / "sim"
    if not (state / "gateway.pid").exists():
        return None
    try:
        pid = int((state / "gateway.pid").read_text().strip())
        os.kill(pid, 15)
    except (OSError, ValueError):
        pass
    return "started a simulated gateway of its own"


@dataclass(frozen=True)
class SharedGateway:
    port: int
    state: Path


def run_case(case: BadInput, project: Path, *, gateway: SharedGateway | None, client_id: int) -> Outcome:
    """Prepare ``project`` (an empty folder), run the command there as a trader would, report."""
    project.chmod(0o755)
    case.setup(project)
    if case.gateway and gateway is None:
        raise ValueError(f"{case.id} needs the shared gateway")
    port = gateway.port if case.gateway and gateway else free_port()
    state = str(gateway.state) if gateway else "state/sim"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALYST_")}
    env.update(
        {
            "CATALYST_SIM__PORT": str(port),
            "CATALYST_BROKER__CLIENT_ID": str(client_id),
            "CATALYST_BROKER__CONNECT_TIMEOUT": "5",
            "CATALYST_BROKER__REQUEST_TIMEOUT": "10",
            "HOME": str(project),
            **case.env,
        }
    )
    before = {name: _digest(project / name) for name in case.unchanged}
    folders_before = _run_folders(project)
    command = [str(catalyst_script()), *(a.replace(GATEWAY_STATE, state) for a in case.args)]
    if case.as_nobody and os.geteuid() == 0:
        mode_000 = [p for p in project.rglob("*") if p.stat().st_mode & 0o777 in (0, 0o555)]
        _chown(project, NOBODY)
        for p in mode_000:  # keep the damage: chown does not change modes, but say so explicitly
            p.chmod(p.stat().st_mode & 0o777)
        command = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=project, env=env, capture_output=True, text=True, timeout=180, check=False
        )
        rc, out, err = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as exc:
        partial = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr or ""
        rc, out, err = -9, "", f"TIMED OUT after {exc.timeout}s\n{partial}"
    seconds = time.monotonic() - started
    effects = []
    for name, digest in before.items():
        if _digest(project / name) != digest:
            effects.append(f"rewrote {name}")
    new_folders = _run_folders(project) - folders_before
    if new_folders:
        effects.append(f"left run folder(s) {', '.join(sorted(new_folders))}")
    started_gateway = _stop_autostarted_gateway(project)
    if started_gateway:
        effects.append(started_gateway)
    return Outcome(rc, out, err, seconds, tuple(effects))


def problems_of(case: BadInput, outcome: Outcome) -> list[str]:
    """Why ``outcome`` is not a proper refusal of ``case`` (empty: it is)."""
    found = []
    if outcome.returncode == 0:
        found.append("exit code 0: the bad input was accepted")
    if outcome.has_traceback:
        found.append("a traceback")
    if not re.search(case.expect, outcome.output, re.DOTALL):
        found.append(f"no message matching {case.expect!r}")
    found.extend(outcome.side_effects)
    return found


def start_shared_gateway(base: Path) -> tuple[SharedGateway, Callable[[], None]]:
    """The one simulated gateway the cases that connect share, and its stopper."""
    from catalyst.sim.gateway.launcher import start_gateway

    state = base / "shared-gateway"
    handle = start_gateway(state, clock=SIM_CLOCK, accounts=(SIM_ACCOUNT,))

    def stop() -> None:
        handle.stop()

    return SharedGateway(handle.port, state), stop


def clean(project: Path) -> None:
    for root, dirs, _files in os.walk(project):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o755)
    shutil.rmtree(project, ignore_errors=True)
