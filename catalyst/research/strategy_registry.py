"""Strategies by name, so a notebook parameter (``strategy = "catalyst-momentum"``) selects one.

Built-in strategies register themselves when this module is imported; a research module of the
user's can add its own with ``@register_strategy``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from catalyst.research.momentum import MomentumStrategy
from catalyst.research.research_errors import UnknownStrategyError
from catalyst.research.strategy_base import Strategy

S = TypeVar("S", bound=type[Strategy])

_REGISTRY: dict[str, type[Strategy]] = {}


def register_strategy(cls: S) -> S:
    """Class decorator: make ``cls`` available as ``get_strategy(cls.name)``."""
    name = getattr(cls, "name", "")
    if not name:
        raise ValueError(f"{cls.__name__} must set a class attribute `name` to be registered")
    existing = _REGISTRY.get(name)
    if existing is not None and existing is not cls:
        raise ValueError(f"strategy name {name!r} is already taken by {existing.__qualname__}")
    _REGISTRY[name] = cls
    return cls


def list_strategies() -> list[str]:
    """Registered strategy names, sorted."""
    return sorted(_REGISTRY)


def get_strategy(name: str, **params: Any) -> Strategy:
    """A strategy instance by name, with parameter overrides (unknown names raise)."""
    cls = _REGISTRY.get(str(name).strip())
    if cls is None:
        raise UnknownStrategyError(f"no strategy named {name!r}; registered: {', '.join(list_strategies())}")
    return cls(**params)


def strategy_factory(name: str) -> Callable[..., Strategy]:
    """The constructor registered under ``name`` (for sweeps that build many parameter sets)."""
    get_strategy(name)  # raises with the list of names when unknown
    return _REGISTRY[name]


register_strategy(MomentumStrategy)
