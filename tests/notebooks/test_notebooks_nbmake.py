"""nbmake runs every notebook in notebooks/, unparameterized, against the simulated gateway."""

from __future__ import annotations

from pathlib import Path

import pytest
from nbmake.nb_run import NotebookRun
from notebook_project import SimProject

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.xdist_group("notebooks")]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom_against_the_simulator(notebook: Path, sim_project: SimProject) -> None:
    # python3: ipykernel's own spec, i.e. this very interpreter (the notebooks declare the
    # `catalyst` kernel that `make setup` installs for JupyterLab; both are the same .venv).
    result = NotebookRun(notebook, default_timeout=600, kernel="python3").execute()
    error = result.error
    assert error is None, (
        f"{notebook.name} failed:\n{error.summary if error else ''}\n{error.trace if error else ''}"
    )
