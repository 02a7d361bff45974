"""No module is a copy of another (the predecessor's two broker modules drifted apart): the guard the
unique-file-name rule stood in for. Two checks over the package's syntax trees, with identifiers
replaced by one placeholder (so renaming variables does not hide a copy) and constants kept (so two
table lookups of the same shape with their own messages are not copies):

* no two functions of five statements or more have the same body;
* no two modules share more than half of their substantial statements.
"""

from __future__ import annotations

import ast
import hashlib
import itertools
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "catalyst"
MIN_FUNCTION_STATEMENTS = 5
MIN_MODULE_STATEMENTS = 15
MAX_SHARED_FRACTION = 0.5
#: A statement shorter than this (as a normalized dump) is too common to say anything (``x = 0``).
SUBSTANTIAL = 60


_IGNORED_FIELDS = frozenset({"ctx", "annotation", "returns", "type_comment", "type_params"})


def _shape(node: object) -> str:
    """``node`` as text, with every identifier and argument name replaced by one placeholder."""
    if isinstance(node, ast.Name):
        return "N"
    if isinstance(node, ast.arg):
        return "A"
    if isinstance(node, ast.AST):
        fields = (_shape(getattr(node, f, None)) for f in node._fields if f not in _IGNORED_FIELDS)
        return f"{type(node).__name__}({','.join(fields)})"
    if isinstance(node, list):
        return "[" + ",".join(_shape(n) for n in node) + "]"
    return repr(node)


def _body(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.stmt]:
    body = fn.body
    first = body[0] if body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return body[1:]
    return body


def copied_functions(sources: dict[str, str]) -> list[list[str]]:
    """Groups of functions (``module:line name``) whose bodies have the same shape."""
    seen: dict[str, list[str]] = defaultdict(list)
    for name, text in sources.items():
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            body = _body(node)
            statements = sum(isinstance(n, ast.stmt) for s in body for n in ast.walk(s))
            if statements < MIN_FUNCTION_STATEMENTS:
                continue
            key = hashlib.sha256("\n".join(_shape(s) for s in body).encode()).hexdigest()
            seen[key].append(f"{name}:{node.lineno} {node.name}")
    return [group for group in seen.values() if len(group) > 1]


def _statements(text: str) -> set[str]:
    """The shapes of a module's substantial statements: those at module level and those at the top of
    each function body (a nested block is inside its statement's shape)."""
    tree = ast.parse(text)
    tops: list[ast.stmt] = list(tree.body)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            tops.extend(_body(node))
    skip = (
        ast.Import,
        ast.ImportFrom,
        ast.FunctionDef,
        ast.AsyncFunctionDef,
        ast.ClassDef,
        ast.Pass,
        ast.Expr,
    )
    out: set[str] = set()
    for node in tops:
        if not isinstance(node, skip):
            shape = _shape(node)
            if len(shape) > SUBSTANTIAL:
                out.add(hashlib.sha1(shape.encode()).hexdigest())
    return out


def copied_modules(sources: dict[str, str]) -> list[tuple[str, str, float]]:
    """Pairs of modules sharing more than MAX_SHARED_FRACTION of the smaller one's statements."""
    shapes = {name: _statements(text) for name, text in sources.items()}
    pairs = []
    for a, b in itertools.combinations(sorted(shapes), 2):
        small = min(len(shapes[a]), len(shapes[b]))
        if small < MIN_MODULE_STATEMENTS:
            continue
        shared = len(shapes[a] & shapes[b]) / small
        if shared > MAX_SHARED_FRACTION:
            pairs.append((a, b, round(shared, 2)))
    return pairs


def _package_sources() -> dict[str, str]:
    return {str(p.relative_to(PACKAGE)): p.read_text(encoding="utf-8") for p in sorted(PACKAGE.rglob("*.py"))}


def test_no_two_functions_of_the_package_have_the_same_body() -> None:
    assert copied_functions(_package_sources()) == []


def test_no_module_of_the_package_is_mostly_a_copy_of_another() -> None:
    assert copied_modules(_package_sources()) == []


# the guard itself, on a copy made the way copies are made: renamed, re-documented, reordered a little

_ORIGINAL = '''
def place(session, order, timeout):
    """Place and wait."""
    ref = order.ref
    session.client.placeOrder(order.contract, order)
    waited = session.wait(lambda: session.acked(ref), timeout)
    if not waited:
        session.cancel(ref)
        raise TimeoutError(f"{ref} not acknowledged")
    session.record(ref, "acked")
    return ref
'''
_RENAMED = '''
def send_leg(s, leg, wait_s):
    """Send one leg."""
    ref = leg.ref
    s.client.placeOrder(leg.contract, leg)
    waited = s.wait(lambda: s.acked(ref), wait_s)
    if not waited:
        s.cancel(ref)
        raise TimeoutError(f"{ref} not acknowledged")
    s.record(ref, "acked")
    return ref
'''


def test_a_renamed_copy_of_a_function_is_caught() -> None:
    groups = copied_functions({"broker/a.py": _ORIGINAL, "broker/b.py": _RENAMED})
    assert groups == [["broker/a.py:2 place", "broker/b.py:2 send_leg"]]


def test_a_copied_module_is_caught_and_a_different_one_is_not() -> None:
    module = "\n".join(
        f'def f{n}(x, y):\n    total = compute(x, y, "{n}", scale={n})\n'
        f'    return total + other(y, x, "{n}")\n'
        for n in range(20)
    )
    edited = module.replace("def f3(", "def g3(") + "\nEXTRA = build_something(1, 2, 3)\n"
    assert [(a, b) for a, b, _ in copied_modules({"sim/one.py": module, "sim/two.py": edited})] == [
        ("sim/one.py", "sim/two.py")
    ]
    different = "\n".join(
        f'def f{n}(x, y):\n    total = compute(x, y, "other {n}", limit=x)\n'
        f'    return total + other(y, x, "not {n}")\n'
        for n in range(20)
    )
    assert copied_modules({"sim/one.py": module, "sim/three.py": different}) == []
