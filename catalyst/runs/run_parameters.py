"""``-p NAME VALUE`` parameters: parsed, checked against the notebook's parameters cell, never secret."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from catalyst.runs.runs_errors import BadRunParameterError

#: Parameters the runner injects into every notebook itself.
RUNNER_PARAMETERS = ("mode", "run_id")
_SECRET_NAME = re.compile(r"pass(word)?|secret|token|api[_-]?key|credential|private", re.IGNORECASE)


def parse_value(text: str) -> Any:
    """JSON when it parses (``3``, ``true``, ``["700","5"]``, ``{"max_positions": 3}``), else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_pairs(pairs: Sequence[Sequence[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        if len(pair) != 2:
            raise BadRunParameterError(f"-p takes a NAME and a VALUE, got {list(pair)}")
        name, value = pair
        if not name.isidentifier():
            raise BadRunParameterError(f"parameter name {name!r} is not a Python identifier")
        out[name] = parse_value(value)
    return out


def notebook_parameters(notebook: Path) -> dict[str, Any]:
    """The names and defaults of the notebook's tagged ``parameters`` cell (no kernel needed)."""
    import papermill

    found = papermill.inspect_notebook(str(notebook))
    return {name: info.get("default") for name, info in found.items()}


def check_parameters(
    given: dict[str, Any], known: Iterable[str], secrets: Iterable[str], *, notebook: str
) -> dict[str, Any]:
    """Refuse unknown names, runner-owned names, and anything that looks like or contains a secret."""
    known_set = set(known)
    for name, value in given.items():
        if name in RUNNER_PARAMETERS:
            raise BadRunParameterError(f"{name!r} is set by the runner (use --mode for the mode)")
        if name not in known_set:
            raise BadRunParameterError(
                f"{notebook} has no parameter {name!r}; its parameters: {', '.join(sorted(known_set))}"
            )
        if _SECRET_NAME.search(name):
            raise BadRunParameterError(
                f"parameter {name!r} looks like a secret; secrets come from environment variables only"
            )
        text = json.dumps(value, default=str)
        if any(s and s in text for s in secrets):
            raise BadRunParameterError(
                f"parameter {name!r} contains the value of a secret environment variable; "
                "secrets never go into notebook parameters (they would be archived)"
            )
    return given
