"""Registry: lookups, clear errors for unknown names, entry-point loading."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import attrs
import pytest

from modes import registry


def test_unknown_kind_lists_kinds() -> None:
    with pytest.raises(registry.UnknownComponentError, match="known kinds"):
        registry.names("spaceship")


def test_unknown_name_lists_known_names() -> None:
    with pytest.raises(registry.UnknownComponentError, match=r"unknown backbone 'nope'.*resnet18"):
        registry.get("backbone", "nope")


def test_builtins_are_registered() -> None:
    cat = registry.catalogue()
    for kind, name in [("backbone", "resnet18"), ("backbone", "resnet50"),
                       ("backbone", "plain_cnn"), ("backbone", "vit"), ("backbone", "mixer"),
                       ("dataset", "synthetic"), ("reducer", "svd"), ("density", "dpgmm")]:
        assert name in cat[kind], (kind, name, cat[kind])


def test_register_and_duplicate() -> None:
    def factory() -> str:
        return "made"

    with registry.scoped():
        registry.register("reducer", "test-only")(factory)
        assert registry.create("reducer", "test-only") == "made"
        with pytest.raises(ValueError, match="already registered"):
            registry.register("reducer", "test-only")(lambda: "other")
    assert "test-only" not in registry.names("reducer")  # the scope undid it


def test_entry_point_backbone_is_loaded() -> None:
    """A third-party package's entry point adds a component without touching this repo."""
    ep = EntryPoint(name="backbone:third_party_net", value="third_party_backbone:build",
                    group=registry.ENTRY_POINT_GROUP)
    with registry.scoped([ep]):
        assert "third_party_net" in registry.names("backbone")
        assert "resnet18" in registry.names("backbone")
    assert "third_party_net" not in registry.names("backbone")


def test_malformed_entry_point_name() -> None:
    ep = EntryPoint(name="no_kind_here", value="third_party_backbone:build",
                    group=registry.ENTRY_POINT_GROUP)
    with registry.scoped([ep]), pytest.raises(ValueError, match="<kind>:<name>"):
        registry.names("backbone")
    assert "resnet18" in registry.names("backbone")


@attrs.frozen
class _Config:
    size: int = 2


def _sized(config: _Config) -> list[int]:
    return [0] * config.size


def test_a_component_is_built_from_its_own_config_and_keyed_by_its_version() -> None:
    spec = registry.Component("reducer", "sized", _sized, config=_Config, version="3",
                              configure=lambda size: _Config(size=size))
    with registry.scoped():
        registry.register_component(spec)
        got = registry.component("reducer", "sized")
        assert got.build(got.settings(4)) == [0, 0, 0, 0]
        assert registry.create("reducer", "sized", size=1) == [0]  # keyword path: the config's
        assert got.key(_Config(4)) == registry.ComponentKey("reducer", "sized", "3", _Config(4))
        assert got.key(_Config(4)) != attrs.evolve(got, version="4").key(_Config(4))
        with pytest.raises(TypeError, match="takes a _Config"):
            got.build({"size": 4})
    with pytest.raises(TypeError, match="not its config type"):
        attrs.evolve(spec, configure=lambda _: {"size": 4}).settings(None)
    with pytest.raises(TypeError, match="must be an attrs class"):
        registry.Component("reducer", "bad", _sized, config=dict)
    with pytest.raises(registry.UnknownComponentError, match="known kinds"):
        registry.Component("spaceship", "bad", _sized)


def test_an_entry_point_component_must_carry_its_own_name() -> None:
    ep = EntryPoint(name="density:other_name", value="third_party_components:DENSITY",
                    group=registry.ENTRY_POINT_GROUP)
    with registry.scoped([ep]), pytest.raises(ValueError, match="not density:other_name"):
        registry.names("density")


def test_every_registered_kind_has_a_version() -> None:
    for kind, entries in registry.catalogue().items():
        for name in entries:
            assert registry.component(kind, name).version, (kind, name)
