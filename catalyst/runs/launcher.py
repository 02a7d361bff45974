"""What ``catalyst cycle | reconcile | review | research`` do, end to end, as one function.

Settings and the mode → the go-live gate (live only) → parameters typed by the notebook's defaults
and their values checked → the archive folder and the ledger checked (a refusal so far leaves no run
folder and contacts no gateway) → the gateway (started in sim mode when none listens; only checked
in paper and live) → the papermill run into a sealed run folder (:mod:`catalyst.runs.notebook_runner`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from catalyst.config import load_settings
from catalyst.config.settings_loader import CONFIG_ENV
from catalyst.runs.gateway_autostart import ensure_gateway
from catalyst.runs.golive_gate import require_golive
from catalyst.runs.notebook_runner import (
    NOTEBOOKS,
    RunResult,
    default_notebooks_dir,
    execute_run,
    ledger_hooks,
)
from catalyst.runs.parameter_checks import check_values
from catalyst.runs.env import ENV_MODE
from catalyst.runs.folder import check_kind
from catalyst.runs.parameters import check_parameters, notebook_parameters, parse_pairs
from catalyst.runs.preflight import preflight
from catalyst.runs.errors import BadRunParameterError

MODES = ("sim", "paper", "live")
#: The settings' project root, pinned for the kernel (relative paths resolve against it).
ROOT_ENV = "CATALYST_PATHS__ROOT"
#: Kinds that talk to the broker, so the gateway must be there before the notebook starts.
NEEDS_GATEWAY = frozenset({"cycle", "reconcile", "research"})


def settings_for_mode(mode: str | None) -> Any:
    """Settings with ``mode`` applied (through ``CATALYST_MODE``, so the kernel sees the same)."""
    if mode is not None:
        if mode not in MODES:
            raise BadRunParameterError(f"--mode must be one of {', '.join(MODES)}, got {mode!r}")
        os.environ[ENV_MODE] = mode
    return load_settings()


def configure_run_logging(settings: Any, ledger: Any) -> Callable[[Path | None], None]:
    from catalyst.log import configure_logging

    secrets = settings.secret_values()
    # During a run the structured log goes to events.jsonl and the ledger; the terminal shows the
    # progress bar and the outcome instead of hundreds of JSON lines.
    quiet = open(os.devnull, "w")  # noqa: SIM115 - held by the log handler for the process's life

    def configure(run_dir: Path | None) -> None:
        configure_logging(run_dir=run_dir, secrets=secrets, ledger=ledger if run_dir else None, stream=quiet)

    return configure


def launch_run(
    kind: str,
    *,
    mode: str | None = None,
    pairs: Sequence[Sequence[str]] = (),
    notebook: Path | None = None,
    progress: bool = True,
    say: Callable[[str], None] = print,
) -> RunResult:
    """Run ``kind``'s notebook and archive it; the result says whether the notebook failed."""
    from catalyst.ledger import Ledger

    check_kind(kind)
    base = load_settings()
    wanted = mode or base.mode
    if wanted not in MODES:
        raise BadRunParameterError(f"--mode must be one of {', '.join(MODES)}, got {wanted!r}")
    if wanted == "live":
        require_golive(base.broker.account or None, base.runs_dir, base.golive.paper_days)
    settings = settings_for_mode(wanted)
    source = notebook or default_notebooks_dir() / NOTEBOOKS[kind]
    if not source.exists():
        raise BadRunParameterError(f"notebook {source} is missing; `catalyst {kind}` needs it")
    defaults = notebook_parameters(source)
    given = parse_pairs(strategy_from_settings(kind, pairs, settings))
    parameters = check_parameters(given, defaults, settings.secret_values(), notebook=source.name)
    check_values(kind, parameters, defaults, settings, notebook=source.name)
    ledger = Ledger(settings.ledger_path)
    preflight(settings.runs_dir, ledger)  # refused here: no folder, no gateway, nothing sent
    if kind in NEEDS_GATEWAY or (kind == "review" and wanted == "sim"):  # the review replays on sim bars
        ensure_gateway(
            mode=wanted,
            host=settings.broker.host,
            port=settings.broker_port,
            state_dir=settings.state_dir,
            account=settings.broker.account,
            seed=settings.sim.seed,
            speed=settings.sim.speed,
            say=say,
        )
    say(f"Running {source.name} ({wanted} mode) with papermill...")
    return execute_run(
        kind,
        mode=wanted,
        parameters=parameters,
        runs_dir=settings.runs_dir,
        hooks=ledger_hooks(ledger, configure_run_logging(settings, ledger)),
        notebook=source,
        account=settings.broker.account or None,
        progress=progress,
        kernel_env=kernel_settings_env(settings),
        strategy=strategy_of_run(kind, parameters),
    )


def strategy_from_settings(kind: str, pairs: Sequence[Sequence[str]], settings: Any) -> list[Sequence[str]]:
    """``pairs`` with the cycle's strategy from ``research.cycle_strategy`` (and its parameters) when
    ``-p strategy`` is not given, so `catalyst schedule` trades the trader's own strategy."""
    chosen = settings.research.cycle_strategy
    names = {p[0] for p in pairs if len(p) == 2}
    if kind != "cycle" or not chosen or "strategy" in names:
        return list(pairs)
    extra: list[Sequence[str]] = [("strategy", chosen)]
    if "strategy_params" not in names:
        extra.append(("strategy_params", json.dumps(settings.research.cycle_strategy_params)))
    return [*extra, *pairs]


#: The parameter holding a run kind's strategy overrides (kinds not named run no strategy).
STRATEGY_PARAMETERS: dict[str, str] = {"cycle": "strategy_params", "research": "params"}


def strategy_of_run(kind: str, parameters: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the manifest records of the run's strategy: its name, origin, every parameter (defaults
    and overrides) and the SHA-256 of its source files, read before the notebook starts."""
    key = STRATEGY_PARAMETERS.get(kind)
    if key is None or "strategy" not in parameters:
        return None
    from catalyst.research.strategy_registry import provenance

    return provenance(str(parameters["strategy"]), dict(parameters.get(key) or {}))


def kernel_settings_env(settings: Any) -> dict[str, str]:
    """What the notebook's kernel needs to load exactly these settings.

    The kernel starts in ``notebooks/``: without this, a relative ``state/`` would resolve there (a
    second ledger the run's trade log never sees) and ``./catalyst.toml`` would not be found (the
    kernel would trade on defaults).
    """
    env = {ROOT_ENV: str(settings.root.resolve())}
    if settings.config_file is not None:
        env[CONFIG_ENV] = str(Path(settings.config_file).resolve())
    return env
