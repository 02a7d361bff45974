"""benchmarks/code_metrics.py measures what issue 11 limits: function lengths and class sizes."""

from __future__ import annotations

from pathlib import Path

from benchmarks.code_metrics import measure


def _write(package: Path, name: str, source: str) -> None:
    package.mkdir(parents=True, exist_ok=True)
    (package / name).write_text(source, encoding="utf-8")


def test_a_function_longer_than_the_limit_is_named_with_its_length(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    body = "".join(f"    x{i} = {i}\n" for i in range(10))
    _write(package, "long.py", f"def long():\n{body}\n\ndef short():\n    return 1\n")
    modules, functions, classes = measure(package, max_lines=10, max_methods=40)
    assert modules == 1
    assert [(f.path, f.line, f.name, f.size) for f in functions] == [("pkg/long.py", 1, "long", 11)]
    assert classes == []


def test_methods_and_nested_functions_are_measured_under_their_dotted_names(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    inner = "".join(f"            y{i} = {i}\n" for i in range(5))
    _write(package, "cls.py", f"class C:\n    def m(self):\n        def inner():\n{inner}        return 1\n")
    _, functions, _ = measure(package, max_lines=5, max_methods=40)
    assert [(f.name, f.size) for f in functions] == [("C.m", 8), ("C.m.inner", 6)]


def test_a_class_with_more_methods_than_the_limit_is_counted_by_its_own_methods(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    methods = "".join(f"    def m{i}(self):\n        return {i}\n" for i in range(4))
    _write(package, "big.py", f"class Big:\n{methods}\nclass Small:\n    def only(self):\n        return 0\n")
    _, _, classes = measure(package, max_lines=80, max_methods=3)
    assert [(c.name, c.size) for c in classes] == [("Big", 4)]
