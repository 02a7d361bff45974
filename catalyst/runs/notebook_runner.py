"""Run one notebook with papermill into a sealed run folder of the archive.

The sequence: make the run folder; route the structured log (this process's and, through
``CATALYST_RUN_DIR``, the kernel's) to ``events.jsonl``; record the run in the ledger; execute the
notebook with papermill (progress bar on the terminal); export the HTML report (code cells hidden unless
``show_code``; plotly.js and the stylesheet shared in ``runs/assets/``); export the run's
ledger rows to ``trade_log.duckdb``; stop writing to the folder; seal it (manifest + hash chain).
A notebook that raises is archived the same way, its manifest naming the failing cell.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from catalyst.cycle.outcome import CycleOutcome
from catalyst.ledger.run_process import this_process
from catalyst.runs.archive_chain import seal_run
from catalyst.runs.html_export import export_html
from catalyst.runs.kernel_transport import IpcKernelManager
from catalyst.runs.manifest import Failure, Manifest, code_version
from catalyst.runs.env import ENV_MODE, ENV_RUN_DIR, ENV_RUN_ID
from catalyst.runs.folder import FolderClaim, RunFolder, check_kind, create_run_folder
from catalyst.runs.outcome import read_outcome, settle_outcome
from catalyst.runs.summary import summarize_trade_log
from catalyst.runs.shared_assets import SharedAssetChangedError

log = structlog.get_logger(__name__)

#: Notebook of each run kind, in ``notebooks/``.
NOTEBOOKS: dict[str, str] = {
    "cycle": "trading_cycle.ipynb",
    "reconcile": "reconcile.ipynb",
    "review": "review.ipynb",
    "research": "research.ipynb",
}

#: The kernel every headless run uses: ipykernel's native spec, which jupyter_client resolves to the
#: interpreter running papermill, so the kernel is always this very environment (a "catalyst"
#: kernelspec left in ~/.local by another checkout could point anywhere).
KERNEL_NAME = "python3"


def project_root() -> Path:
    return Path(__file__).resolve().parents[2]


def default_notebooks_dir() -> Path:
    return project_root() / "notebooks"


@dataclass(frozen=True)
class RunHooks:
    """The edges the runner calls, so it stays testable without the rest of the system."""

    #: route this process's structured log to ``events.jsonl`` of the folder (``None``: detach).
    configure_log: Callable[[Path | None], None]
    #: record/update the run's row in the ledger.
    record_run: Callable[[dict[str, Any]], None]
    #: write the run's ledger rows to the given ``trade_log.duckdb`` path.
    export_trade_log: Callable[[str, Path], None]


def ledger_hooks(ledger: Any, configure_log: Callable[[Path | None], None]) -> RunHooks:
    """Hooks writing the run's row to the ledger (table ``runs``) and exporting its rows."""
    return RunHooks(
        configure_log=configure_log,
        record_run=lambda row: ledger.upsert("runs", row),
        export_trade_log=lambda run_id, dest: ledger.export_run(run_id, dest),
    )


