"""Errors raised while reading and validating settings."""

from __future__ import annotations

from catalyst.errors import CatalystError


class ConfigError(CatalystError, ValueError):
    """A setting is unknown, mistyped, out of range or unsafe; the message names the key."""

    def __init__(self, message: str, *, keys: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.keys = keys
