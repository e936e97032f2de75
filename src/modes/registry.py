"""Component registry keyed by (kind, name).

Built-in components register themselves with :func:`register`. Third-party packages add
components without touching this repository by exposing an entry point in the group
``modes.components`` whose name is ``"<kind>:<name>"`` (e.g. ``"backbone:convnext_tiny"``) and whose
value is the factory, for example in their pyproject::

    [project.entry-points."modes.components"]
    "backbone:convnext_tiny" = "my_pkg.backbones:build_convnext_tiny"
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, TypeVar

ENTRY_POINT_GROUP = "modes.components"
KINDS = ("backbone", "dataset", "tap", "reducer", "density", "memorization", "certifier")

# Modules whose import registers the built-in components.
_BUILTIN_MODULES = (
    "modes.components.backbones",
    "modes.components.taps",
    "modes.data",
    "modes.components.reducer",
    "modes.components.density",
    "modes.components.memorization",
    "modes.components.certification",
)

F = TypeVar("F", bound=Callable[..., Any])
_REGISTRY: dict[str, dict[str, Callable[..., Any]]] = {kind: {} for kind in KINDS}
_loaded = False


class UnknownComponentError(ValueError):
    """A component name that is not registered; the message lists the known names."""


def _check_kind(kind: str) -> None:
    if kind not in _REGISTRY:
        raise UnknownComponentError(f"unknown component kind {kind!r}; known kinds: {list(KINDS)}")


def register(kind: str, name: str) -> Callable[[F], F]:
    """Decorator registering ``factory`` as component ``name`` of ``kind``."""
    _check_kind(kind)

    def decorate(factory: F) -> F:
        existing = _REGISTRY[kind].get(name)
        if existing is not None and existing is not factory:
            raise ValueError(f"{kind} {name!r} is already registered by {existing!r}")
        _REGISTRY[kind][name] = factory
        return factory

    return decorate


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        kind, sep, name = ep.name.partition(":")
        if not sep or kind not in _REGISTRY:
            raise ValueError(
                f"entry point {ep.name!r} in group {ENTRY_POINT_GROUP!r} must be named "
                f"'<kind>:<name>' with kind in {list(KINDS)}"
            )
        _REGISTRY[kind].setdefault(name, ep.load())


def names(kind: str) -> list[str]:
    """Registered names of ``kind``, sorted."""
    _check_kind(kind)
    _load_all()
    return sorted(_REGISTRY[kind])


def get(kind: str, name: str) -> Callable[..., Any]:
    """The factory registered as ``name`` of ``kind``; unknown names list the known ones."""
    _check_kind(kind)
    _load_all()
    try:
        return _REGISTRY[kind][name]
    except KeyError:
        raise UnknownComponentError(
            f"unknown {kind} {name!r}; known {kind} names: {sorted(_REGISTRY[kind])}"
        ) from None


def create(kind: str, name: str, /, **kwargs: Any) -> Any:
    """Build component ``name`` of ``kind`` with ``kwargs``."""
    return get(kind, name)(**kwargs)


def catalogue() -> dict[str, list[str]]:
    """Every registered component, by kind."""
    _load_all()
    return {kind: sorted(entries) for kind, entries in _REGISTRY.items()}
