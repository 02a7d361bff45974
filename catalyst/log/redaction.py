"""Redaction: no secret value reaches a log line, wherever it hides.

The processor walks the event dict (nested dicts, lists, tuples, objects rendered as text) and
replaces every known secret value inside any string with ``***``. It also blanks credentials in
URLs generally (``scheme://user:pass@host``, ``?token=...``) and the values of keys named like
secrets (``password``, ``token``, ...), so a secret nobody registered still does not leak.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

MASK = "***"

_URL_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*:)(?P<secret>[^\s@/]+)(?P<tail>@)")
_URL_PARAM = re.compile(
    r"(?P<head>[?&;](?:access_token|token|api_?key|key|secret|password|passwd|pwd|auth|sig|signature)=)"
    r"(?P<secret>[^&\s#\"']+)",
    re.IGNORECASE,
)
_SECRET_KEY = re.compile(r"(password|passwd|secret|token|api_?key|credential|authorization)", re.IGNORECASE)
_PLAIN = (int, float, bool, Decimal, dt.datetime, dt.date, dt.time, type(None))


class Redactor:
    """A structlog processor replacing secrets with ``***``; secrets can be added at any time."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        # Very short values would blank out ordinary text; the settings never yield them.
        new = {s for s in secrets if isinstance(s, str) and len(s) >= 4}
        if new - self._secrets:
            self._secrets |= new
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(self._secrets)

    def text(self, value: str) -> str:
        if self._pattern is not None:
            value = self._pattern.sub(MASK, value)
        if "://" in value:
            value = _URL_USERINFO.sub(lambda m: m.group("head") + MASK + m.group("tail"), value)
        if "=" in value:
            value = _URL_PARAM.sub(lambda m: m.group("head") + MASK, value)
        return value

    def value(self, value: Any, depth: int = 0) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, _PLAIN):
            return value
        if depth > 20:
            return MASK
        if isinstance(value, Mapping):
            return {k: self._item(k, v, depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.value(v, depth + 1) for v in value]
        if type(value).__name__ == "SecretStr":
            return MASK
        return self.text(str(value))

    def _item(self, key: Any, value: Any, depth: int) -> Any:
        if isinstance(key, str) and key != "event" and value is not None and _SECRET_KEY.search(key):
            return MASK
        return self.value(value, depth)

    def __call__(self, logger: Any, method_name: str, event_dict: Any) -> Any:
        return {k: self._item(k, v, 0) for k, v in event_dict.items()}
