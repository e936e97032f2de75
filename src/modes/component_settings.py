"""Settings of registered components, given like the profile's knobs:
``--modes-set component.KIND.NAME.FIELD=VALUE`` (e.g. ``component.density.pca_bgm.components=5``;
a field of a nested attrs config by its dotted path:
``component.density.dpgmm.sampler.split_merge=2``).

A component registered with an attrs config type (:class:`modes.registry.Component`, built-in or
from a third party's entry point) is configured by the run (``configure(context)``); a setting
then changes one field of that config. It is checked against the config type when the run
starts (unknown kind, component or field, a value of the wrong type: a :class:`ProfileError`
naming the setting; a value the config's validators reject, when the config is built), recorded
with the overrides (report header, run key), and part of the component's cache key, since the
key holds the config the component runs with.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable
from typing import Any

import attrs

from modes import registry
from modes.scale import COMPONENT_ROOT, Override, ProfileError, convert_field

# the kinds the scenario builds from their config type (Component.settings, then build): the
# others are built from their arguments, so a setting of theirs would change nothing
CONFIGURED_KINDS = ("density", "memorization")


@attrs.frozen
class ComponentSetting:
    """One field of one component's config: ``component.KIND.NAME.FIELD=VALUE`` (``FIELD`` a
    dotted path into nested attrs configs)."""

    kind: str
    name: str
    field: tuple[str, ...]
    value: Any

    @classmethod
    def from_override(cls, item: Override) -> ComponentSetting:
        if len(item.path) < 4 or item.path[0] != COMPONENT_ROOT:
            raise ProfileError(f"a component setting is {COMPONENT_ROOT}.KIND.NAME.FIELD=VALUE "
                               f"(e.g. component.density.dpgmm.split_merge=2), got {item}")
        _, kind, name, *field = item.path
        if kind not in CONFIGURED_KINDS:
            raise ProfileError(f"override {item}: component kind {kind!r} takes no settings; "
                               f"the kinds built from their config: {list(CONFIGURED_KINDS)}")
        return cls(kind, name, tuple(field), item.value)

    @property
    def path(self) -> tuple[str, ...]:
        return (COMPONENT_ROOT, self.kind, self.name, *self.field)

    @property
    def key(self) -> str:
        return ".".join(self.path)


def component_settings(overrides: Iterable[str | Override]) -> list[ComponentSetting]:
    """The component settings among ``overrides`` (the profile's knobs are left out)."""
    items = (o if isinstance(o, Override) else Override.parse(o) for o in overrides)
    return [ComponentSetting.from_override(o) for o in items if o.path[0] == COMPONENT_ROOT]


def _converted(component: registry.Component[Any], setting: ComponentSetting) -> Any:
    """The setting's value as its config field's type; an unknown field or a component without
    a config type is an error naming the setting."""
    config: Any = component.config
    if config is None:
        raise ProfileError(f"{setting.key}: {setting.kind} {setting.name!r} has no config type, "
                           f"so it takes no settings")
    for depth, name in enumerate(setting.field):
        fields = attrs.fields_dict(config)
        if name not in fields:
            raise ProfileError(f"{setting.key}: unknown field {name!r} of {config.__name__}; "
                               f"fields: {sorted(fields)}")
        config = typing.get_type_hints(config)[name]
        if depth < len(setting.field) - 1 and not attrs.has(config):
            raise ProfileError(f"{setting.key}: {name!r} is a value, not a nested config")
    return convert_field(config, setting.value, setting.key)


def _evolve(config: Any, field: tuple[str, ...], value: Any) -> Any:
    """``config`` with the (nested) field ``field`` set to ``value``."""
    head, *rest = field
    new = _evolve(getattr(config, head), tuple(rest), value) if rest else value
    return attrs.evolve(config, **{head: new})


def _component(setting: ComponentSetting) -> registry.Component[Any]:
    try:
        return registry.component(setting.kind, setting.name)
    except registry.UnknownComponentError as err:
        raise ProfileError(f"{setting.key}: {err}") from None


def canonical_settings(
        overrides: Iterable[str | Override]) -> dict[tuple[str, ...], Override]:
    """Each component setting among ``overrides`` checked against its component's config type,
    by path, with the converted value of the last one given (``...max_dims=2.0`` of an int field
    is an error; ``...=1`` of a float field reads ``1.0``)."""
    out: dict[tuple[str, ...], Override] = {}
    for setting in component_settings(overrides):
        out[setting.path] = Override(setting.path, _converted(_component(setting), setting))
    return out


def apply_settings(component: registry.Component[Any], config: Any,
                   overrides: Iterable[str | Override]) -> Any:
    """``config`` (the one ``component`` is built with) with the settings among ``overrides``
    that name this component applied, the last one of a field winning; the config type's
    validators check the result (a rejected value is an error naming the setting)."""
    mine = [s for s in component_settings(overrides)
            if (s.kind, s.name) == (component.kind, component.name)]
    if not mine:
        return config
    for setting in mine:
        value = _converted(component, setting)
        try:
            config = _evolve(config, setting.field, value)
        except (TypeError, ValueError) as err:
            raise ProfileError(f"{setting.key}: {err}") from None
    return config
