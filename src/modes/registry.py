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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from importlib.metadata import EntryPoint, entry_points
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
_FROM_ENTRY_POINTS: set[tuple[str, str]] = set()  # (kind, name) registered by an entry point


def _installed_entry_points() -> Iterable[EntryPoint]:
    return entry_points(group=ENTRY_POINT_GROUP)


_entry_points: Callable[[], Iterable[EntryPoint]] = _installed_entry_points


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


def _load_builtins() -> None:
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    _load_builtins()
    for ep in _entry_points():
        kind, sep, name = ep.name.partition(":")
        if not sep or kind not in _REGISTRY:
            raise ValueError(
                f"entry point {ep.name!r} in group {ENTRY_POINT_GROUP!r} must be named "
                f"'<kind>:<name>' with kind in {list(KINDS)}"
            )
        if name not in _REGISTRY[kind]:
            _REGISTRY[kind][name] = ep.load()
            _FROM_ENTRY_POINTS.add((kind, name))


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


@contextmanager
def scoped(entry_points: Iterable[EntryPoint] | None = None) -> Iterator[None]:
    """A scope whose registrations are undone when it ends (tests, notebooks). With
    ``entry_points``, the built-ins and these stand in for the installed entry points (as if a
    package declaring them were installed; a malformed one is the same error), e.g.::

        ep = EntryPoint("backbone:my_net", "my_pkg.backbones:build", ENTRY_POINT_GROUP)
        with registry.scoped([ep]):
            registry.create("backbone", "my_net", num_classes=10)
    """
    global _loaded, _entry_points
    _load_builtins()  # registered for good: their modules are imported once per process
    saved = {kind: dict(entries) for kind, entries in _REGISTRY.items()}
    saved_loaded, saved_source = _loaded, _entry_points
    saved_from = set(_FROM_ENTRY_POINTS)
    if entry_points is not None:
        given = list(entry_points)
        for kind, name in _FROM_ENTRY_POINTS:  # the installed ones step aside
            _REGISTRY[kind].pop(name, None)
        _FROM_ENTRY_POINTS.clear()
        _entry_points, _loaded = (lambda: given), False
    try:
        yield
    finally:
        for kind, entries in _REGISTRY.items():
            entries.clear()
            entries.update(saved[kind])
        _FROM_ENTRY_POINTS.clear()
        _FROM_ENTRY_POINTS.update(saved_from)
        _loaded, _entry_points = saved_loaded, saved_source
