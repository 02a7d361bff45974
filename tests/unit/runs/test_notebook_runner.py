"""A papermill run lands in a sealed run folder, failing or not; the failing cell is named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from catalyst.ledger import Ledger
from catalyst.runs.archive import verify_archive
from catalyst.runs.notebook_runner import RunHooks, RunResult, describe_failure, execute_run, ledger_hooks

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("notebook_runner")]


def _notebook(path: Path, body: str) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('mode = "sim"\nrun_id = ""\nanswer = 1')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell(
            "import os, plotly.io as pio\npio.renderers.default = 'plotly_mimetype'\n"
            "open(os.path.join(os.environ['CATALYST_RUN_DIR'], 'events.jsonl'), 'a')"
            '.write(\'{"event": "kernel.hello"}\\n\')'
        ),
        nbformat.v4.new_code_cell(body),
    ]
    nb.metadata["kernelspec"] = {"name": "catalyst", "display_name": "Catalyst (.venv)", "language": "python"}
    nbformat.write(nb, str(path))
    return path


class Hooks:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.rows: list[dict[str, Any]] = []
        self.log_dirs: list[Path | None] = []

    def configure_log(self, run_dir: Path | None) -> None:
        self.log_dirs.append(run_dir)
        if run_dir is not None:
            with (run_dir / "events.jsonl").open("a") as fh:
                fh.write('{"event": "runner.log"}\n')

    def export(self, run_id: str, dest: Path) -> None:
        self.ledger.export_run(run_id, dest)

    def as_hooks(self) -> RunHooks:
        return RunHooks(
            configure_log=self.configure_log, record_run=self.record, export_trade_log=self.export
        )

    def record(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        ledger_hooks(self.ledger, self.configure_log).record_run(row)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunResult, RunResult, Hooks]:
    base = tmp_path_factory.mktemp("nbrun")
    runs_dir = base / "runs"
    hooks = Hooks(Ledger(base / "ledger.duckdb"))
    good = _notebook(
        base / "good.ipynb",
        "import plotly.express as px\nprint('answer', answer)\npx.bar(x=['a', 'b'], y=[answer, 2]).show()",
    )
    bad = _notebook(base / "bad.ipynb", "raise ValueError(f'broken {answer}')")
    ok = execute_run(
        "cycle",
        mode="sim",
        parameters={"answer": 41},
        runs_dir=runs_dir,
        hooks=hooks.as_hooks(),
        notebook=good,
        progress=False,
    )
    failed = execute_run(
        "reconcile",
        mode="sim",
        parameters={},
        runs_dir=runs_dir,
        hooks=hooks.as_hooks(),
        notebook=bad,
        progress=False,
    )
    return runs_dir, ok, failed, hooks


def test_a_run_folder_holds_notebook_log_trade_log_html_and_manifest(runs: Any) -> None:
    _, ok, _, _ = runs
    names = sorted(p.name for p in ok.folder.path.iterdir())
    assert names == ["cycle.html", "cycle.ipynb", "events.jsonl", "manifest.json", "trade_log.duckdb"]
    assert set(ok.manifest.artifacts) == {"cycle.html", "cycle.ipynb", "events.jsonl", "trade_log.duckdb"}


def test_parameters_and_run_id_are_injected_into_the_notebook(runs: Any) -> None:
    _, ok, _, _ = runs
    text = ok.folder.notebook.read_text()
    assert "answer 41" in text
    assert ok.manifest.parameters == {"answer": 41, "mode": "sim", "run_id": ok.folder.run_id}


def test_both_the_runner_and_the_kernel_log_into_events_jsonl(runs: Any) -> None:
    _, ok, _, _ = runs
    events = [json.loads(line)["event"] for line in ok.folder.events.read_text().splitlines()]
    assert events == ["runner.log", "kernel.hello"]


def test_the_html_report_embeds_its_plotly_figure(runs: Any) -> None:
    _, ok, _, _ = runs
    assert ok.figures == 1
    assert "Plotly.newPlot" in ok.folder.html.read_text()


def test_a_failing_notebook_is_archived_with_the_failing_cell_named(runs: Any) -> None:
    """In [4]: the execution count shown in the archived notebook (papermill injects a cell)."""
    _, _, failed, hooks = runs
    assert not failed.ok
    assert failed.manifest.failure is not None
    assert failed.manifest.failure.ename == "ValueError"
    assert (
        describe_failure(failed.manifest.failure)
        == "cell In [4] (`raise ValueError(f'broken {answer}')`) raised ValueError: broken 1"
    )
    assert failed.folder.html.exists() and failed.folder.notebook.exists()
    assert [r["status"] for r in hooks.rows if r["run_id"] == failed.folder.run_id] == ["running", "failed"]


def test_logging_is_detached_from_the_folder_before_it_is_sealed(runs: Any) -> None:
    _, _, _, hooks = runs
    assert hooks.log_dirs[1::2] == [None, None]


def test_both_runs_form_a_verifying_chain(runs: Any) -> None:
    runs_dir, ok, failed, _ = runs
    assert failed.manifest.previous is not None and failed.manifest.previous.sha256 == ok.manifest_sha256
    assert verify_archive(runs_dir).ok
