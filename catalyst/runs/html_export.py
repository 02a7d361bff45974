"""Export an executed notebook to an HTML report that renders offline and reads as a report.

Notebooks show plotly figures as ``application/vnd.plotly.v1+json`` outputs (JupyterLab renders
those natively). nbconvert has no renderer for that type, so before exporting, each figure output is
given an HTML rendering made by plotly itself.

Inside the archive (``archive`` given: the ``runs/`` folder) plotly.js (4.8 MB) and the notebook
stylesheet (0.25 MB) are not copied into every report: they are shared assets of the archive
(:mod:`catalyst.runs.shared_assets`), stored once and loaded by a relative path, so a report still
opens from ``file://`` with no network. Without ``archive`` the report is self-contained (plotly.js
embedded once, in the first figure).

Code cells are left out of the report by default (the archived notebook keeps them); ``show_code``
puts them back.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catalyst.runs.shared_assets import SharedAsset, publish_asset

if TYPE_CHECKING:
    import nbformat

PLOTLY_MIME = "application/vnd.plotly.v1+json"

#: nbconvert's lab template loads require.js and MathJax from a CDN. The report needs neither (and
#: plotly.js registers as an AMD module when require.js is present, so no figure would draw): drop
#: both. With shared assets, plotly.js and the stylesheet are loaded from the archive's assets folder.
_TEMPLATE = "catalyst_offline_report.html.j2"
_OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}
{%- if resources.catalyst_assets and resources.catalyst_assets.plotly_js %}
<script src="{{ resources.catalyst_assets.plotly_js }}"></script>
{%- endif -%}
{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block notebook_css -%}
{%- if resources.catalyst_assets and resources.catalyst_assets.stylesheet %}
<link rel="stylesheet" type="text/css" href="{{ resources.catalyst_assets.stylesheet }}">
<style type="text/css">
a.anchor-link { display: none; }
.jp-Collapser { display: none; }
* { -webkit-print-color-adjust: exact; }
@media print { .jp-Cell-inputWrapper, .jp-Cell-outputWrapper { display: block; } }
</style>
{%- else -%}
{{ super() }}
{%- endif -%}
{%- endblock notebook_css -%}
"""

#: The lab template's stylesheets (light theme), in the order the template inlines them.
_LAB_STYLESHEETS = ("index.css", "theme-light.css")


@dataclass(frozen=True)
class ExportedReport:
    """What an export wrote: the figure count and the shared assets the report references."""

    figures: int
    assets: tuple[SharedAsset, ...] = ()


def _figure_html(spec: dict[str, Any], *, include_js: bool, div_id: str) -> str:
    import plotly.io as pio

    fig = pio.from_json(json.dumps(spec), skip_invalid=True)
    html: str = pio.to_html(
        fig,
        include_plotlyjs=include_js,
        full_html=False,
        div_id=div_id,
        config={"responsive": True, "displaylogo": False},
    )
    return html


def embed_plotly(nb: nbformat.NotebookNode, *, inline_js: bool = True) -> tuple[nbformat.NotebookNode, int]:
    """A copy of ``nb`` whose plotly outputs carry HTML; returns it and the figure count.

    ``inline_js``: plotly.js goes into the first figure (else the page must load it).
    """
    out = copy.deepcopy(nb)
    count = 0
    for cell in out.cells:
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data")
            if not data or PLOTLY_MIME not in data:
                continue
            spec = data[PLOTLY_MIME]
            if isinstance(spec, str):
                spec = json.loads(spec)
            html = _figure_html(spec, include_js=inline_js and count == 0, div_id=f"catalyst-plot-{count}")
            output["data"] = {"text/html": html}
            count += 1
    return out, count


def _lab_stylesheet(template_paths: list[str]) -> bytes:
    """The lab template's own stylesheets, concatenated (what it would inline into every report)."""
    parts: list[bytes] = []
    for name in _LAB_STYLESHEETS:
        for folder in template_paths:
            candidate = Path(folder) / "static" / name
            if candidate.is_file():
                parts.append(candidate.read_bytes())
                break
        else:
            raise FileNotFoundError(f"nbconvert's lab template has no static/{name} in {template_paths}")
    return b"\n".join(parts)


def publish_report_assets(archive: Path, template_paths: list[str]) -> dict[str, SharedAsset]:
    """plotly.js and the stylesheet in the archive's assets folder (written the first time only)."""
    import plotly
    from plotly.offline import get_plotlyjs

    return {
        "plotly_js": publish_asset(
            archive, f"plotly-{plotly.__version__}", ".min.js", get_plotlyjs().encode("utf-8")
        ),
        "stylesheet": publish_asset(archive, "notebook-lab", ".css", _lab_stylesheet(template_paths)),
    }


def export_html(
    notebook_path: Path, html_path: Path, *, archive: Path | None = None, show_code: bool = False
) -> ExportedReport:
    """Write ``html_path`` from the executed notebook.

    ``archive``: the run folder is in this archive (``runs/``), two levels down; plotly.js and the
    stylesheet are its shared assets. ``show_code``: include the code cells (default: outputs and
    text only).
    """
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook_path), as_version=4)
    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({_TEMPLATE: _OFFLINE_TEMPLATE})])
    exporter.template_file = _TEMPLATE
    exporter.exclude_input = not show_code
    exporter.exclude_input_prompt = not show_code
    exporter.exclude_output_prompt = not show_code
    assets = publish_report_assets(archive, exporter.template_paths) if archive is not None else {}
    prepared, figures = embed_plotly(nb, inline_js=not assets)
    resources = {"catalyst_assets": {role: asset.href for role, asset in assets.items()}}
    body, _ = exporter.from_notebook_node(prepared, resources=resources)
    html_path.write_text(body, encoding="utf-8")
    return ExportedReport(figures=figures, assets=tuple(assets.values()))
