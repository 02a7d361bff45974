"""Finding the trader's own strategies: folders, named modules and the ``catalyst.strategies`` entry points.

A :class:`StrategySearch` says where to look (it is a plain, picklable value, so a sweep's worker
process or Dask worker searches exactly where the notebook did). :func:`discover` imports what it
names and returns one :class:`FoundStrategy` per ``Strategy`` subclass defined there, with where it
came from and the files of its source; nothing is registered here (see ``strategy_registry``).

* a folder: every ``*.py`` file in it not starting with ``_``, imported as
  ``catalyst_strategies.<folder hash>.<file stem>``;
* a module: ``importlib.import_module(name)``;
* an entry point of group ``catalyst.strategies`` (``[project.entry-points."catalyst.strategies"]`` in
  a package's ``pyproject.toml``): it names a ``Strategy`` subclass, or a module holding some.

A file or module that fails to import is a :class:`StrategyLoadError` naming it and the error.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

from catalyst.research.errors import StrategyLoadError
from catalyst.research.strategy_base import Strategy

ENTRY_POINT_GROUP = "catalyst.strategies"
_FOLDER_PACKAGE = "catalyst_strategies"


@dataclass(frozen=True)
class StrategySearch:
    """Where the trader's strategies are looked for: absolute folders and importable module names."""

    folders: tuple[Path, ...] = ()
    modules: tuple[str, ...] = ()
    entry_points: bool = True

    @classmethod
    def from_settings(cls, settings: Any) -> StrategySearch:
        """The folders of ``research.strategy_paths`` (against the project root) and its modules."""
        research = settings.research
        return cls(
            folders=tuple(settings.resolve(Path(p)) for p in research.strategy_paths),
            modules=tuple(research.strategy_modules),
        )


@dataclass(frozen=True)
class FoundStrategy:
    """A strategy class, where it came from (for ``catalyst strategy list``) and its source files."""

    cls: type[Strategy]
    origin: str
    sources: tuple[Path, ...]


def discover(search: StrategySearch) -> list[FoundStrategy]:
    """Every strategy class the search names, folders first, then modules, then entry points."""
    found: list[FoundStrategy] = []
    for folder in search.folders:
        for path in _folder_files(folder):
            module = _import_file(path)
            found += [FoundStrategy(c, f"file {path}", (path,)) for c in _classes_of(module)]
    for name in search.modules:
        module = _import_module(name, f"module {name!r} (research.strategy_modules)")
        found += [FoundStrategy(c, f"module {name}", _source_files(c)) for c in _classes_of(module)]
    if search.entry_points:
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            found += list(_from_entry_point(ep))
    return found


def source_sha256(paths: tuple[Path, ...]) -> dict[str, str]:
    """The SHA-256 of each source file, by path (what a run manifest records)."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}


def _folder_files(folder: Path) -> list[Path]:
    if not folder.exists():
        return []
    if not folder.is_dir():
        raise StrategyLoadError(f"strategy folder {folder} is not a folder (research.strategy_paths)")
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))


def _module_name(path: Path) -> str:
    tag = hashlib.sha256(str(path.parent).encode()).hexdigest()[:10]
    return f"{_FOLDER_PACKAGE}.f{tag}.{path.stem}"


def _import_file(path: Path) -> ModuleType:
    name = _module_name(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    loaded = sys.modules.get(name)
    if loaded is not None and getattr(loaded, "__catalyst_sha256__", None) == digest:
        return loaded  # unchanged since imported: the same classes (an edited file is imported again)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise StrategyLoadError(f"strategy file {path} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    module.__dict__["__catalyst_sha256__"] = digest
    sys.modules[name] = module  # dataclasses and pickling look their module up here
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise StrategyLoadError(
            f"strategy file {path} failed to import: {type(exc).__name__}: {exc}"
        ) from exc
    return module


def _import_module(name: str, what: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except Exception as exc:
        raise StrategyLoadError(f"{what} failed to import: {type(exc).__name__}: {exc}") from exc


def _classes_of(module: ModuleType) -> list[type[Strategy]]:
    """The concrete Strategy subclasses defined in ``module`` itself (not imported into it)."""
    return [
        obj
        for _, obj in sorted(vars(module).items())
        if inspect.isclass(obj)
        and issubclass(obj, Strategy)
        and obj.__module__ == module.__name__
        and not inspect.isabstract(obj)
    ]


def _source_files(cls: type[Any]) -> tuple[Path, ...]:
    try:
        path = inspect.getsourcefile(cls)
    except TypeError:
        return ()
    return (Path(path).resolve(),) if path else ()


def _from_entry_point(ep: metadata.EntryPoint) -> Iterator[FoundStrategy]:
    dist = getattr(ep, "dist", None)
    where = f"entry point {ep.name} = {ep.value}" + (
        f" (package {dist.metadata['Name']} {dist.version})" if dist is not None else ""
    )
    try:
        obj = ep.load()
    except Exception as exc:
        raise StrategyLoadError(f"{where} failed to load: {type(exc).__name__}: {exc}") from exc
    if inspect.ismodule(obj):
        classes = _classes_of(obj)
    elif inspect.isclass(obj) and issubclass(obj, Strategy):
        classes = [obj]
    else:
        raise StrategyLoadError(f"{where} names {obj!r}, which is neither a Strategy subclass nor a module")
    for cls in classes:
        yield FoundStrategy(cls, where, _source_files(cls))
