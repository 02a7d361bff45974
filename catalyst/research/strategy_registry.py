"""Strategies by name: the built-in ones, the trader's ``strategies/`` folder, named modules and the
``catalyst.strategies`` entry points, so a name means the same code in the research notebook, the
backtester, a sweep's workers, the trading cycle, the schedule and the review's comparison.

The trader's strategies are found on the first lookup (``get_strategy``, ``list_strategies``...),
where the settings say (``research.strategy_paths``, default ``strategies/`` at the project root;
``research.strategy_modules``), see :mod:`catalyst.research.strategy_loader`. A name defined twice
(a folder file and an entry point, or a built-in) is a :class:`StrategyLoadError` naming both places.
``use_search`` points the lookup elsewhere (a sweep's worker gets its parent's search this way).
A research module can still add a class with ``@register_strategy``.
"""

from __future__ import annotations

import dataclasses
import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from catalyst.research.errors import StrategyLoadError, UnknownStrategyError
from catalyst.research.momentum import MomentumStrategy
from catalyst.research.strategy_base import Strategy
from catalyst.research.strategy_loader import StrategySearch, discover, source_sha256

S = TypeVar("S", bound=type[Strategy])


@dataclass(frozen=True)
class StrategyInfo:
    """A registered strategy: its class, where it came from, its source files and their SHA-256."""

    name: str
    cls: type[Strategy]
    origin: str
    sources: tuple[Path, ...] = ()
    sha256: dict[str, str] = field(default_factory=dict)

    def defaults(self) -> dict[str, Any]:
        """Each parameter and its default (a dataclass ``params_type``; empty otherwise)."""
        params: Any = getattr(self.cls, "params_type", None)
        if params is None or not (isinstance(params, type) and dataclasses.is_dataclass(params)):
            return {}
        try:
            instance = params()
        except Exception:  # a parameter without a default: `strategy list` still shows the rest
            return {f.name: getattr(f, "default", None) for f in dataclasses.fields(params)}
        return {f.name: getattr(instance, f.name) for f in dataclasses.fields(params)}

    def fingerprint(self) -> str:
        """One SHA-256 over the source files' hashes: equal fingerprints, the same code."""
        import hashlib

        joined = "\n".join(f"{Path(p).name}:{h}" for p, h in sorted(self.sha256.items()))
        return hashlib.sha256(joined.encode()).hexdigest()


_BUILT_IN: dict[str, StrategyInfo] = {}
_ADDED: dict[str, StrategyInfo] = {}
_LOCK = threading.RLock()
_state: dict[str, Any] = {"search": None, "timeout": None, "key": None, "found": None}


def _info(cls: type[Strategy], origin: str, sources: tuple[Path, ...] | None = None) -> StrategyInfo:
    if sources is None:
        path = inspect.getsourcefile(cls)
        sources = (Path(path).resolve(),) if path else ()
    return StrategyInfo(cls.name, cls, origin, sources, source_sha256(sources))


def _check_name(cls: type[Any], where: str) -> str:
    name = getattr(cls, "name", "")
    if not isinstance(name, str) or not name.strip():
        raise StrategyLoadError(f"{cls.__qualname__} ({where}) must set a class attribute `name`")
    return name


def register_strategy(cls: S) -> S:
    """Class decorator: make ``cls`` available as ``get_strategy(cls.name)``."""
    name = _check_name(cls, cls.__module__)
    with _LOCK:
        existing = _BUILT_IN.get(name) or _ADDED.get(name)
        if existing is not None and existing.cls is not cls:
            raise StrategyLoadError(
                f"strategy name {name!r} is defined twice: by {existing.origin} and by "
                f"{cls.__module__}.{cls.__qualname__}"
            )
        if existing is None:
            _ADDED[name] = _info(cls, f"registered by {cls.__module__}")
    return cls


def use_search(search: StrategySearch | None, *, timeout: float | None = None) -> None:
    """Look for the trader's strategies per ``search`` from now on (``None``: per the settings again)."""
    with _LOCK:
        _state.update(search=search, timeout=timeout, key=None, found=None)


