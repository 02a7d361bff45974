"""Suite-wide fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _restore_process_environment() -> Iterator[None]:
    """Every test starts from the environment the suite started with.

    A `catalyst` command is one process: it may set CATALYST_MODE for the notebook kernel it starts.
    Tests run such commands in-process, so without this a mode set by one test leaks into the next
    test on the same worker.
    """
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def _shipped_universe_between_tests() -> Iterator[None]:
    """The active universe is per process (``catalyst.market.use_universe``): a test that imports one,
    or runs a command in a project that has one, must not change the lots of the next test (a module
    that chose one for all its tests keeps it: what was chosen before the test is put back)."""
    from catalyst.market.universe import universe_choice

    before = universe_choice()
    yield
    before.restore()
