"""`catalyst cycle | review` archive sealed run folders: no secrets inside, verify catches any change,
a failing notebook is archived with its cell named and the command exits non-zero."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from notebook_project import SECRET_VALUES, Archived, SimProject
from typer.testing import CliRunner

from catalyst.cli.app import app
from catalyst.runs.archive import verify_archive

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.xdist_group("notebooks")]


def test_cycle_and_review_commands_succeed_and_print_their_run_folder(archived: Archived) -> None:
    for done in (archived.cycle, archived.review):
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Run folder:" in done.stdout


def test_a_run_folder_holds_notebook_trade_log_events_html_and_manifest(archived: Archived) -> None:
    folder = archived.folder("cycle")
    assert sorted(p.name for p in folder.iterdir()) == [
        "cycle.html",
        "cycle.ipynb",
        "events.jsonl",
        "manifest.json",
        "outcome.json",
        "trade_log.duckdb",
    ]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["artifacts"]) == {
        "cycle.html",
        "cycle.ipynb",
        "events.jsonl",
        "outcome.json",
        "trade_log.duckdb",
    }
    assert manifest["parameters"]["universe"] == "700,5,3988,2388,1211,1299"
    assert manifest["code_version"]["describe"] and manifest["package_versions"]["papermill"]


def test_the_cycles_outcome_is_in_its_manifest_and_matches_the_exit_code(archived: Archived) -> None:
    """The kernel's last cell writes the outcome; the runner seals it; the command exits with it."""
    manifest = json.loads((archived.folder("cycle") / "manifest.json").read_text())
    outcome = manifest["summary"]["outcome"]
    assert outcome["exit_code"] == archived.cycle.returncode == 0, outcome
    assert outcome["name"] == "ok" and outcome["status"] in {"sent", "nothing_to_send"}
    assert json.loads((archived.folder("cycle") / "outcome.json").read_text())["exit_code"] == 0


def test_the_kernel_writes_the_projects_ledger_so_the_trade_log_holds_the_cycle(archived: Archived) -> None:
    """The kernel runs in notebooks/; settings must still resolve to the project it was started for."""
    import duckdb

    with duckdb.connect(str(archived.folder("cycle") / "trade_log.duckdb"), read_only=True) as db:
        intents = db.execute("SELECT count(*) FROM intents").fetchone()
        reconciliations = db.execute("SELECT count(*) FROM reconciliations").fetchone()
    assert intents is not None and intents[0] > 0, "the cycle's intents are in its trade log"
    assert reconciliations is not None and reconciliations[0] == 1, "its start-up reconciliation too"
    notebooks = Path(__file__).resolve().parents[2] / "notebooks"
    assert not (notebooks / "state").exists(), "no second ledger beside the notebooks"


def test_the_kernel_logs_into_the_runs_events_file(archived: Archived) -> None:
    events = [
        json.loads(line) for line in (archived.folder("cycle") / "events.jsonl").read_text().splitlines()
    ]
    names = {e.get("event") for e in events}
    assert {"run.started", "cycle.phase", "cycle.finished"} <= names
    run_id = json.loads((archived.folder("cycle") / "manifest.json").read_text())["run_id"]
    assert all(e.get("run_id") == run_id for e in events if str(e.get("event", "")).startswith("cycle."))


def test_no_artifact_of_a_run_contains_a_secret(archived: Archived) -> None:
    leaks = []
    for folder in (archived.folder("cycle"), archived.folder("review")):
        for path in folder.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                leaks += [f"{path.name}: {s}" for s in SECRET_VALUES if s.encode() in data]
    assert leaks == []


def test_an_untouched_archive_verifies(archived: Archived) -> None:
    done = CliRunner().invoke(app, ["runs", "verify"], env=archived.env)
    assert done.exit_code == 0, done.output
    assert "chain intact" in done.output


