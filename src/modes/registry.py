"""Component registry keyed by (kind, name): per component its factory, its config type and its
version.

Built-in components register themselves with :func:`register` (a decorator) or
:func:`register_component`. Third-party packages add components without touching this repository
through an entry point in the group ``modes.components`` named ``"<kind>:<name>"``, for example in
their pyproject::

    [project.entry-points."modes.components"]
    "backbone:convnext_tiny" = "my_pkg.backbones:build_convnext_tiny"
    "density:pca_bgm" = "my_pkg.density:COMPONENT"

The entry point's object is either a :class:`Component` (factory, attrs config type, how the run
configures it, version) or a plain factory. A component whose version is not given takes its
distribution's version (``importlib.metadata``), so releasing a new version of the package makes
the artifacts built on the old one stale: the version is part of every cache key
(:meth:`Component.key`).

What a factory of each kind takes and returns is in :mod:`modes.components.protocols`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Generic, TypeVar

import attrs

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
T = TypeVar("T")


@attrs.frozen
class ComponentKey:
    """What identifies a component's results in a cache key: kind, name, version and the config
    it was built with (None for a component configured by its arguments)."""

    kind: str
    name: str
    version: str
    config: Any = None


@attrs.frozen
class Component(Generic[T]):
    """A registered component.

    ``factory`` builds it: from one instance of ``config`` (an attrs class) when ``config`` is
    given, else from keyword arguments (the kind's protocol says which). ``configure`` derives the
    config from what the run knows (the kind's context, :mod:`modes.components.protocols`); without
    it the config's defaults are used. ``constructor`` is what :func:`create` calls with keyword
    arguments (default: ``factory``, through ``config`` when given). ``version`` is part of every
    cache key built on the component; empty means "not yet known" (an entry point's component
    takes its distribution's version).
    """

    kind: str
    name: str
    factory: Callable[..., T]
    config: type[Any] | None = None
    version: str = ""
    configure: Callable[[Any], Any] | None = None
    constructor: Callable[..., Any] | None = None

    def __attrs_post_init__(self) -> None:
        if self.kind not in KINDS:
            raise UnknownComponentError(
                f"unknown component kind {self.kind!r}; known kinds: {list(KINDS)}")
        if self.config is not None and not attrs.has(self.config):
            raise TypeError(f"{self.kind} {self.name!r}: config must be an attrs class, got "
                            f"{self.config!r}")

    def settings(self, context: Any) -> Any:
        """The config this run builds the component with (``configure(context)``, or the config
        type's defaults); None for a component without a config type."""
        if self.config is None:
            return None
        config = self.configure(context) if self.configure is not None else self.config()
        if not isinstance(config, self.config):
            raise TypeError(f"{self.kind} {self.name!r}: configure returned "
                            f"{type(config).__name__}, not its config type "
                            f"{self.config.__name__}")
        return config

    def build(self, config: Any) -> T:
        """The component built from ``config`` (an instance of :attr:`config`)."""
        if self.config is None:
            raise TypeError(f"{self.kind} {self.name!r} has no config type; build it with its "
                            f"arguments (registry.create)")
        if not isinstance(config, self.config):
            raise TypeError(f"{self.kind} {self.name!r} takes a {self.config.__name__}, got "
                            f"{type(config).__name__}")
        return self.factory(config)

    def create(self, **kwargs: Any) -> Any:
        """The component built from keyword arguments (the config's fields when it has one)."""
        if self.constructor is not None:
            return self.constructor(**kwargs)
        if self.config is not None:
            return self.factory(self.config(**kwargs))
        return self.factory(**kwargs)

    def key(self, config: Any = None) -> ComponentKey:
        """This component's part of a cache key, with the config it runs with."""
        return ComponentKey(self.kind, self.name, self.version or "0", config)


_REGISTRY: dict[str, dict[str, Component[Any]]] = {kind: {} for kind in KINDS}
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


def register_component(component: Component[Any]) -> Component[Any]:
    """Register ``component`` under its kind and name (a second, different one is an error)."""
    _check_kind(component.kind)
    existing = _REGISTRY[component.kind].get(component.name)
    if existing is not None and existing != component:
        raise ValueError(f"{component.kind} {component.name!r} is already registered by "
                         f"{existing.factory!r}")
    _REGISTRY[component.kind][component.name] = component
    return component


def register(kind: str, name: str, *, config: type[Any] | None = None, version: str = "1",
             configure: Callable[[Any], Any] | None = None) -> Callable[[F], F]:
    """Decorator registering ``factory`` as component ``name`` of ``kind``."""
    _check_kind(kind)

    def decorate(factory: F) -> F:
        register_component(Component(kind, name, factory, config=config, version=version,
                                     configure=configure))
        return factory

    return decorate


def _load_builtins() -> None:
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)


def _from_entry_point(ep: EntryPoint, kind: str, name: str) -> Component[Any]:
    loaded = ep.load()
    dist = getattr(ep, "dist", None)
    dist_version = str(getattr(dist, "version", "") or "")
    if isinstance(loaded, Component):
        if (loaded.kind, loaded.name) != (kind, name):
            raise ValueError(f"entry point {ep.name!r} holds the component "
                             f"{loaded.kind}:{loaded.name}, not {kind}:{name}")
        return loaded if loaded.version else attrs.evolve(loaded, version=dist_version)
    if not callable(loaded):
        raise TypeError(f"entry point {ep.name!r} ({ep.value}) is neither a "
                        f"modes.registry.Component nor a factory")
    return Component(kind, name, loaded, version=str(getattr(loaded, "version", dist_version)))


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
            _REGISTRY[kind][name] = _from_entry_point(ep, kind, name)
            _FROM_ENTRY_POINTS.add((kind, name))


def names(kind: str) -> list[str]:
    """Registered names of ``kind``, sorted."""
    _check_kind(kind)
    _load_all()
    return sorted(_REGISTRY[kind])


def component(kind: str, name: str) -> Component[Any]:
    """Component ``name`` of ``kind``; unknown names list the known ones."""
    _check_kind(kind)
    _load_all()
    try:
        return _REGISTRY[kind][name]
    except KeyError:
        raise UnknownComponentError(
            f"unknown {kind} {name!r}; known {kind} names: {sorted(_REGISTRY[kind])}"
        ) from None


def get(kind: str, name: str) -> Callable[..., Any]:
    """The factory registered as ``name`` of ``kind``; unknown names list the known ones."""
    return component(kind, name).factory


def create(kind: str, name: str, /, **kwargs: Any) -> Any:
    """Build component ``name`` of ``kind`` from keyword arguments (:meth:`Component.create`)."""
    return component(kind, name).create(**kwargs)


def catalogue() -> dict[str, list[str]]:
    """Every registered component, by kind."""
    _load_all()
    return {kind: sorted(entries) for kind, entries in _REGISTRY.items()}


@contextmanager
def scoped(entry_points: Iterable[EntryPoint] | None = None, *,
           installed: bool = False) -> Iterator[None]:
    """A scope whose registrations are undone when it ends (tests, notebooks). With
    ``entry_points``, the built-ins and these stand in for the installed entry points (as if a
    package declaring them were installed; a malformed one is the same error), e.g.::

        ep = EntryPoint("backbone:my_net", "my_pkg.backbones:build", ENTRY_POINT_GROUP)
        with registry.scoped([ep]):
            registry.create("backbone", "my_net", num_classes=10)

    With ``installed``, the installed entry points are read again (a distribution put on
    ``sys.path`` after the first lookup, e.g. by a test).
    """
    global _loaded, _entry_points
    _load_builtins()  # registered for good: their modules are imported once per process
    saved = {kind: dict(entries) for kind, entries in _REGISTRY.items()}
    saved_loaded, saved_source = _loaded, _entry_points
    saved_from = set(_FROM_ENTRY_POINTS)
    if entry_points is not None or installed:
        given = None if entry_points is None else list(entry_points)
        for kind, name in _FROM_ENTRY_POINTS:  # the installed ones step aside
            _REGISTRY[kind].pop(name, None)
        _FROM_ENTRY_POINTS.clear()
        _loaded = False
        _entry_points = _installed_entry_points if given is None else (lambda: given)
    try:
        yield
    finally:
        for kind, entries in _REGISTRY.items():
            entries.clear()
            entries.update(saved[kind])
        _FROM_ENTRY_POINTS.clear()
        _FROM_ENTRY_POINTS.update(saved_from)
        _loaded, _entry_points = saved_loaded, saved_source
