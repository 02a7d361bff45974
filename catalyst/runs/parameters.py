"""``-p NAME VALUE`` parameters: typed by the notebook's own defaults, checked, never secret.

The notebook's tagged ``parameters`` cell is the specification: each default's type is the type the
parameter takes. ``-p dry_run maybe`` is refused (``dry_run = False`` takes true or false),
``-p lookback_days abc`` is refused (a whole number), ``-p universe 700`` is the text ``"700"``
(``universe = ""`` is text). Refused before the run starts: no folder, no gateway, nothing sent.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from catalyst.runs.errors import BadRunParameterError

#: Parameters the runner injects into every notebook itself.
RUNNER_PARAMETERS = ("mode", "run_id")
_SECRET_NAME = re.compile(r"pass(word)?|secret|token|api[_-]?key|credential|private", re.IGNORECASE)


class Untyped:
    """The default of a parameter whose default is not a literal (any JSON or text is taken)."""

    def __repr__(self) -> str:
        return "<not a literal>"


UNTYPED = Untyped()


def parse_value(text: str) -> Any:
    """JSON when it parses (``3``, ``true``, ``["700","5"]``, ``{"max_positions": 3}``), else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_pairs(pairs: Sequence[Sequence[str]]) -> dict[str, str]:
    """``{name: text}`` of the ``-p NAME VALUE`` pairs; a name given twice is refused."""
    out: dict[str, str] = {}
    for pair in pairs:
        if len(pair) != 2:
            raise BadRunParameterError(f"-p takes a NAME and a VALUE, got {list(pair)}")
        name, value = pair
        if not name.isidentifier():
            raise BadRunParameterError(f"parameter name {name!r} is not a Python identifier")
        if name in out:
            raise BadRunParameterError(f"parameter {name!r} is given twice ({out[name]!r} and {value!r})")
        out[name] = value
    return out


def literal_default(source: str | None) -> Any:
    """The value of a default as written in the parameters cell (``'"sim"'`` → ``"sim"``)."""
    if source is None:
        return UNTYPED
    try:
        return ast.literal_eval(source)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return UNTYPED


def notebook_parameters(notebook: Path) -> dict[str, Any]:
    """The names and default values of the notebook's tagged ``parameters`` cell (no kernel needed)."""
    import papermill

    found = papermill.inspect_notebook(str(notebook))
    return {name: literal_default(info.get("default")) for name, info in found.items()}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return 'a JSON object such as {"name": 1}'
    if isinstance(value, list | tuple):
        return "a JSON list such as [1, 2]"
    return type(value).__name__


def typed_value(name: str, text: str, default: Any) -> Any:
    """``text`` as a value of the default's type, or :class:`BadRunParameterError` saying what it takes."""
    if default is UNTYPED or default is None:
        return parse_value(text)
    value = parse_value(text)
    ok: bool
    if isinstance(default, bool):
        lowered = text.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        ok = False
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif isinstance(default, str):
        if isinstance(value, str):
            return value  # plain text, or a JSON string literal ("\"700\"")
        if not isinstance(value, dict | list):
            return text.strip()  # 700, 5.5, true, null: text that happens to look like JSON
        ok = False
    elif isinstance(default, dict):
        ok = isinstance(value, dict)
    elif isinstance(default, list | tuple):
        ok = isinstance(value, list)
    else:
        ok = type(value) is type(default)
    if not ok:
        raise BadRunParameterError(
            f"parameter {name} takes {_kind(default)} (its default is {json.dumps(default)}), got {text!r}"
        )
    return value


def check_parameters(
    given: Mapping[str, str], defaults: Mapping[str, Any], secrets: Iterable[str], *, notebook: str
) -> dict[str, Any]:
    """The typed parameters: unknown names, runner-owned names, values of the wrong type, and anything
    that looks like or contains a secret are refused."""
    out: dict[str, Any] = {}
    secret_values = [s for s in secrets if s]
    for name, text in given.items():
        if name in RUNNER_PARAMETERS:
            raise BadRunParameterError(f"{name!r} is set by the runner (use --mode for the mode)")
        if name not in defaults:
            raise BadRunParameterError(
                f"{notebook} has no parameter {name!r}; its parameters: "
                + ", ".join(sorted(n for n in defaults if n not in RUNNER_PARAMETERS))
            )
        if _SECRET_NAME.search(name):
            raise BadRunParameterError(
                f"parameter {name!r} looks like a secret; secrets come from environment variables only"
            )
        if any(s in text for s in secret_values):
            raise BadRunParameterError(
                f"parameter {name!r} contains the value of a secret environment variable; "
                "secrets never go into notebook parameters (they would be archived)"
            )
        out[name] = typed_value(name, text, defaults[name])
    return out
