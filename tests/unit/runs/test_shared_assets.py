"""The archive stores plotly.js and the report stylesheet once; every report loads them by a relative
path; every manifest records their hashes, so verify still covers every byte a report depends on."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nbformat
import plotly.graph_objects as go
import pytest

from catalyst.runs.archive import verify_archive
from catalyst.runs.archive_chain import seal_run
from catalyst.runs.html_export import PLOTLY_MIME, export_html
from catalyst.runs.manifest import read_manifest
from catalyst.runs.folder import RunFolder, create_run_folder
from catalyst.runs.shared_assets import SharedAssetChangedError, publish_asset

T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
CODE = "nb.show(review_charts.equity_chart(data))  # the code of the cell"


def _notebook(path: Path) -> None:
    fig = go.Figure(go.Bar(x=["a", "b"], y=[1, 2]), layout={"title": "a chart"})
    cell = nbformat.v4.new_code_cell(CODE, execution_count=1)
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data", data={PLOTLY_MIME: json.loads(fig.to_json()), "text/plain": "<plotly figure>"}
        ),
        nbformat.v4.new_output("stream", name="stdout", text="the printed output\n"),
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Review"), cell])
    nbformat.write(nb, str(path))


def _run(runs: Path, minutes: int, *, seal: bool = True, **export: bool) -> RunFolder:
    folder = create_run_folder(runs, "review", T0 + timedelta(minutes=minutes))
    _notebook(folder.notebook)
    export_html(folder.notebook, folder.html, archive=runs, **export)
    folder.events.write_text('{"event": "run.started"}\n')
    if seal:
        seal_run(runs, folder, mode="sim", status="ok", started_at="s", finished_at="f", parameters={})
    return folder


def _plotly_asset(runs: Path) -> Path:
    (found,) = sorted((runs / "assets").glob("plotly-*.min.js"))
    return found


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_report_loads_plotly_js_from_the_archive_by_a_relative_path_instead_of_embedding_it(
    tmp_path: Path,
) -> None:
    runs = tmp_path / "runs"
    folder = _run(runs, 0)
    html = folder.html.read_text()
    plotly_js = _plotly_asset(runs)
    assert f'src="../../assets/{plotly_js.name}"' in html
    assert (folder.path / "../../assets" / plotly_js.name).resolve() == plotly_js.resolve()
    assert plotly_js.stat().st_size > 1_000_000
    assert folder.html.stat().st_size < 100_000, "plotly.js and the stylesheet are not in the report"
    assert "Plotly.newPlot" in html


def test_two_runs_share_one_copy_of_each_asset_and_both_manifests_hash_it(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    first, second = _run(runs, 0), _run(runs, 1)
    assert len(list((runs / "assets").iterdir())) == 2  # plotly.js and the stylesheet, once each
    one, two = read_manifest(first.path).assets, read_manifest(second.path).assets
    assert one == two and len(one) == 2
    name = f"assets/{_plotly_asset(runs).name}"
    assert one[name].startswith(name.rsplit("-", 1)[1][:16])
    report = verify_archive(runs)
    assert report.ok, report.problems
    assert report.artifacts_checked == 2 * (3 + 2)  # notebook, html, events and two assets per run


def test_one_changed_byte_in_a_shared_asset_fails_verify_naming_the_asset_and_its_runs(
    tmp_path: Path,
) -> None:
    runs = tmp_path / "runs"
    first, second = _run(runs, 0), _run(runs, 1)
    asset = _plotly_asset(runs)
    _flip_a_byte(asset)
    problems = verify_archive(runs).problems
    assert [(p.run, p.artifact, p.kind) for p in problems] == [("assets", asset.name, "changed")]
    assert str(problems[0]).startswith(f"CHANGED   assets/{asset.name}: ")
    assert first.relative in problems[0].message and second.relative in problems[0].message


def test_verifying_one_run_covers_the_assets_its_report_loads(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    folder = _run(runs, 0)
    stylesheet = next((runs / "assets").glob("notebook-lab-*.css"))
    _flip_a_byte(stylesheet)
    problems = verify_archive(runs, folder.run_id).problems
    assert [(p.artifact, p.kind) for p in problems] == [(stylesheet.name, "changed")]


def test_a_removed_shared_asset_is_named(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    _run(runs, 0)
    asset = _plotly_asset(runs)
    asset.unlink()
    assert [(p.artifact, p.kind) for p in verify_archive(runs).problems] == [(asset.name, "removed")]


def test_an_asset_altered_before_the_run_was_sealed_is_caught_by_the_hash_in_its_name(
    tmp_path: Path,
) -> None:
    runs = tmp_path / "runs"
    folder = _run(runs, 0, seal=False)
    asset = _plotly_asset(runs)
    _flip_a_byte(asset)
    seal_run(runs, folder, mode="sim", status="ok", started_at="s", finished_at="f", parameters={})
    problems = verify_archive(runs).problems
    assert [(p.artifact, p.kind) for p in problems] == [(asset.name, "changed")]
    assert "hash in its name" in problems[0].message


def test_an_altered_asset_is_never_overwritten_by_the_next_export(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    publish_asset(runs, "thing", ".js", b"original")
    (path,) = (runs / "assets").iterdir()
    path.write_bytes(b"altered")
    with pytest.raises(SharedAssetChangedError, match=path.name):
        publish_asset(runs, "thing", ".js", b"original")
    assert path.read_bytes() == b"altered"


def test_the_report_hides_code_cells_by_default_and_shows_them_on_request(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    hidden, shown = _run(runs, 0).html.read_text(), _run(runs, 1, show_code=True).html.read_text()
    assert "the printed output" in hidden and "catalyst-plot-0" in hidden
    assert "review_charts" not in hidden and "In&nbsp;[" not in hidden
    assert "review_charts" in shown
    nb = nbformat.read(str(next(runs.glob("*/*/review.ipynb"))), as_version=4)
    assert nb.cells[1].source == CODE, "the archived notebook keeps its code"


def test_without_an_archive_the_report_is_self_contained(tmp_path: Path) -> None:
    _notebook(tmp_path / "n.ipynb")
    report = export_html(tmp_path / "n.ipynb", tmp_path / "n.html")
    html = (tmp_path / "n.html").read_text()
    assert report.assets == () and "../../assets/" not in html
    assert (tmp_path / "n.html").stat().st_size > 1_000_000


def test_every_run_whose_report_loads_a_changed_asset_no_longer_counts_as_intact(tmp_path: Path) -> None:
    """The go-live gate and the review count only runs that verify."""
    from catalyst.runs.golive_gate import archive_facts

    runs = tmp_path / "runs"
    first, second = _run(runs, 0), _run(runs, 1)
    assert all(f.intact for f in archive_facts(runs))
    _flip_a_byte(_plotly_asset(runs))
    assert verify_archive(runs).broken_runs() >= {first.relative, second.relative}
    assert [f.intact for f in archive_facts(runs)] == [False, False]


def test_catalyst_runs_verify_exits_non_zero_naming_the_changed_asset(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from catalyst.cli.app import app

    runs = tmp_path / "runs"
    _run(runs, 0)
    env = {"CATALYST_PATHS__ROOT": str(tmp_path)}
    assert CliRunner().invoke(app, ["runs", "verify", "--no-ledger"], env=env).exit_code == 0
    asset = _plotly_asset(runs)
    _flip_a_byte(asset)
    done = CliRunner().invoke(app, ["runs", "verify", "--no-ledger"], env=env)
    assert done.exit_code != 0
    assert f"CHANGED   assets/{asset.name}" in done.output