@pytest.mark.parametrize(
    "artifact", ["cycle.ipynb", "trade_log.duckdb", "events.jsonl", "cycle.html", "manifest.json"]
)
def test_changing_one_byte_of_an_artifact_makes_verify_fail_and_name_it(
    archived: Archived, artifact: str, tmp_path: Path
) -> None:
    shutil.copytree(archived.runs_dir, tmp_path / "runs")
    folder = tmp_path / "runs" / archived.folder("cycle").relative_to(archived.runs_dir)
    data = bytearray((folder / artifact).read_bytes())
    data[len(data) // 3] ^= 0x20
    (folder / artifact).write_bytes(bytes(data))
    report = verify_archive(tmp_path / "runs")
    assert not report.ok
    assert f"{folder.parent.name}/{folder.name}/{artifact}" in {
        f"{p.run}/{p.artifact}" for p in report.problems
    }


def test_a_run_folder_is_under_a_megabyte_and_plotly_js_is_stored_once_for_the_archive(
    archived: Archived,
) -> None:
    for kind in ("cycle", "review"):
        folder = archived.folder(kind)
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        assert size < 1_000_000, f"the {kind} run folder holds {size} bytes"
    assets = sorted((archived.runs_dir / "assets").iterdir())
    assert len([a for a in assets if a.name.startswith("plotly-")]) == 1
    for kind in ("cycle", "review"):
        manifest = json.loads((archived.folder(kind) / "manifest.json").read_text())
        assert set(manifest["assets"]) == {f"assets/{a.name}" for a in assets}


def test_changing_one_byte_of_the_shared_plotly_js_makes_verify_fail_and_name_it(
    archived: Archived, tmp_path: Path
) -> None:
    shutil.copytree(archived.runs_dir, tmp_path / "runs")
    (plotly_js,) = (tmp_path / "runs" / "assets").glob("plotly-*.js")
    data = bytearray(plotly_js.read_bytes())
    data[len(data) // 2] ^= 0x01
    plotly_js.write_bytes(bytes(data))
    problems = verify_archive(tmp_path / "runs").problems
    assert [(p.run, p.artifact, p.kind) for p in problems] == [("assets", plotly_js.name, "changed")]
    for kind in ("cycle", "review"):
        assert archived.folder(kind).relative_to(archived.runs_dir).as_posix() in problems[0].message


def test_the_html_report_leaves_the_code_out_and_the_archived_notebook_keeps_it(archived: Archived) -> None:
    folder = archived.folder("review")
    assert "load_review(" in (folder / "review.ipynb").read_text()
    html = (folder / "review.html").read_text()
    assert "load_review(" not in html and "Open positions" in html
    assert "Waits for HKEX windows" in html  # the section runs on every review, waits or not


def test_the_reviews_open_positions_show_average_cost_and_unrealized_pnl_at_the_last_price(
    archived: Archived,
) -> None:
    """The cycle left positions open: the review marks them, so the day does not read as fees only."""
    nb = nbformat.read(str(archived.folder("review") / "review.ipynb"), as_version=4)
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and "data.open_positions()" in c.source]
    (table,) = [
        o for o in cell.outputs if "text/plain" in o.get("data", {}) and "avg_cost" in o.data["text/plain"]
    ]
    lines = table.data["text/plain"].splitlines()
    assert "unrealized" in lines[0] and len(lines) > 1, "the cycle left open positions"
    assert all("None" not in line and "NaN" not in line for line in lines[1:]), lines


def test_runs_list_and_show_describe_the_archive(archived: Archived) -> None:
    listed = CliRunner().invoke(app, ["runs", "list"], env=archived.env)
    assert "cycle" in listed.output and "review" in listed.output
    run_id = json.loads((archived.folder("cycle") / "manifest.json").read_text())["run_id"]
    shown = CliRunner().invoke(app, ["runs", "show", run_id[-6:]], env=archived.env)
    assert shown.exit_code == 0 and f'"run_id": "{run_id}"' in shown.output


def test_a_failing_notebook_is_archived_with_its_cell_named_and_exits_non_zero(
    sim_project: SimProject, tmp_path: Path
) -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell('mode = "sim"\nrun_id = ""')
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell("1 / 0")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    broken = tmp_path / "broken.ipynb"
    nbformat.write(nb, str(broken))
    done = sim_project.catalyst("review", "--no-progress", "--notebook", str(broken))
    assert done.returncode == 1
    assert "In [3] (`1 / 0`) raised ZeroDivisionError" in done.stderr
    folder = Path(done.stdout.split("Run folder:", 1)[1].splitlines()[0].strip())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["failure"]["ename"] == "ZeroDivisionError"
    assert (folder / "review.html").exists() and (folder / "review.ipynb").exists()


def test_live_mode_is_refused_with_what_is_missing(sim_project: SimProject) -> None:
    done = CliRunner().invoke(app, ["cycle", "--mode", "live"])
    assert done.exit_code == 2
    assert "go-live gate" in done.output and "clean paper-trading day" in done.output


def test_an_unknown_parameter_is_refused_with_the_notebooks_parameters(sim_project: SimProject) -> None:
    done = CliRunner().invoke(app, ["cycle", "-p", "no_such_thing", "1"])
    assert done.exit_code == 2
    assert "has no parameter 'no_such_thing'" in done.output and "strategy_params" in done.output
