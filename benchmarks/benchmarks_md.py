"""BENCHMARKS.md is shared: each benchmark owns one section between its own markers."""

from __future__ import annotations

from pathlib import Path

#: The results file every benchmark writes its section into.
BENCHMARKS_MD = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"


def markers(name: str) -> tuple[str, str]:
    """The start and end markers of benchmark ``name``'s section (e.g. ``bench_gateway``)."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def write_section(name: str, text: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace ``name``'s section with ``text`` (appended at the end when it is not there yet);
    every other section is left as it is."""
    start, end = markers(name)
    body = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    section = f"{start}\n{text.rstrip()}\n{end}"
    if start in body and end in body:
        before, rest = body.split(start, 1)
        _, after = rest.split(end, 1)
        body = before + section + after
    else:
        body = body.rstrip() + "\n\n" + section + "\n"
    path.write_text(body, encoding="utf-8")
