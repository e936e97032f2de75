"""End to end at tiny size: data -> backbone -> tap -> reducer -> density, through the store,
for a built-in backbone and for a third-party backbone registered through the entry point."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from modes import registry
from modes.measures import mean_pairwise_distance
from modes.scenario import Scenario, ScenarioConfig, layer_dims, layer_part
from modes.store import ArtifactStore
from scenario_tiny import TINY, TINY_OVERRIDES


def tiny_scenario(tmp_path: Path, backbone: str) -> Scenario:
    return Scenario(ScenarioConfig(backbone=backbone, overrides=TINY_OVERRIDES),
                    ArtifactStore(tmp_path / "cache"))


def check_layers(scenario: Scenario, backbone: str, num_layers: int) -> None:
    layers = scenario.layer_densities(backbone)
    n = TINY.data.num_classes * TINY.data.train_per_class
    assert len(layers) == num_layers
    for i, ld in enumerate(layers):
        assert ld.log_density.shape == (n,) and np.all(np.isfinite(ld.log_density))
        assert ld.relative_entropy.shape == (TINY.data.num_classes,)
        assert np.all(ld.mean_intra_distance > 0)
        assert ld.dims <= layer_dims(i, num_layers, TINY)
        assert np.all(np.diff(ld.variance_curve) >= -1e-9) and ld.variance_curve[-1] <= 1 + 1e-6


@given(st.integers(1, 40))
def test_layer_parts_split_the_layers_as_the_sizes_do(num_layers: int) -> None:
    """Shallow and deep partition the layers; the SVD reduces the shallow ones to the shallow
    dims, the deep ones to the deep dims but for an odd count's middle layer (README); the last
    layer is deep."""
    shallow, deep = layer_part(num_layers, "shallow"), layer_part(num_layers, "deep")
    assert [*shallow, *deep] == list(layer_part(num_layers, "all")) == list(range(num_layers))
    assert list(layer_part(num_layers, "last")) == [num_layers - 1] == list(deep)[-1:]
    small, large, odd = TINY.density.dims_shallow, TINY.density.dims_deep, num_layers % 2
    assert [layer_dims(i, num_layers, TINY) for i in range(num_layers)] == (
        [small] * (len(shallow) + odd) + [large] * (len(deep) - odd))


def test_an_unknown_layer_part_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown layer part 'middle'"):
        layer_part(4, "middle")  # type: ignore[arg-type]


@pytest.mark.slow
def test_resnet_pipeline_is_cached(tmp_path: Path) -> None:
    scenario = tiny_scenario(tmp_path, "resnet18")
    reps = scenario.representations("resnet18")
    assert [v.shape[0] for v in reps.values()] == [96] * 4
    check_layers(scenario, "resnet18", 4)
    paper = scenario.layer_densities("resnet18", "paper", nulls=True)
    reps = TINY.density.null_replicates
    for ld in paper:  # the paper's measurement, with its matched nulls fitted on request
        assert ld.measure == "paper" and ld.null_log_density.shape == (reps, 96)
        assert ld.null_relative_entropy.shape == (reps, 4)
        assert ld.diagnostics.classes.tolist() == [0, 1, 2, 3]
        assert np.isfinite(ld.diagnostics.optimism).all()  # in-sample vs checked held-out
    assert scenario.layer_densities("resnet18")[0].null_log_density.shape == (0, 96)
    again = tiny_scenario(tmp_path, "resnet18")  # a new session over the same store
    first = scenario.layer_densities("resnet18")[-1].log_density
    np.testing.assert_array_equal(again.layer_densities("resnet18")[-1].log_density, first)


def test_third_party_backbone_runs_unchanged(tmp_path: Path) -> None:
    ep = EntryPoint(name="backbone:third_party_net", value="third_party_backbone:build",
                    group=registry.ENTRY_POINT_GROUP)
    with registry.scoped([ep]):
        scenario = tiny_scenario(tmp_path, "third_party_net")
        check_layers(scenario, "third_party_net", 2)


def test_third_party_backbone_weights_follow_the_run_seed_alone(tmp_path: Path) -> None:
    # a backbone without a BackboneSpec is trained from the weights it is built with: they must
    # not depend on what drew from torch's global generator before (CI once trained a different
    # network in this test than a local run, and met a class with a dead ReLU channel)
    ep = EntryPoint(name="backbone:third_party_net", value="third_party_backbone:build",
                    group=registry.ENTRY_POINT_GROUP)
    runs = []
    with registry.scoped([ep]):
        for store, seed in (("a", 0), ("b", 0), ("c", 1)):
            torch.rand(7)  # some other draw from the global generator in between
            scenario = Scenario(ScenarioConfig(backbone="third_party_net", seed=seed,
                                               overrides=TINY_OVERRIDES),
                                ArtifactStore(tmp_path / store))
            runs.append(scenario.representations("third_party_net")["block2"])
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_mean_pairwise_distance_matches_brute_force() -> None:
    x = np.random.default_rng(0).normal(size=(7, 3))
    brute = np.mean([np.linalg.norm(x[i] - x[j]) for i in range(7) for j in range(7) if i != j])
    assert mean_pairwise_distance(x) == pytest.approx(brute)
