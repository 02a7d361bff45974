"""Run folders are named runs/YYYY-MM-DD/<HHMMSS>-<kind>-<id> in Hong Kong time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from catalyst.runs.folder import create_run_folder, folder_for, make_run_id, run_id_of
from catalyst.runs.errors import BadRunParameterError


def test_run_folder_is_dated_in_hong_kong_time(tmp_path: Path) -> None:
    folder = create_run_folder(tmp_path, "cycle", datetime(2026, 11, 24, 17, 5, 9, tzinfo=UTC))
    assert folder.path.parent.name == "2026-11-25"
    assert folder.path.name.startswith("010509-cycle-")
    assert folder.path.is_dir()


def test_run_id_round_trips_through_its_folder(tmp_path: Path) -> None:
    run_id = make_run_id("review", datetime(2026, 11, 24, 8, 0, tzinfo=UTC), token="abc123")
    assert run_id == "20261124-160000-review-abc123"
    assert run_id_of(folder_for(tmp_path, run_id).path) == run_id


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(BadRunParameterError, match="unknown run kind"):
        make_run_id("trade", datetime(2026, 11, 24, tzinfo=UTC))


def test_a_naive_start_time_is_refused() -> None:
    with pytest.raises(BadRunParameterError, match="timezone-aware"):
        make_run_id("cycle", datetime(2026, 11, 24))
