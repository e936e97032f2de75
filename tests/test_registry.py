"""Registry: lookups, clear errors for unknown names, entry-point loading."""

from __future__ import annotations

from importlib.metadata import EntryPoint

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
