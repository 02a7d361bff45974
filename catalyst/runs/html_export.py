"""Export an executed notebook to a self-contained HTML report that renders offline.

Notebooks show plotly figures as ``application/vnd.plotly.v1+json`` outputs (JupyterLab renders
those natively). nbconvert has no renderer for that type, so before exporting, each figure output is
given an HTML rendering made by plotly itself, with plotly.js embedded once (in the first figure):
the report opens from the archive with no network and no notebook server.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import nbformat

PLOTLY_MIME = "application/vnd.plotly.v1+json"

#: nbconvert's lab template loads require.js and MathJax from a CDN. The report needs neither (and
#: plotly.js registers as an AMD module when require.js is present, so no figure would draw): drop both.
_TEMPLATE = "catalyst_offline_report.html.j2"
_OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
"""


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


def embed_plotly(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, int]:
    """A copy of ``nb`` whose plotly outputs carry standalone HTML; returns it and the figure count."""
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
            html = _figure_html(spec, include_js=count == 0, div_id=f"catalyst-plot-{count}")
            output["data"] = {"text/html": html}
            count += 1
    return out, count


def export_html(notebook_path: Path, html_path: Path) -> int:
    """Write ``html_path`` from the executed notebook; returns how many plotly figures it holds."""
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook_path), as_version=4)
    prepared, figures = embed_plotly(nb)
    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({_TEMPLATE: _OFFLINE_TEMPLATE})])
    exporter.template_file = _TEMPLATE
    body, _ = exporter.from_notebook_node(prepared)
    html_path.write_text(body, encoding="utf-8")
    return figures
