"""Errors raised by Catalyst's value types (sides, order types, bracket intents)."""

from __future__ import annotations

from catalyst.errors import CatalystError


class DomainError(CatalystError, ValueError):
    """Base of every error raised by :mod:`catalyst.domain`."""


class UnknownSideError(DomainError):
    """Raised for any side text that is not in the explicit table (None and "" included)."""


class UnknownOrderTypeError(DomainError):
    """Raised for an order type that is not in the explicit table."""


class InvalidIntentError(DomainError):
    """A bracket intent that must not be sent: inconsistent prices, off tick, odd lots, bad ids."""


class UnknownOrderStatusError(DomainError):
    """An order status that is neither IB's nor one of Catalyst's own (``catalyst.domain.OrderStatus``)."""
