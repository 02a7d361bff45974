from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog

from catalyst.log import reset_logging


@pytest.fixture(autouse=True)
def clean_logging() -> Iterator[None]:
    structlog.contextvars.clear_contextvars()
    yield
    reset_logging()
    structlog.contextvars.clear_contextvars()
