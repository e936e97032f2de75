"""A third-party density model (PCA + per-class BayesianGaussianMixture) and certifier (Hoeffding
smoothing), installed as a real distribution with ``modes.components`` entry points, run the
decision paths of C1 (two modes in the deep stages) and C7 (robustness drop) with no change to
``modes``; the distribution's version is part of their artifacts' keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from modes import registry
from modes.components.protocols import Certifier, DensityModel, FittedDensity
from modes.decisions.checks import both_measures, final
from modes.decisions.robustness_drop import RobustnessBins, decide_robustness_drop
from modes.decisions.two_modes import LayerValues, decide_two_modes
from modes.scenario import Scenario, ScenarioConfig
from modes.stats.verdict import Verdict
from modes.store import ArtifactStore
from scenario_tiny import TINY_OVERRIDES
from third_party_components import PCABGMConfig, install_distribution

pytest_plugins = ("pytester",)

# the density-bin experiment at its smallest: 4 bins, one epoch, a few certified inputs each
C7_OVERRIDES = ("robustness.bins=4", "robustness.bin_epochs=1", "robustness.n0=8",
                "robustness.n=64", "robustness.certify_per_bin=3", "memorization.epochs=1")


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``modes_third_party`` 1.0 on ``sys.path``, the registry reading the installed entry
    points again (as a new process would)."""
    site = install_distribution(tmp_path / "site", "1.0")
    monkeypatch.syspath_prepend(str(site))
    with registry.scoped(installed=True):
        yield site


def published_scores(path: Path, labels: np.ndarray) -> str:
    """An authors'-format ``mem_scores.npz`` for ``labels`` (seeded uniform scores)."""
    scores = np.random.default_rng(0).uniform(size=labels.size)
    np.savez(path, tr_mem=scores, tr_labels=labels.astype(np.int64))
    return str(path)


def scenario_with(tmp_path: Path, store: ArtifactStore, mem_scores: str | None = None) -> Scenario:
    return Scenario(ScenarioConfig(overrides=(*TINY_OVERRIDES, *C7_OVERRIDES), density="pca_bgm",
                                   certifier="hoeffding-smoothing", mem_scores=mem_scores),
                    store)


def c1_result(scenario: Scenario):  # the decision path of claims/test_c01_two_modes_deep.py
    name = scenario.config.backbone
    labels = scenario.dataset.train_labels.numpy()

    def deep(measure: str, nulls: bool):
        layers = scenario.layer_densities(name, measure, nulls)
        return layers[len(layers) // 2:]

    def values(measure, layers, r):
        return LayerValues([ld.layer for ld in layers], [ld.log_density_of(r) for ld in layers],
                           labels)

    return final(both_measures(deep, values, decide_two_modes))


def stored_requests(store: ArtifactStore, kind: str) -> list[dict]:
    return [json.loads(p.read_text())["request"] for p in (store.root / kind).glob("*.json")]


def test_entry_points_register_the_components_with_the_distributions_version(installed) -> None:
    density = registry.component("density", "pca_bgm")
    certifier = registry.component("certifier", "hoeffding-smoothing")
    assert density.version == certifier.version == "1.0"
    assert density.config is PCABGMConfig
    model = density.create(max_dims=2)
    assert isinstance(model, DensityModel)
    rng = np.random.default_rng(1)
    x, groups = rng.normal(size=(40, 3)), np.repeat([3, 7], 20)
    fitted = model.fit(x, groups)
    assert isinstance(fitted, FittedDensity) and fitted.groups.tolist() == [3, 7]
    assert fitted.log_prob_own(x, groups).shape == (40,)
    assert set(fitted.classify(x).tolist()) <= {3, 7}
    assert isinstance(certifier.factory(__import__("torch").nn.Linear(2, 2), 2, 0.5, 0), Certifier)


@pytest.mark.slow
def test_third_party_density_and_certifier_run_c1_and_c7(tmp_path: Path, installed) -> None:
    store = ArtifactStore(tmp_path / "cache")
    probe = scenario_with(tmp_path, store)
    labels = probe.dataset.train_labels.numpy()
    scenario = scenario_with(tmp_path, store, published_scores(tmp_path / "mem.npz", labels))

    c1 = c1_result(scenario)
    assert c1.decision.verdict in set(Verdict)
    assert set(c1.details["measures"]) == {"paper", "checked"}
    densities = stored_requests(store, "layer-density")
    assert densities and all(r["density"]["name"] == "pca_bgm" and r["density"]["version"] == "1.0"
                             for r in densities)
    assert {r["density"]["config"]["__type__"] for r in densities} == {"PCABGMConfig"}
    last = scenario.layer_densities("resnet18")[-1]
    assert np.isfinite(last.log_density).all() and np.isfinite(last.relative_entropy).all()
    assert not last.diagnostics.flagged.any()  # one state, one chain: nothing to disagree

    table = scenario.density_bins()
    c7 = decide_robustness_drop(RobustnessBins.from_table(table))
    assert c7.decision.verdict in set(Verdict)
    assert table.bins == 4 and table.certified_count.tolist() == [3, 3, 3, 3]
    (bins,) = stored_requests(store, "density-bins")
    assert bins["certifier"]["name"] == "hoeffding-smoothing"
    assert bins["certifier"]["version"] == "1.0"
    (mem,) = stored_requests(store, "memorization")
    assert mem["estimator"]["name"] == "published"  # the registered estimator, selected by name


def small_representations(tmp_path: Path, seed: int) -> str:
    """A two-stage representations file of 3 classes x 12 examples (seeded); its path."""
    from modes.data.representations_file import save_representations

    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(3), 12)
    return save_representations(tmp_path / "reps.npz", labels,
                                [rng.normal(size=(36, 4)) + labels[:, None]
                                 for _ in range(2)]).path


