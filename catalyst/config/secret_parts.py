"""The parts of a secret value that must never be logged.

A whole alert URL is secret, but so are its pieces: a log line may contain just the password of
``mailtos://user:pass@host`` or the token of ``tgram://bot-token/chat``. So besides the whole
value we return the password, every query value of a credential-like parameter and every
token-like component (long runs of letters, digits, ``-`` and ``_``).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit

_TOKENISH = re.compile(r"[A-Za-z0-9_\-.~]{12,}")
_CREDENTIAL_PARAMS = re.compile(r"(token|key|secret|pass|pwd|auth|sig|webhook)", re.IGNORECASE)


def secret_parts(value: str) -> list[str]:
    """``value`` itself plus the credential pieces inside it when it is a URL."""
    value = value.strip()
    if not value:
        return []
    parts = [value]
    if "://" not in value:
        return parts
    try:
        split = urlsplit(value)
    except ValueError:
        return parts
    if split.password:
        parts.append(unquote(split.password))
    for name, param in parse_qsl(split.query, keep_blank_values=False):
        if _CREDENTIAL_PARAMS.search(name) and len(param) >= 4:
            parts.append(param)
    host_and_path = split.netloc.rsplit("@", 1)[-1] + "/" + split.path
    for match in _TOKENISH.finditer(unquote(host_and_path)):
        if not _looks_like_host(match.group(0)):
            parts.append(match.group(0))
    return [p for p in parts if len(p) >= 4]


def _looks_like_host(text: str) -> bool:
    """example.com or smtp.gmail.com: a dotted name of words is an address, not a token."""
    return "." in text and all(piece.isalpha() for piece in text.split(".") if piece)
