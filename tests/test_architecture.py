"""The shape of the package is a tested property (rule 4 and docs/architecture.md, the map)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "catalyst"


def _imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _notebook_sources() -> list[tuple[Path, str]]:
    out = []
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        out.append((nb, "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")))
    return out


def test_only_the_broker_package_imports_ib_async() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in PACKAGE.rglob("*.py")
        if "broker" not in p.relative_to(PACKAGE).parts[:1]
        and any(n == "ib_async" or n.startswith("ib_async.") for n in _imports_of(p))
    ]
    assert offenders == [], f"ib_async imported outside catalyst/broker/: {offenders}"


def test_broker_package_really_is_the_one_that_imports_ib_async() -> None:
    """Guards the test above against passing vacuously (e.g. a renamed package)."""
    users = [p for p in (PACKAGE / "broker").rglob("*.py") if "ib_async" in " ".join(_imports_of(p))]
    assert users, "catalyst/broker/ should import ib_async"


def test_notebooks_never_import_ib_async() -> None:
    pattern = re.compile(r"^\s*(import ib_async|from ib_async)", re.MULTILINE)
    offenders = [str(nb.relative_to(ROOT)) for nb, src in _notebook_sources() if pattern.search(src)]
    assert offenders == []


def test_no_module_outside_the_package_shadows_a_package_module() -> None:
    package_names = {p.name for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"}
    for folder in ("benchmarks", "notebooks"):
        for p in (ROOT / folder).rglob("*.py"):
            assert p.name not in package_names or p.name == "__init__.py", (
                f"{p.relative_to(ROOT)} duplicates a package module name"
            )


ARCHITECTURE_MAP = ROOT / "docs" / "architecture.md"
_MAPPED = re.compile(r"`((?:[a-z_]+/)*[a-z_]+\.py)")


def _package_modules() -> set[str]:
    return {
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if p.name not in {"__init__.py", "__main__.py"}
    }


def test_every_module_of_the_package_is_on_the_architecture_map() -> None:
    """The map is the repository's own (docs/architecture.md) and is kept true with the code."""
    named = set(_MAPPED.findall(ARCHITECTURE_MAP.read_text(encoding="utf-8")))
    missing = sorted(_package_modules() - named)
    assert missing == [], f"modules not on docs/architecture.md: {missing}"


def test_the_architecture_map_names_no_module_that_does_not_exist() -> None:
    named = set(_MAPPED.findall(ARCHITECTURE_MAP.read_text(encoding="utf-8")))
    stale = sorted(n for n in named if not (PACKAGE / n).is_file() and not (ROOT / n).is_file())
    assert stale == [], f"docs/architecture.md names modules that do not exist: {stale}"


def test_the_maps_layer_table_is_the_one_import_linter_enforces() -> None:
    """The old map's layer table disagreed with the contract; now the test holds them together."""
    import tomllib

    contract = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    layers = next(c["layers"] for c in contract["contracts"] if c["type"] == "layers")
    enforced = [sorted(part.strip() for part in layer.split(":")) for layer in layers]
    table = re.findall(r"^\| \d+ \| (.+?) \|", ARCHITECTURE_MAP.read_text(encoding="utf-8"), flags=re.M)
    mapped = [sorted(re.findall(r"`(catalyst\.[a-z]+)`", row)) for row in table]
    assert mapped == enforced
