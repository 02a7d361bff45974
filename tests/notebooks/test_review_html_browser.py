"""The HTML review, opened offline in headless Chromium, draws its plotly charts without errors.

The network is off for the browser: every request it would make beyond the file itself goes to a
proxy on a closed port, so a chart that needed a CDN would not draw. plotly.js and the stylesheet
come from the archive's shared assets folder (``runs/assets/``) by a relative path."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from notebook_project import Archived

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.xdist_group("notebooks")]

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--virtual-time-budget=15000",
    # the network off: anything not on disk would go through a proxy that does not answer
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
]


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        reason = "headless Chromium is not installed (apt-get install chromium); the HTML review is untested"
        if os.environ.get("CATALYST_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " and CATALYST_REQUIRE_BROWSER=1")
        pytest.skip(reason)
    return found


def _run(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _plot_divs(html: str) -> list[str]:
    """The opening tags of the report's figure divs (html_export names them catalyst-plot-N)."""
    return [tag for tag in re.findall(r"<div [^>]*>", html) if re.search(r'id="catalyst-plot-\d+"', tag)]


@pytest.fixture(scope="module")
def review_html(archived: Archived) -> Path:
    assert archived.review.returncode == 0, archived.review.stdout + archived.review.stderr
    return archived.folder("review") / "review.html"


def test_every_plotly_chart_of_the_review_renders_without_javascript_errors(
    review_html: Path, tmp_path: Path
) -> None:
    done = _run(
        ["--enable-logging=stderr", "--v=0", "--dump-dom", review_html.as_uri()], tmp_path / "profile"
    )
    plots = len(_plot_divs(review_html.read_text()))
    rendered = [tag for tag in _plot_divs(done.stdout) if "js-plotly-plot" in tag]
    console_errors = [
        ln for ln in done.stderr.splitlines() if "CONSOLE" in ln and re.search(r"Uncaught|Error", ln)
    ]
    assert plots >= 5
    assert console_errors == []
    assert len(rendered) == plots, f"{len(rendered)} of {plots} plots rendered"
    assert done.stdout.count('class="main-svg"') >= plots


def test_the_review_loads_plotly_js_from_the_archives_shared_assets_by_a_relative_path(
    review_html: Path,
) -> None:
    html = review_html.read_text()
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert [s for s in scripts if "plotly" in s] == [
        s for s in scripts if s.startswith("../../assets/plotly-")
    ]
    (plotly_js,) = [s for s in scripts if "plotly" in s]
    assert (review_html.parent / plotly_js).resolve().is_file()
    assert review_html.stat().st_size < 500_000, "plotly.js is not copied into the report"


def test_a_screenshot_of_the_review_is_not_blank(review_html: Path, tmp_path: Path) -> None:
    from PIL import Image

    shot = tmp_path / "review.png"
    done = _run(
        [f"--screenshot={shot}", "--window-size=1280,2400", review_html.as_uri()], tmp_path / "profile"
    )
    assert shot.exists(), done.stderr[-2000:]
    image = Image.open(shot).convert("RGB").resize((320, 600))
    colours = image.getcolors(maxcolors=1 << 16) or []
    assert len(colours) > 50, f"screenshot has only {len(colours)} colours: blank page?"
