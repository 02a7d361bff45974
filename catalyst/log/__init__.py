"""Structured logging: JSON lines with run and order context, secrets redacted, optional ledger mirror."""

from catalyst.log.context import Binding, bind_order, bind_run, unbind_order, unbind_run
from catalyst.log.redaction import MASK, Redactor
from catalyst.log.setup import (
    EVENTS_FILE,
    add_secrets,
    configure_logging,
    flush_logging,
    ledger_mirror,
    redactor,
    reset_logging,
)

__all__ = [
    "EVENTS_FILE",
    "MASK",
    "Binding",
    "Redactor",
    "add_secrets",
    "bind_order",
    "bind_run",
    "configure_logging",
    "flush_logging",
    "ledger_mirror",
    "redactor",
    "reset_logging",
    "unbind_order",
    "unbind_run",
]
