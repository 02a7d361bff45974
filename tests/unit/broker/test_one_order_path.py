"""There is one order path (broker/placement.py: place, prove, cancel), and no callback into the session.

Read from the source (an AST walk over catalyst/), so a second path cannot creep in unnoticed.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[3] / "catalyst"
PLACEMENT = "broker/placement.py"
#: the flows that send orders, each through OrderPlacer.place
SENDERS = {"broker/bracket_submit.py", "broker/protection.py", "broker/exit_sender.py"}


@functools.cache
def _modules() -> dict[str, ast.Module]:
    return {
        str(p.relative_to(PACKAGE)): ast.parse(p.read_text(encoding="utf-8"), filename=str(p))
        for p in PACKAGE.rglob("*.py")
    }


def _callers(attribute: str) -> dict[str, int]:
    """Modules that call ``<something>.<attribute>(...)`` or ``<attribute>(...)``, with how often."""
    found: dict[str, int] = {}
    for name, tree in _modules().items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called == attribute:
                found[name] = found.get(name, 0) + 1
    return found


def test_only_the_placement_module_calls_ib_async_place_order() -> None:
    assert _callers("placeOrder") == {PLACEMENT: 1}


def test_only_the_placement_module_cancels_single_orders() -> None:
    assert set(_callers("cancelOrder")) == {PLACEMENT}


def test_only_the_placement_module_takes_order_ids_and_builds_orders_to_send() -> None:
    assert set(_callers("getReqId")) == {PLACEMENT}
    assert set(_callers("ib_order")) == {PLACEMENT}
    assert set(_callers("wire_leg")) == {PLACEMENT}


def test_brackets_protection_and_exits_all_place_through_the_placer() -> None:
    placing = {
        name
        for name, tree in _modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "place"
        and isinstance(node.func.value, ast.Attribute)
        and node.func.value.attr == "placer"
    }
    assert placing == SENDERS


def test_the_senders_take_no_callback_and_never_import_the_session() -> None:
    """The submitter decides a flatten itself and sends it through the exit sender: no hook."""
    for name in SENDERS | {PLACEMENT}:
        tree = _modules()[name]
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert "catalyst.broker.session" not in imported, name
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == "__init__":
                annotations = [
                    ast.unparse(a.annotation) for a in node.args.kwonlyargs + node.args.args if a.annotation
                ]
                assert not [a for a in annotations if "Callable" in a or "Awaitable" in a], (
                    name,
                    annotations,
                )