@dataclass(frozen=True)
class RunResult:
    folder: RunFolder
    manifest: Manifest
    manifest_sha256: str
    figures: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.manifest.status == "ok"

    @property
    def outcome(self) -> CycleOutcome:
        """How the run ended and the exit code its command returns (recorded in the manifest)."""
        recorded = self.manifest.summary.get("outcome")
        if isinstance(recorded, dict):
            return CycleOutcome.from_dict(recorded)
        return settle_outcome(None, self.manifest.failure, self.manifest.summary)


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set variables for the kernel (it inherits this process's environment), then restore."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _failure_of(exc: BaseException) -> Failure:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        first = next((ln for ln in str(exc.source).splitlines() if ln.strip()), "")
        return Failure(
            cell=exc.exec_count, ename=str(exc.ename), evalue=str(exc.evalue)[:2000], source=first[:200]
        )
    return Failure(cell=None, ename=type(exc).__name__, evalue=str(exc)[:2000])


def describe_failure(f: Failure) -> str:
    where = f"cell In [{f.cell}]" if f.cell is not None else "the notebook run"
    code = f" (`{f.source}`)" if f.source else ""
    return f"{where}{code} raised {f.ename}: {f.evalue}"


def _export_report(folder: RunFolder, runs_dir: Path, *, show_code: bool, notes: list[str]) -> int:
    """The HTML report, loading the archive's shared plotly.js and stylesheet; returns its figure
    count. A shared asset that was altered is never rewritten: the report embeds its own copy instead
    (and ``runs verify`` names the altered asset)."""
    try:
        try:
            return export_html(folder.notebook, folder.html, archive=runs_dir, show_code=show_code).figures
        except SharedAssetChangedError as exc:
            notes.append(f"{exc}; this run's report embeds its own copy")
            log.error("run.shared_asset_changed", run_id=folder.run_id, error=str(exc))
            return export_html(folder.notebook, folder.html, show_code=show_code).figures
    except Exception as exc:
        notes.append(f"HTML export failed: {type(exc).__name__}: {exc}")
        log.error("run.html_export_failed", run_id=folder.run_id, error=str(exc))
        return 0


def execute_run(
    kind: str,
    *,
    mode: str,
    parameters: dict[str, Any],
    runs_dir: Path,
    hooks: RunHooks,
    notebook: Path | None = None,
    account: str | None = None,
    progress: bool = True,
    kernel_name: str = KERNEL_NAME,
    execution_timeout: float | None = 1800,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    kernel_env: Mapping[str, str] | None = None,
    strategy: Mapping[str, Any] | None = None,
) -> RunResult:
    """Run ``kind``'s notebook into a new run folder and seal it. Never raises for a failing notebook:
    the result's manifest says ``failed`` and names the cell. Once the folder exists it is always
    sealed: a runner failure (ledger, disk) seals it as ``failed`` too, with the error. ``strategy``
    (name, parameters, SHA-256 of its source files) goes into the manifest's summary."""
    check_kind(kind)
    source = notebook or default_notebooks_dir() / NOTEBOOKS[kind]
    started = now()
    folder = create_run_folder(runs_dir, kind, started)
    claim = FolderClaim(folder.path)  # until sealed: `catalyst runs seal` refuses a live run
    injected = {**parameters, "mode": mode, "run_id": folder.run_id}
    notes: list[str] = []
    row = _run_row(folder, kind=kind, mode=mode, account=account, started=started, injected=injected)
    env = {**(kernel_env or {}), ENV_RUN_ID: folder.run_id, ENV_RUN_DIR: str(folder.path), ENV_MODE: mode}
    done = _attempt(
        source,
        folder,
        row,
        runs_dir=runs_dir,
        hooks=hooks,
        env=env,
        kernel_name=kernel_name,
        progress=progress,
        execution_timeout=execution_timeout,
        now=now,
        notes=notes,
    )
    manifest, sha = _seal(
        runs_dir,
        folder,
        mode=mode,
        started=started,
        finished=done.finished or now(),
        parameters=injected,
        failure=done.failure,
        strategy=strategy,
        notes=notes,
    )
    claim.release()
    if done.interrupted is not None:
        raise done.interrupted
    return RunResult(folder=folder, manifest=manifest, manifest_sha256=sha, figures=done.figures, notes=notes)


@dataclass
class _Attempt:
    """How far a run got before its folder is sealed: the notebook's (or the runner's) failure, the
    report's figure count, when it finished, and a Ctrl-C to raise again once the folder is sealed."""

    failure: Failure | None = None
    figures: int = 0
    finished: datetime | None = None
    interrupted: KeyboardInterrupt | None = None


def _attempt(
    source: Path,
    folder: RunFolder,
    row: dict[str, Any],
    *,
    runs_dir: Path,
    hooks: RunHooks,
    env: dict[str, str],
    kernel_name: str,
    progress: bool,
    execution_timeout: float | None,
    now: Callable[[], datetime],
    notes: list[str],
) -> _Attempt:
    """Log to the folder, record the run, execute the notebook, export the report and the trade log;
    whatever fails, the run's row ends ``failed`` and the folder stops being written to."""
    done = _Attempt()
    injected: dict[str, Any] = row["parameters"]
    try:
        hooks.configure_log(folder.path)
        log.info(
            "run.started",
            run_id=folder.run_id,
            kind=row["kind"],
            mode=row["mode"],
            notebook=str(source),
            run_dir=str(folder.path),
            parameters=injected,
        )
        hooks.record_run(row)
        with _environment(env):
            done.failure = _execute_notebook(
                source,
                folder,
                injected,
                kernel_name=kernel_name,
                progress=progress,
                execution_timeout=execution_timeout,
            )
        if folder.notebook.exists():
            done.figures = _export_report(
                folder, runs_dir, show_code=bool(injected.get("show_code")), notes=notes
            )
        status = "failed" if done.failure else "ok"
        done.finished = now()
        hooks.record_run({**row, "status": status, "finished_at": done.finished})
        log.info("run.finished", run_id=folder.run_id, status=status, figures=done.figures)
        hooks.export_trade_log(folder.run_id, folder.trade_log)
    except KeyboardInterrupt as exc:  # Ctrl-C: the folder is sealed (failed) first, then it goes on
        done.interrupted = exc
        done.failure = done.failure or Failure(cell=None, ename="KeyboardInterrupt", evalue="interrupted")
        done.finished = _record_failed(hooks, row, done.finished or now())
    except Exception as exc:  # the runner itself failed (ledger, disk): still sealed, as failed
        done.failure = done.failure or Failure(cell=None, ename=type(exc).__name__, evalue=str(exc)[:2000])
        notes.append(f"the run could not finish normally: {type(exc).__name__}: {exc}")
        log.error("run.runner_failed", run_id=folder.run_id, error=str(exc))
        done.finished = _record_failed(hooks, row, done.finished or now())
    finally:
        with contextlib.suppress(Exception):
            hooks.configure_log(None)  # nothing may write into the folder once it is hashed
    return done


def _run_row(
    folder: RunFolder,
    *,
    kind: str,
    mode: str,
    account: str | None,
    started: datetime,
    injected: dict[str, Any],
) -> dict[str, Any]:
    """The run's ``runs`` row while it runs."""
    return {
        "run_id": folder.run_id,
        "kind": kind,
        "mode": mode,
        "account": account,
        "started_at": started,
        "status": "running",
        "parameters": injected,
        "run_dir": str(folder.path),
        "code_version": code_version().describe,
        # the process running it, so reconciliation can close out a run whose process died
        **this_process().as_row(),
    }


def _execute_notebook(
    source: Path,
    folder: RunFolder,
    injected: dict[str, Any],
    *,
    kernel_name: str,
    progress: bool,
    execution_timeout: float | None,
) -> Failure | None:
    """Execute the notebook with papermill into the folder; the notebook's failure, if it raised."""
    import papermill

    try:
        papermill.execute_notebook(
            str(source),
            str(folder.notebook),
            parameters=injected,
            kernel_name=kernel_name,
            progress_bar=progress,
            log_output=False,
            cwd=str(source.parent),
            execution_timeout=execution_timeout,
            kernel_manager_class=IpcKernelManager,
        )
    except Exception as exc:  # the notebook's failure is a result, archived like any other
        failure = _failure_of(exc)
        log.error(
            "run.notebook_failed",
            run_id=folder.run_id,
            cell=failure.cell,
            ename=failure.ename,
            evalue=failure.evalue,
        )
        return failure
    return None


def _record_failed(hooks: RunHooks, row: dict[str, Any], finished: datetime) -> datetime:
    """Best effort: the run's row says ``failed`` (the folder is sealed whatever happens here)."""
    with contextlib.suppress(Exception):
        hooks.record_run({**row, "status": "failed", "finished_at": finished})
    return finished


def _seal(
    runs_dir: Path,
    folder: RunFolder,
    *,
    mode: str,
    started: datetime,
    finished: datetime,
    parameters: dict[str, Any],
    failure: Failure | None,
    strategy: Mapping[str, Any] | None,
    notes: list[str],
) -> tuple[Manifest, str]:
    """Summarise the trade log, settle the outcome, and seal the folder (manifest + hash chain)."""
    try:
        summary = summarize_trade_log(folder.trade_log)
    except Exception as exc:  # a half-written trade log must not keep the run from being sealed
        summary = {}
        notes.append(f"the trade log could not be summarised: {type(exc).__name__}: {exc}")
    outcome = settle_outcome(read_outcome(folder.path), failure, summary)
    manifest, sha = seal_run(
        runs_dir,
        folder,
        mode=mode,
        status="failed" if failure else "ok",
        started_at=started.isoformat(),
        finished_at=finished.isoformat(),
        parameters=parameters,
        failure=failure,
        summary={**summary, "outcome": outcome.to_dict(), **_strategy_summary(strategy)},
    )
    log.info("run.outcome", run_id=folder.run_id, **outcome.to_dict())
    return manifest, sha


def _strategy_summary(strategy: Mapping[str, Any] | None) -> dict[str, Any]:
    return {"strategy": dict(strategy)} if strategy else {}
