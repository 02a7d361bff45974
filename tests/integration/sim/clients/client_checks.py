"""What every client session script shares: plain values for JSON, waiting, and the report it writes.

Runs inside a client's own environment (``.venv/clients/<name>`` first on ``sys.path``), so it imports
nothing from Catalyst and nothing from any IB client.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any


def plain(value: Any, depth: int = 0) -> Any:
    """A JSON-able copy of a client object (its attributes, recursively; Decimals as text)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, Decimal | bytes):
        return str(value)
    if depth > 4:
        return repr(value)
    if isinstance(value, list | tuple | set):
        return [plain(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    attrs = getattr(value, "__dict__", None)
    if attrs is None and hasattr(value, "__dataclass_fields__"):
        attrs = {k: getattr(value, k) for k in value.__dataclass_fields__}
    if attrs is None:
        return repr(value)
    return {k: plain(v, depth + 1) for k, v in attrs.items() if not k.startswith("_")}


class Recorder:
    """Callbacks in arrival order, each as (name, args), with a wait that wakes on every new one."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[Any]]] = []
        self._cond = threading.Condition()

    def add(self, name: str, args: list[Any]) -> None:
        with self._cond:
            self.calls.append((name, args))
            self._cond.notify_all()

    def named(self, name: str) -> list[list[Any]]:
        with self._cond:
            return [args for n, args in self.calls if n == name]

    def wait(self, condition: Callable[[], bool], timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.2))
        return True


class DecodeProblems(logging.Handler):
    """Errors the client's decoder logs (a frame it could not read, a field count it did not expect)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(logging.ERROR)
        self.problems = problems

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f" [{type(record.exc_info[1]).__name__}: {record.exc_info[1]}]"
        self.problems.append(f"{record.name}: {text[:600]}")


def watch_decoder_logs(logger_names: list[str], problems: list[str]) -> None:
    handler = DecodeProblems(problems)
    for name in logger_names:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG if logger.level == 0 else logger.level)


def write_report(path: Path, report: dict[str, Any]) -> None:
    path.write_text(json.dumps(report, default=str), encoding="utf-8")


def ticks_away(price: float, increments: list[tuple[float, float]], n: int) -> float:
    """``n`` ladder steps above (n > 0) or below (n < 0) ``price``."""
    out = price
    for _ in range(abs(n)):
        tick = increments[0][1]
        for low_edge, increment in increments:
            if (out >= low_edge and n > 0) or (out > low_edge and n < 0):
                tick = increment
        out = round(out + (tick if n > 0 else -tick), 6)
    return out
