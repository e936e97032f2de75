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


def test_register_and_duplicate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry._REGISTRY, "reducer", dict(registry._REGISTRY["reducer"]))

    def factory() -> str:
        return "made"

    registry.register("reducer", "test-only")(factory)
    assert registry.create("reducer", "test-only") == "made"
    with pytest.raises(ValueError, match="already registered"):
        registry.register("reducer", "test-only")(lambda: "other")


def test_entry_point_backbone_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A third-party package's entry point adds a component without touching this repo."""
    ep = EntryPoint(name="backbone:third_party_net", value="third_party_backbone:build",
                    group=registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [ep] if group == ep.group else [])
    monkeypatch.setattr(registry, "_loaded", False)
    monkeypatch.setitem(registry._REGISTRY, "backbone", dict(registry._REGISTRY["backbone"]))
    assert "third_party_net" in registry.names("backbone")


def test_malformed_entry_point_name(monkeypatch: pytest.MonkeyPatch) -> None:
    ep = EntryPoint(name="no_kind_here", value="third_party_backbone:build",
                    group=registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [ep])
    monkeypatch.setattr(registry, "_loaded", False)
    with pytest.raises(ValueError, match="<kind>:<name>"):
        registry.names("backbone")
