"""Code metrics for issue 11: long functions and large classes in the package.

Run: ``.venv/bin/python -m benchmarks.code_metrics [--max-lines 80] [--max-methods 40] [PATH]``.
Prints the module count, every function (or method) longer than ``--max-lines`` lines with its
length, and every class with more than ``--max-methods`` methods. A function's length is the span
of its ``def`` statement, ``lineno`` to ``end_lineno`` inclusive (decorators not counted); a
class's methods are the functions defined directly in its body. Reads the source only; imports
nothing of it.
"""

from __future__ import annotations

import argparse
import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass(frozen=True)
class Finding:
    """One function or class over a limit: where it is, its name and its size."""

    path: str
    line: int
    name: str
    size: int


def _qualified(tree: ast.Module) -> list[tuple[str, ast.AST]]:
    """Every function and class in a module, with its dotted name (Class.method, outer.inner)."""
    found: list[tuple[str, ast.AST]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (*_FUNCTIONS, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                found.append((name, child))
                visit(child, f"{name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def measure(package: Path, max_lines: int, max_methods: int) -> tuple[int, list[Finding], list[Finding]]:
    """The module count, the functions over ``max_lines`` and the classes over ``max_methods``."""
    modules = sorted(package.rglob("*.py"))
    long_functions: list[Finding] = []
    large_classes: list[Finding] = []
    for path in modules:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = str(path.relative_to(package.parent))
        for name, node in _qualified(tree):
            if isinstance(node, _FUNCTIONS):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > max_lines:
                    long_functions.append(Finding(where, node.lineno, name, length))
            elif isinstance(node, ast.ClassDef):
                methods = sum(isinstance(child, _FUNCTIONS) for child in node.body)
                if methods > max_methods:
                    large_classes.append(Finding(where, node.lineno, name, methods))
    long_functions.sort(key=lambda f: -f.size)
    large_classes.sort(key=lambda f: -f.size)
    return len(modules), long_functions, large_classes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", nargs="?", type=Path, default=ROOT / "catalyst")
    parser.add_argument("--max-lines", type=int, default=80)
    parser.add_argument("--max-methods", type=int, default=40)
    args = parser.parse_args(argv)
    count, long_functions, large_classes = measure(args.package, args.max_lines, args.max_methods)
    print(f"modules: {count}")
    print(f"functions over {args.max_lines} lines: {len(long_functions)}")
    for f in long_functions:
        print(f"  {f.size:4d}  {f.path}:{f.line}  {f.name}")
    print(f"classes over {args.max_methods} methods: {len(large_classes)}")
    for c in large_classes:
        print(f"  {c.size:4d}  {c.path}:{c.line}  {c.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
