"""Context bound to every log record of a run or an order (structlog contextvars).

``bind_run(run_id, mode)`` and ``bind_order(symbol, order_ref)`` bind at once; used as context
managers they restore the previous values on exit::

    with bind_order("700", "r1-700-B-1:P"):
        log.info("broker.submit.sent")
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from structlog.contextvars import bind_contextvars, reset_contextvars, unbind_contextvars


class Binding:
    """Values bound into the logging context; a context manager that unbinds them on exit."""

    def __init__(self, **values: Any) -> None:
        self.values = values
        self._tokens: Mapping[str, contextvars.Token[Any]] = bind_contextvars(**values)

    def unbind(self) -> None:
        """Restore whatever was bound before (idempotent)."""
        if self._tokens:
            tokens, self._tokens = self._tokens, {}
            reset_contextvars(**tokens)

    def __enter__(self) -> Binding:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.unbind()


def bind_run(run_id: str, mode: str, **extra: Any) -> Binding:
    """Tag every following record of this context with the run id and mode (sim, paper, live)."""
    return Binding(run_id=run_id, mode=mode, **extra)


def bind_order(symbol: str, order_ref: str, **extra: Any) -> Binding:
    """Tag every following record with the order's symbol and orderRef."""
    return Binding(symbol=symbol, order_ref=order_ref, **extra)


def unbind_order() -> None:
    unbind_contextvars("symbol", "order_ref")


def unbind_run() -> None:
    unbind_contextvars("run_id", "mode")
