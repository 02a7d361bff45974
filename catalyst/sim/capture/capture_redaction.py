"""Redaction of a TWS capture: account ids, names and secret-looking values out of the file.

Only the copy written to the capture file is redacted; the proxy forwards the original bytes. Each
distinct value gets a stable placeholder (``<account-1>``, ``<name-1>``, ``<secret-1>``) so a reader
can still follow one account through the session, and so ``catalyst gateway conform`` can map the
placeholders onto the accounts of the simulator it replays against (:meth:`Redactor.restore`).

What counts as sensitive:

- an IB account id anywhere in any field: ``U``, ``DU``, ``F`` or ``DF`` followed by 4 or more digits;
- the value of an account key/value message (updateAccountValue, accountSummary, accountUpdateMulti)
  whose key names a person (``...Name``, ``...Owner``, ``...Alias``), and the whole FA configuration
  (receiveFA), which lists names;
- a field that looks like a secret: it mentions a password, token or secret, or is a long
  unbroken run (24+ characters) of letters and digits mixing both, as keys and tokens are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

ACCOUNT_ID = re.compile(r"(?<![A-Za-z0-9])(?:DU|DF|U|F)\d{4,}(?![0-9])")
_SECRET_WORD = re.compile(r"(?i)pass(?:word|wd)|token|secret")
_TOKEN = re.compile(r"^[A-Za-z0-9+/=_\-]{24,}$")
_NAME_KEY = re.compile(r"(?i)(name|owner|alias)$")
#: one pass over a whole frame: could anything in it need redacting? (most frames: no)
_ANYTHING = re.compile(
    r"(?<![A-Za-z0-9])(?:DU|DF|U|F)\d{4,}(?![0-9])|(?i:pass(?:word|wd)|token|secret)"
    r"|(?:^|\0)[A-Za-z0-9+/=_\-]{24,}(?:\0|$)"
)
_PLACEHOLDER = re.compile(r"<(account|name|secret)-(\d+)>")

#: answers whose fields are (id, version, key, value, ...) or carry a key at a known position
_KEY_VALUE_AT: dict[str, tuple[int, int]] = {
    # message name: (index of the key, index of the value)
    "updateAccountValue": (2, 3),
    "accountSummary": (4, 5),
    "accountUpdateMulti": (5, 6),
}
_WHOLLY_PRIVATE = frozenset({"receiveFA", "userInfo"})


class Redactor:
    """Replaces sensitive values by stable placeholders; remembers the mapping (in memory only)."""

    def __init__(self) -> None:
        self._placeholders: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    def redact(self, name: str, fields: Sequence[str]) -> list[str]:
        special = name in _WHOLLY_PRIVATE or name in _KEY_VALUE_AT
        if not special and not _ANYTHING.search("\0".join(fields)):
            return list(fields)
        out = [self._field(value) for value in fields]
        if name in _WHOLLY_PRIVATE:
            out = out[:2] + [self._placeholder("name", value) for value in fields[2:]]
        key_value = _KEY_VALUE_AT.get(name)
        if key_value is not None and len(fields) > key_value[1] and _NAME_KEY.search(fields[key_value[0]]):
            out[key_value[1]] = self._placeholder("name", fields[key_value[1]])
        return out

    def restore(self, fields: Sequence[str]) -> list[str]:
        """Put the values this redactor has seen back in place of their placeholders."""
        originals = {placeholder: value for value, placeholder in self._placeholders.items()}
        return [_PLACEHOLDER.sub(lambda m: originals.get(m.group(0), m.group(0)), f) for f in fields]

    def _field(self, value: str) -> str:
        if _SECRET_WORD.search(value) or (_TOKEN.match(value) and _mixes_letters_and_digits(value)):
            return self._placeholder("secret", value)
        return ACCOUNT_ID.sub(lambda m: self._placeholder("account", m.group(0)), value)

    def _placeholder(self, kind: str, value: str) -> str:
        if value == "":
            return value
        known = self._placeholders.get(value)
        if known is not None:
            return known
        self._counts[kind] = self._counts.get(kind, 0) + 1
        placeholder = f"<{kind}-{self._counts[kind]}>"
        self._placeholders[value] = placeholder
        return placeholder


def _mixes_letters_and_digits(value: str) -> bool:
    return any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
