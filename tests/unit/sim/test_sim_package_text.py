"""Issue 4's check: a literal search for the IB client library's name finds it in catalyst/broker/ only."""

from __future__ import annotations

from pathlib import Path

import catalyst.sim

CLIENT_LIBRARY = "ib" + "_async"  # spelled apart so that this file is no hit of its own search


def test_the_simulator_never_names_the_ib_client_library() -> None:
    root = Path(catalyst.sim.__file__).parent
    hits = [
        f"{path.name}:{n}"
        for path in sorted(root.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if CLIENT_LIBRARY in line.lower()
    ]
    assert hits == []
