"""Session fixture: a simulated gateway and a project folder, with secrets in the environment."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator

import pytest
from notebook_project import CYCLE_PARAMS, SECRET_ENV, SIM_CLOCK, Archived, Done, SimProject

from catalyst.sim.gateway.launcher import start_gateway


@pytest.fixture(scope="session")
def sim_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimProject]:
    root = tmp_path_factory.mktemp("project")
    handle = start_gateway(root / "state" / "sim", clock=SIM_CLOCK)
    env = {
        "CATALYST_PATHS__ROOT": str(root),
        "CATALYST_SIM__PORT": str(handle.port),
        "CATALYST_MODE": "sim",
        **SECRET_ENV,
    }
    try:
        yield SimProject(root=root, gateway=handle, env=env)
    finally:
        handle.stop()


@pytest.fixture(autouse=True)
def _project_environment(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The project's environment, for each test that uses the project and only while it runs.

    nbmake's kernels (and anything a test runs in-process) inherit this process's environment; set
    for the whole session instead, the project's mode, ports and secrets would leak into every
    other test that happens to run on the same worker afterwards.
    """
    if "sim_project" in request.fixturenames:
        project: SimProject = request.getfixturevalue("sim_project")
        for key, value in project.env.items():
            monkeypatch.setenv(key, value)


@pytest.fixture(scope="session")
def archived(sim_project: SimProject, tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Archived:
    """`catalyst cycle` and `catalyst review` run once for the whole session: the first xdist worker
    to get here runs them, the others read what it recorded (under a lock in the shared temp root)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if worker_id != "master" else base
    record = shared / "archived-runs.json"
    with (shared / "archived-runs.lock").open("a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        if record.exists():
            return Archived.from_json(record.read_text())
        cycle = sim_project.catalyst("cycle", "--no-progress", *CYCLE_PARAMS)
        review = sim_project.catalyst("review", "--no-progress")
        made = Archived(
            root=sim_project.root,
            env=sim_project.env,
            cycle=Done(cycle.returncode, cycle.stdout, cycle.stderr),
            review=Done(review.returncode, review.stdout, review.stderr),
        )
        record.write_text(made.to_json())
        return made