def test_a_new_version_of_the_distribution_invalidates_its_artifacts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ArtifactStore(tmp_path / "cache")
    config = ScenarioConfig(overrides=TINY_OVERRIDES,
                            representations=small_representations(tmp_path, 2), density="pca_bgm")
    site = install_distribution(tmp_path / "site", "1.0")
    monkeypatch.syspath_prepend(str(site))
    with registry.scoped(installed=True):
        first = Scenario(config, store).layer_densities("resnet18")
        again = Scenario(config, store).layer_densities("resnet18")  # loaded, not refitted
        assert len(list((store.root / "layer-density").glob("*.npz"))) == 2
    install_distribution(site, "1.1")
    with registry.scoped(installed=True):
        assert registry.component("density", "pca_bgm").version == "1.1"
        Scenario(config, store).layer_densities("resnet18")
    assert len(list((store.root / "layer-density").glob("*.npz"))) == 4  # refitted under 1.1
    assert {r["density"]["version"] for r in stored_requests(store, "layer-density")} == {
        "1.0", "1.1"}
    np.testing.assert_array_equal(first[-1].log_density, again[-1].log_density)


SETTING = "component.density.pca_bgm.components=1"


def test_a_setting_of_the_third_party_density_model_refits_it(tmp_path: Path,
                                                              installed) -> None:
    """``--modes-set component.density.pca_bgm.components=1`` reaches the component's own
    config: it is in the stage's key (a refit), the run key and the canonical overrides."""
    from modes.scale import canonical_overrides

    store = ArtifactStore(tmp_path / "cache")
    reps = small_representations(tmp_path, 3)
    plain = ScenarioConfig(overrides=TINY_OVERRIDES, representations=reps, density="pca_bgm")
    set_ = ScenarioConfig(overrides=canonical_overrides("smoke", (*TINY_OVERRIDES, SETTING)),
                          representations=reps, density="pca_bgm")
    assert set_.overrides[-1] == SETTING
    Scenario(plain, store).layer_densities("resnet18")
    assert len(list((store.root / "layer-density").glob("*.npz"))) == 2
    changed = Scenario(set_, store)
    changed.layer_densities("resnet18")
    assert len(list((store.root / "layer-density").glob("*.npz"))) == 4  # refitted
    Scenario(set_, store).layer_densities("resnet18")  # and loaded the next time
    assert len(list((store.root / "layer-density").glob("*.npz"))) == 4
    assert sorted(r["density"]["config"]["components"]
                  for r in stored_requests(store, "layer-density")) == [1, 1, 3, 3]
    assert changed.run_key() != Scenario(plain, store).run_key()
    assert SETTING in changed.run_key()


@pytest.mark.parametrize(("setting", "message"), [
    ("component.density.pca_bgm.component=2",
     r"component.density.pca_bgm.component: unknown field 'component' of PCABGMConfig; "
     r"fields: \['components', 'max_dims', 'seed'\]"),
    ("component.density.pca_bgm.components=many",
     "component.density.pca_bgm.components must be an integer, got 'many'"),
    ("component.density.pca_bmg.components=2", "component.density.pca_bmg.components: "
                                               "unknown density 'pca_bmg'; known density names"),
    ("component.tap.graph.nodes=2", "component kind 'tap' takes no settings"),
    ("component.density.pca_bgm=2", "a component setting is component.KIND.NAME.FIELD=VALUE"),
    ("component.density.dpgmm.sampler.split=2", "unknown field 'split' of DPGMMConfig"),
    ("component.density.dpgmm.device.x=2", "'device' is a value, not a nested config"),
])
def test_a_bad_component_setting_is_an_error_naming_it(installed, setting: str,
                                                       message: str) -> None:
    from modes.scale import ProfileError, canonical_overrides

    with pytest.raises(ProfileError, match=message):
        canonical_overrides("smoke", (setting,))


def test_a_value_the_config_rejects_is_an_error_naming_the_setting(tmp_path: Path) -> None:
    from modes.measures import MEASURES

    bad = "component.density.dpgmm.sampler.split_merge=-1"
    scenario = Scenario(ScenarioConfig(overrides=(bad,)), ArtifactStore(tmp_path / "cache"))
    with pytest.raises(ValueError, match=r"component\.density\.dpgmm\.sampler\.split_merge: "
                                         r".*split_merge"):
        scenario.density_key(MEASURES["checked"].fit, 0)
    fine = Scenario(ScenarioConfig(overrides=("component.density.dpgmm.sampler.split_merge=2",)),
                    ArtifactStore(tmp_path / "cache"))
    assert fine.density_key(MEASURES["paper"].fit, 0).config.sampler.split_merge == 2


def test_the_report_header_shows_the_setting(pytester: pytest.Pytester, installed) -> None:
    pytester.makepyfile("def test_plain():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:xdist", "--modes-density",
                                "pca_bgm", "--modes-set", "density.sweeps=90", "--modes-set",
                                SETTING)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines([f"modes: scale smoke, overrides: density.sweeps=90, {SETTING}",
                                 "modes: components *density=pca_bgm*"])
