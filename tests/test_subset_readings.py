"""C8's and C9's own fits (Fig. 4, Fig. A.11) read with every reading at fit time (issue 11,
item 7): each reading of the one fit is what a fit read through that reading alone gives, the
store holds them together, and a predictive or averaging variant of the scenario loads the
default run's artifact and picks its reading (its sensitivity cells do not refit)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from modes.components.density.component import DPGMMDensity, FittedDPGMMDensity, dpgmm_config
from modes.decisions.on_scenario import DECIDERS
from modes.measures import (
    PAPER_POOLED,
    READINGS,
    Reading,
    SamplerSettings,
    classify_readings,
    kl_to_all_readings,
    reading_arrays,
)
from modes.sensitivity import NEEDS_REFIT, NOT_APPLICABLE, choices, sensitivity_table
from scenario_tiny import authors_files_scenario
from third_party_components import PCABayesianMixture, PCABGMConfig

torch.set_num_threads(1)
SETTINGS = SamplerSettings(sweeps=8, burn_in=4, thin=2, block_size=4, init_components=3,
                           chains=2, dtype="float64", folds=2, kl_samples=64, null_replicates=1)


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    labels = np.repeat(np.arange(3), 16)
    return rng.normal(size=(48, 3)) + 1.5 * labels[:, None], labels


@pytest.fixture(scope="module")
def fitted() -> FittedDPGMMDensity:
    x, labels = _data()
    return DPGMMDensity(dpgmm_config(SETTINGS, PAPER_POOLED, seed=5)).fit(x, labels)


def test_each_reading_of_the_kls_and_classes_is_that_readings_own(
        fitted: FittedDPGMMDensity) -> None:
    """From one set of draws per predictive variant, each reading's KL row and predictions
    equal the fit read through that reading alone (same chains, same seed)."""
    x, _ = _data()
    kls = kl_to_all_readings(fitted, 1, 64, PAPER_POOLED, seed=3)
    classes = classify_readings(fitted, x, PAPER_POOLED)
    assert set(kls) == set(classes) == {r.key for r in READINGS}
    for r in READINGS:
        alone = FittedDPGMMDensity(fitted.fitted.with_predictive(r.predictive, r.averaging))
        np.testing.assert_allclose(kls[r.key], alone.kl_to_all(1, 64, seed=3), rtol=1e-10,
                                   atol=1e-10, err_msg=r.key)
        np.testing.assert_array_equal(classes[r.key], alone.classify(x), err_msg=r.key)
        assert kls[r.key][1] == 0.0 and np.all(kls[r.key][[0, 2]] > 0)
    # KLs to some targets only: the full row's entries, in the targets' order
    some = kl_to_all_readings(fitted, 1, 64, PAPER_POOLED, seed=3, targets=[2, 1])
    for r in READINGS:
        np.testing.assert_allclose(some[r.key], kls[r.key][[2, 1]], rtol=1e-10, atol=1e-10)
    # the default reading is the fit's own, and the readings differ
    np.testing.assert_allclose(kls[PAPER_POOLED.reading.key], fitted.kl_to_all(1, 64, seed=3),
                               rtol=1e-10, atol=1e-10)
    assert not np.allclose(kls["paper.density"], kls["authors.log"])
    assert not np.allclose(kls["occupied.density"], kls["occupied.log"])


def test_a_model_without_readings_is_read_its_one_way() -> None:
    """A third-party density (no readings) gives the measure's reading only; another reading
    is a clear KeyError, never the default's numbers relabelled."""
    x, labels = _data()
    model = PCABayesianMixture(PCABGMConfig(max_dims=3)).fit(x, labels)
    kls = kl_to_all_readings(model, 0, 32, PAPER_POOLED, seed=1)
    assert set(kls) == {"paper.density"}
    np.testing.assert_array_equal(kls["paper.density"], model.kl_to_all(0, 32, seed=1))
    np.testing.assert_array_equal(
        kl_to_all_readings(model, 0, 32, PAPER_POOLED, seed=1, targets=[2, 1])["paper.density"],
        kls["paper.density"][[2, 1]])
    assert set(classify_readings(model, x, PAPER_POOLED)) == {"paper.density"}
    with pytest.raises(KeyError, match=r"no reading 'authors\.log'"):
        reading_arrays({f"{k}/kl": v for k, v in kls.items()}, Reading("authors", "log"))


def _computed(caplog: pytest.LogCaptureFixture, kind: str) -> int:
    return sum(r.getMessage().startswith(f"computing {kind} ") for r in caplog.records)


@pytest.mark.slow
def test_c8_and_c9_variants_pick_their_reading_from_the_default_runs_fit(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The cheap columns of C8 and C9: their variants compute nothing (the store's log counts
    every fit), read other numbers from the same artifact, and are decided by the claims'
    own decisions; SVD centring refits."""
    base, _, _ = authors_files_scenario(tmp_path)
    caplog.set_level("INFO", logger="modes.store")
    kl, gen = base.subset_divergences("resnet18"), base.generative_classification("resnet18")
    assert _computed(caplog, "subset-kl") == 1 and _computed(caplog, "generative-classifier") == 1
    authors = base.variant(predictive="authors")
    kl_a = authors.subset_divergences("resnet18")
    gen_a = authors.generative_classification("resnet18")
    kl_log = base.variant(averaging="log").subset_divergences("resnet18")
    assert set(kl_a.kl) == set(kl.kl)
    finite = np.isfinite(kl.kl["random"])
    assert finite.any() and not np.allclose(kl.kl["random"][finite], kl_a.kl["random"][finite])
    assert not np.allclose(kl.kl["random"][finite], kl_log.kl["random"][finite])
    np.testing.assert_array_equal(kl_a.classes["most"], kl.classes["most"])
    np.testing.assert_array_equal(gen_a.truth, gen.truth)
    assert gen_a.predictions.shape == gen.predictions.shape

    deciders = {c: DECIDERS[c] for c in ("C8", "C9")}
    table = sensitivity_table(base, deciders, refit=False)
    assert _computed(caplog, "subset-kl") == 1 and _computed(caplog, "generative-classifier") == 1
    for claim in deciders:
        assert set(table.cells[claim]) == {c.name for c in choices(refit=False)}
        assert table.reasons[claim] == {"block_update=independent": NEEDS_REFIT,
                                        "svd_centre=True": NEEDS_REFIT,
                                        "noise_space=pixel": NOT_APPLICABLE}
    base.variant(svd_centre=True).subset_divergences("resnet18")
    assert _computed(caplog, "subset-kl") == 2
