"""Every bad input of finding 8 (and the rest of the table) is refused over the real command line:
non-zero exit, no traceback, a message naming what was wrong, nothing silently done.

Each case runs ``catalyst ...`` as a subprocess in a project folder of its own, as a trader would;
the cases that connect before they meet the bad input share one simulated gateway. The same list
makes the markdown table of the closing note (``python tests/integration/cli/bad_inputs_table.py``).
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import pytest
from bad_inputs import CASES, BadInput, clean, problems_of, run_case

pytestmark = [pytest.mark.integration]

_client_ids = itertools.count(300)


def test_the_table_covers_at_least_the_54_inputs_of_finding_8() -> None:
    assert len(CASES) >= 54
    assert len({c.id for c in CASES}) == len(CASES), "case ids are unique"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_input_is_refused_with_a_message_and_no_traceback(
    case: BadInput, request: pytest.FixtureRequest
) -> None:
    gateway = request.getfixturevalue("shared_gateway") if case.gateway else None
    project = Path(tempfile.mkdtemp(prefix=f"bad-{case.id}-", dir="/tmp"))
    try:
        # a unique client id per case: parallel cases never take each other's session
        outcome = run_case(case, project, gateway=gateway, client_id=next(_client_ids) + 1000 * _worker())
        assert not problems_of(case, outcome), (
            f"{case.describe()}: {problems_of(case, outcome)}\n"
            f"exit {outcome.returncode}\n--- stdout\n{outcome.stdout}\n--- stderr\n{outcome.stderr}"
        )
    finally:
        clean(project)


def _worker() -> int:
    import os

    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(name[2:]) if name[2:].isdigit() else 0
