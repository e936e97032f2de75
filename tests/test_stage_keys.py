"""Stage cache keys come from typed configs: changing one knob recomputes the stage that reads it
and the stages built on it, nothing else; no scenario method returns ``Any``."""

from __future__ import annotations

import inspect
import logging
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from modes.data.representations_file import save_representations
from modes.scenario import LayerPart, Scenario, ScenarioConfig
from modes.store import ArtifactStore
from scenario_tiny import TINY_OVERRIDES


def computed(store: ArtifactStore, caplog: pytest.LogCaptureFixture,
             *overrides: str, nulls: bool = False, part: LayerPart = "all",
             representations: Path | None = None) -> Counter[str]:
    """The stages (store kinds) computed, not loaded, for the resnet18 layer densities (of the
    layers ``part`` names) of a run with ``overrides`` on top of the tiny profile (on the
    ``representations`` file when given)."""
    scenario = Scenario(ScenarioConfig(
        overrides=(*TINY_OVERRIDES, *overrides),
        representations=None if representations is None else str(representations)), store)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="modes.store"):
        scenario.layer_densities("resnet18", "checked", nulls=nulls, part=part)
    return Counter(r.args[0] for r in caplog.records
                   if r.name == "modes.store" and r.msg.startswith("computing"))


@pytest.mark.slow
def test_one_knob_recomputes_only_its_stage_and_dependents(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = ArtifactStore(tmp_path / "cache")
    first = computed(store, caplog)
    assert first["representations"] == 1 and first["layer-density"] == 4
    assert first["layer-total-correlation"] == 4  # C4's, from the reduced data
    assert computed(store, caplog) == Counter()  # a second session loads every stage
    # a sampler knob: every layer's densities, not the representations, the training or the
    # total correlations (no density is fitted for them)
    assert computed(store, caplog, "density.sweeps=9") == Counter({"layer-density": 4})
    # the deep layers' SVD dims: the two deep layers' densities only
    assert computed(store, caplog, "density.dims_deep=3") == Counter(
        {"layer-density": 2, "layer-total-correlation": 2})
    # a knob of another stage (Fig. 3 bins, memorization trials): nothing here
    assert computed(store, caplog, "robustness.bins=3", "memorization.trials=90") == Counter()
    # matched nulls only at the layers a claim reads: C4's last one, then C1's other deep one,
    # then (all layers) the two shallow ones
    for part, fitted in (("last", 1), ("deep", 1), ("all", 2)):
        assert computed(store, caplog, nulls=True, part=part) == Counter(
            {"layer-nulls": fitted, "layer-total-correlation": fitted})
    # the matched nulls' replicates: the nulls, not the real classes' densities
    assert computed(store, caplog, "density.null_replicates=2", nulls=True) == Counter(
        {"layer-nulls": 4, "layer-total-correlation": 4})
    # training: the trained backbone and everything built on it
    retrained = computed(store, caplog, "train.epochs=2")
    assert retrained["representations"] == 1 and retrained["layer-density"] == 4
    assert set(retrained) - set(first) == set()


def test_a_files_layer_fits_are_keyed_by_what_they_read(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """On representations files, a layer's fits name the labels and that stage, not the file:
    a file that differs in another stage or in its memorization scores refits only what
    changed; other labels refit everything."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 16)
    stages = [rng.normal(size=(labels.size, 5)).astype(np.float32) for _ in range(4)]
    store = ArtifactStore(tmp_path / "cache")
    first = save_representations(tmp_path / "first.npz", labels, stages)
    assert computed(store, caplog, representations=Path(first.path)) == Counter(
        {"layer-density": 4, "layer-total-correlation": 4})
    other_deep = save_representations(tmp_path / "deep.npz", labels, [*stages[:3], stages[3] + 1],
                                      memorization=rng.uniform(size=labels.size))
    assert other_deep.sha256 != first.sha256
    assert computed(store, caplog, representations=Path(other_deep.path)) == Counter(
        {"layer-density": 1, "layer-total-correlation": 1})
    relabelled = save_representations(tmp_path / "labels.npz", labels[::-1].copy(), stages)
    assert computed(store, caplog, representations=Path(relabelled.path)) == Counter(
        {"layer-density": 4, "layer-total-correlation": 4})
    assert first.stage_sha256("stage_1") == other_deep.stage_sha256("stage_1")
    assert first.stage_sha256("stage_4") != other_deep.stage_sha256("stage_4")
    with pytest.raises(KeyError, match="no stage 'stage_5'"):
        first.stage_sha256("stage_5")


@pytest.mark.slow
def test_representations_are_stored_once_whoever_asks(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A direct extract_representations call with the trained weights' key and the scenario's
    representations stage are one store entry: the second asker loads the first's."""
    from modes.components.taps import extract_representations
    from modes.training.fit import train_key

    store = ArtifactStore(tmp_path / "cache")
    scenario = Scenario(ScenarioConfig(overrides=TINY_OVERRIDES), store)
    with caplog.at_level(logging.INFO, logger="modes.store"):
        backbone, model = scenario.trained("resnet18")
        data = scenario.images()
        direct = extract_representations(
            backbone, data.train_images, model=model, store=store,
            model_key=train_key(backbone, data, scenario.train_scale("resnet18"),
                                scenario.seed("training")))
        via_scenario = scenario.representations("resnet18")
    writes = Counter(r.args[0] for r in caplog.records
                     if r.name == "modes.store" and r.msg.startswith("computing"))
    assert writes["representations"] == 1 and writes["model"] == 1
    assert len(list((tmp_path / "cache" / "representations").glob("*.npz"))) == 1
    assert list(direct) == list(via_scenario)
    for layer in direct:
        np.testing.assert_array_equal(direct[layer], via_scenario[layer])


def test_no_scenario_method_returns_any() -> None:
    for name, member in inspect.getmembers(Scenario):
        function = getattr(member, "fget", None) or getattr(member, "func", None) or member
        if name.startswith("__") or not callable(function):
            continue
        annotation = inspect.signature(function).return_annotation
        assert annotation is not inspect.Signature.empty, name
        assert "Any" not in str(annotation), (name, annotation)


class MaxTap:
    """A feature tap that max-pools each tapped map (instead of Eq. 1's average)."""

    def __init__(self, backbone, model) -> None:
        from torchvision.models.feature_extraction import create_feature_extractor

        self.nodes = list(backbone.tap_nodes())
        self.extractor = create_feature_extractor(model, {n: n for n in self.nodes})

    def __call__(self, images):
        out = self.extractor(images)
        return {n: out[n].amax(dim=(2, 3)) for n in self.nodes}


@pytest.mark.slow
def test_the_selected_tap_extracts_the_representations(tmp_path: Path) -> None:
    from modes import registry

    store = ArtifactStore(tmp_path / "cache")
    with registry.scoped():
        registry.register("tap", "max", version="7")(MaxTap)
        graph = Scenario(ScenarioConfig(overrides=TINY_OVERRIDES), store)
        chosen = Scenario(ScenarioConfig(overrides=TINY_OVERRIDES, tap="max"), store)
        mean, peak = graph.representations("resnet18"), chosen.representations("resnet18")
        assert chosen.representations_key("resnet18").tap == registry.ComponentKey(
            "tap", "max", "7")
    assert list(mean) == list(peak)
    for layer in mean:  # the same trained network, pooled two ways: max >= mean everywhere
        assert mean[layer].shape == peak[layer].shape
        assert np.all(peak[layer] >= mean[layer] - 1e-5) and not np.allclose(peak[layer],
                                                                              mean[layer])
