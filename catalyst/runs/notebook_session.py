"""The first cell of every notebook: settings, ledger, logging and display set up for one run.

Under ``catalyst cycle`` (papermill) the runner passes the run id and folder through
``CATALYST_RUN_ID`` / ``CATALYST_RUN_DIR``, so the kernel's structured log goes to the run's
``events.jsonl`` (and the ledger), tagged with the run id. Opened interactively in JupyterLab, or run
by nbmake, the notebook makes its own run id and logs to ``state/notebook-events.jsonl``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalyst.runs.env import ENV_MODE, ENV_RUN_DIR, ENV_RUN_ID
from catalyst.runs.folder import make_run_id

PLOTLY_MIME = "application/vnd.plotly.v1+json"
INTERACTIVE_LOG = "notebook-events.jsonl"


@dataclass
class NotebookSession:
    kind: str
    mode: str
    run_id: str
    run_dir: Path | None
    settings: Any
    ledger: Any

    def finish(self, outcome: Any = None) -> None:
        """Flush the structured log (and its ledger mirror) before the kernel exits. ``outcome`` (a
        cycle's :class:`~catalyst.cycle.outcome.CycleOutcome`) goes to the run folder, where the
        runner reads it: the command's exit code (see :mod:`catalyst.runs.outcome`)."""
        from catalyst.log import flush_logging

        if outcome is not None and self.run_dir is not None:
            from catalyst.runs.outcome import write_outcome

            write_outcome(self.run_dir, outcome)
        flush_logging()

    def show(self, *figures: Any) -> None:
        """Display plotly figures as ``application/vnd.plotly.v1+json`` (JupyterLab draws them; the
        HTML export embeds them). Not ``fig.show()``: plotly's renderer machinery imports nbformat and
        jsonschema, seconds of start-up in every kernel for nothing."""
        from IPython.display import display

        for fig in figures:
            spec = json.loads(fig.to_json())
            title = (spec.get("layout") or {}).get("title") or {}
            text = title.get("text", "") if isinstance(title, dict) else str(title)
            display({PLOTLY_MIME: spec, "text/plain": f"<plotly figure: {text}>"}, raw=True)

    def describe(self) -> str:
        where = f"run folder {self.run_dir}" if self.run_dir else "interactive (not archived)"
        account = self.settings.broker.account or "(gateway's first account)"
        return (
            f"{self.kind} run {self.run_id}, mode {self.mode}, account {account}, gateway "
            f"{self.settings.broker.host}:{self.settings.broker_port}; {where}"
        )


def start_notebook(kind: str, *, mode: str = "", run_id: str = "") -> NotebookSession:
    """Set up the kernel for a run. ``mode``/``run_id`` are the notebook's parameters (the runner
    injects both); empty values fall back to the environment, then to settings and a fresh id."""
    from catalyst.config import load_settings
    from catalyst.ledger import Ledger
    from catalyst.log import bind_run, configure_logging

    run_id = run_id or os.environ.get(ENV_RUN_ID, "") or make_run_id(kind, datetime.now(UTC))
    if mode:
        os.environ[ENV_MODE] = mode
    settings = load_settings()
    settings.apply_market_rules()  # the kernel prices on the same spread-table dates as the CLI
    mode = mode or settings.mode
    run_dir_text = os.environ.get(ENV_RUN_DIR, "")
    run_dir = Path(run_dir_text) if run_dir_text and os.environ.get(ENV_RUN_ID) == run_id else None
    ledger = Ledger(settings.ledger_path)
    json_file = None if run_dir else settings.state_dir / INTERACTIVE_LOG
    # The log goes to the file and the ledger only: a console handler's stderr would land in the
    # notebook's outputs (and so in the archive twice).
    quiet = open(os.devnull, "w")  # noqa: SIM115 - held by the handler for the kernel's life
    configure_logging(
        run_dir=run_dir,
        json_file=json_file,
        secrets=settings.secret_values(),
        ledger=ledger,
        console=False,
        stream=quiet,
    )
    bind_run(run_id, mode, kind=kind)
    import pandas as pd

    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_colwidth", 400)  # explanations and risk-event messages are read whole
    return NotebookSession(
        kind=kind, mode=mode, run_id=run_id, run_dir=run_dir, settings=settings, ledger=ledger
    )
