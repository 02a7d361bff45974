from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from catalyst.ledger import Ledger

NOW = dt.datetime(2026, 3, 2, 2, 30, tzinfo=dt.UTC)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "state" / "ledger.duckdb")