def configure_from_settings(settings: Any) -> None:
    """Search where ``settings`` say, with their ``research.strategy_timeout_seconds``."""
    use_search(StrategySearch.from_settings(settings), timeout=settings.research.strategy_timeout_seconds)


def _resolved() -> tuple[StrategySearch, float | None]:
    """The search and time limit in use: those of :func:`use_search`, else the current settings'."""
    with _LOCK:
        if _state["search"] is not None:
            return _state["search"], _state["timeout"]
    from catalyst.config import load_settings

    settings = load_settings()
    return StrategySearch.from_settings(settings), settings.research.strategy_timeout_seconds


def current_search() -> StrategySearch:
    """The search in use (the settings' one unless :func:`use_search` set another)."""
    return _resolved()[0]


def current_timeout() -> float | None:
    """The time limit given to every strategy ``get_strategy`` builds (seconds; ``None``: none)."""
    return _resolved()[1]


def _stamp(search: StrategySearch) -> tuple[Any, ...]:
    """What changes when a strategy file is added, removed or edited (so a notebook sees the edit)."""
    out: list[Any] = [search]
    for folder in search.folders:
        if folder.is_dir():
            out += [(p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(folder.glob("*.py"))]
    return tuple(out)


def _found() -> dict[str, StrategyInfo]:
    search = current_search()
    key = _stamp(search)
    with _LOCK:
        if _state["key"] != key:
            table: dict[str, StrategyInfo] = {}
            for f in discover(search):
                name = _check_name(f.cls, f.origin)
                info = _info(f.cls, f.origin, f.sources)
                earlier = _BUILT_IN.get(name) or table.get(name)
                if earlier is not None and earlier.cls is not f.cls:
                    raise StrategyLoadError(
                        f"strategy name {name!r} is defined twice: by {earlier.origin} and by {info.origin}; "
                        "rename one (its class attribute `name`)"
                    )
                table[name] = info
            _state.update(key=key, found=table)
        found: dict[str, StrategyInfo] = _state["found"]
        return found


def _all() -> dict[str, StrategyInfo]:
    found = _found()
    with _LOCK:
        for name, added in _ADDED.items():
            other = found.get(name)
            if other is not None and other.cls is not added.cls:
                raise StrategyLoadError(
                    f"strategy name {name!r} is defined twice: by {other.origin} and {added.origin}"
                )
        return {**_ADDED, **found, **_BUILT_IN}


def strategy_infos() -> list[StrategyInfo]:
    """Every strategy, sorted by name, with where it came from."""
    return [info for _, info in sorted(_all().items())]


def list_strategies() -> list[str]:
    """Registered strategy names, sorted."""
    return sorted(_all())


def strategy_info(name: str) -> StrategyInfo:
    """The registered strategy ``name`` (unknown names raise, listing the known ones)."""
    found = _all()
    info = found.get(str(name).strip())
    if info is None:
        raise UnknownStrategyError(
            f"no strategy named {name!r}; registered: {', '.join(sorted(found))} "
            "(your own go in strategies/ at the project root: `catalyst strategy new NAME`)"
        )
    return info


def get_strategy(name: str, **params: Any) -> Strategy:
    """A strategy instance by name, with parameter overrides (unknown names raise)."""
    info = strategy_info(name)
    strategy = info.cls(**params)
    strategy.signal_timeout = current_timeout()
    return strategy


def strategy_factory(name: str) -> Callable[..., Strategy]:
    """The constructor registered under ``name`` (for sweeps that build many parameter sets)."""
    return strategy_info(name).cls


def provenance(name: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a run records of its strategy: name, origin, parameters (defaults + overrides), hashes."""
    info = strategy_info(name)
    strategy = get_strategy(name, **dict(params or {}))
    described = {k: v for k, v in strategy.describe().items() if k != "strategy"}
    return {
        "name": info.name,
        "origin": info.origin,
        "params": {
            k: str(v) if not isinstance(v, (int, float, bool, str)) else v for k, v in described.items()
        },
        "sources": dict(info.sha256),
        "fingerprint": info.fingerprint(),
    }


_BUILT_IN[MomentumStrategy.name] = _info(MomentumStrategy, "built-in (catalyst.research.momentum)")
