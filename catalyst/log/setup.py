"""``configure_logging``: the one place structured logging is set up.

Every record, from structlog loggers and from plain ``logging`` (the IB client library logs that way), goes
through the same chain: context variables merged (run id, mode, symbol, orderRef), level, logger
name, an ISO-8601 UTC ``timestamp``, exceptions rendered as text, then the redactor, then:

* a JSON-lines file: ``<run_dir>/events.jsonl`` when a run folder is given, or ``json_file``;
* stderr: a readable console rendering on a terminal, JSON lines otherwise (``console`` forces it);
* optionally the ledger's ``log_events`` table (batched, see ``log_ledger_mirror``).

Calling it again replaces the previous configuration (handlers are flushed and closed).
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

import structlog
from structlog.typing import Processor

from catalyst.log.mirror import LedgerMirrorHandler, LedgerSink
from catalyst.log.redaction import Redactor

EVENTS_FILE = "events.jsonl"

#: The redactor in use; ``add_secrets`` extends it without reconfiguring.
_redactor = Redactor()
_installed: list[logging.Handler] = []
_mirror: LedgerMirrorHandler | None = None


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time of the record (pytest swaps it)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream or sys.stderr)
        self._fixed = stream

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = self._fixed or sys.stderr
        super().emit(record)


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
    ]


def _formatter(renderer: Processor) -> structlog.stdlib.ProcessorFormatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            _redactor,
            renderer,
        ],
    )


def _json_renderer() -> Processor:
    return structlog.processors.JSONRenderer(default=str, ensure_ascii=False)


def add_secrets(secrets: Iterable[str]) -> None:
    """Register more secret values with the running redactor."""
    _redactor.add(secrets)


def redactor() -> Redactor:
    return _redactor


def flush_logging() -> None:
    """Flush every handler, including the ledger mirror (call before archiving a run)."""
    for handler in _installed:
        handler.flush()


def ledger_mirror() -> LedgerMirrorHandler | None:
    return _mirror


def _reset() -> None:
    global _mirror
    root = logging.getLogger()
    for handler in _installed:
        root.removeHandler(handler)
        try:
            handler.flush()
            handler.close()
        except Exception:  # pragma: no cover - closing a broken stream must not stop reconfiguring
            pass
    _installed.clear()
    _mirror = None


def reset_logging() -> None:
    """Undo ``configure_logging``: flush and remove its handlers, restore structlog's defaults."""
    _reset()
    structlog.reset_defaults()


def configure_logging(
    *,
    run_dir: Path | None = None,
    json_file: Path | None = None,
    level: str | int = "INFO",
    console: bool | None = None,
    secrets: Iterable[str] = (),
    ledger: LedgerSink | None = None,
    stream: TextIO | None = None,
    mirror_interval: float = 2.0,
) -> Path | None:
    """Configure structlog and stdlib logging; return the JSON-lines file written, if any.

    ``console``: None = readable output when stderr is a terminal, JSON lines otherwise; True =
    always readable; False = always JSON. ``stream`` replaces stderr (tests).
    """
    global _mirror
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}; use DEBUG, INFO, WARNING, ERROR or CRITICAL")
    _reset()
    _redactor.add(secrets)
    warnings.filterwarnings("ignore", message=".*format_exc_info.*", module="structlog")

    target: Path | None = None
    if run_dir is not None:
        target = Path(run_dir) / EVENTS_FILE
    elif json_file is not None:
        target = Path(json_file)

    handlers: list[logging.Handler] = []
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(target, mode="a", encoding="utf-8")
        file_handler.setFormatter(_formatter(_json_renderer()))
        handlers.append(file_handler)

    out = stream if stream is not None else sys.stderr
    pretty = console if console is not None else bool(getattr(out, "isatty", lambda: False)())
    console_handler = _StderrHandler(stream)
    renderer = structlog.dev.ConsoleRenderer(colors=stream is None) if pretty else _json_renderer()
    console_handler.setFormatter(_formatter(renderer))
    handlers.append(console_handler)

    if ledger is not None:
        _mirror = LedgerMirrorHandler(ledger, interval=mirror_interval)
        _mirror.setFormatter(_formatter(_json_renderer()))
        handlers.append(_mirror)

    root = logging.getLogger()
    root.setLevel(numeric)
    for handler in handlers:
        handler.setLevel(numeric)
        root.addHandler(handler)
    _installed.extend(handlers)

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    return target
