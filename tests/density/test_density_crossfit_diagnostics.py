"""Cross-fitted held-out densities, per-class diagnostics, matched nulls, gated verdicts."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from modes.components.density import DPGMM
from modes.components.density.class_diagnostics import (
    class_mean_standard_errors,
    class_state_traces,
    diagnose_classes,
    small_component_fraction,
    with_sampling_floor,
)
from modes.components.density.crossfit import cross_fit, fold_assignment
from modes.decisions.checks import MeasuredVerdict, gated
from modes.measures import CHECKED, PAPER, SamplerSettings, dpgmm_models, matched_null
from modes.stats.claim import (
    INCONCLUSIVE,
    NOT_REPLICATED,
    REPLICATED,
    ClaimResult,
    Preregistration,
)

torch.set_num_threads(1)
FAST = {"sweeps": 12, "burn_in": 8, "thin": 2, "progress": False}


def test_folds_are_stratified_and_balanced() -> None:
    labels = np.repeat([3, 7, 9], [10, 13, 21])
    fold = fold_assignment(labels, 5, seed=0)
    for c in (3, 7, 9):
        counts = np.bincount(fold[labels == c], minlength=5)
        assert counts.max() - counts.min() <= 1
    assert not np.array_equal(fold, fold_assignment(labels, 5, seed=1))
    with pytest.raises(ValueError, match="needs >= 10 points per class"):
        fold_assignment(np.repeat([0, 1], [10, 9]), 5, seed=0)


def test_each_point_is_scored_by_the_model_that_did_not_see_it() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(size=(30, 2)), rng.normal(size=(24, 2)) + 3])
    labels = np.repeat([0, 1], [30, 24])
    cf = cross_fit(DPGMM(chains=2, starts=("random", "one"), **FAST), x, labels, folds=3, seed=2)
    assert cf.states.shape == (cf.fitted.states.counts.shape[0], 54)
    for i in (0, 17, 40, 53):
        g = cf.group_of(labels[i], cf.fold[i])
        own = cf.fitted.log_prob(x[i : i + 1], group=g).item()
        assert cf.log_density[i] == pytest.approx(own, rel=1e-10)
    assert cf.fitted.sizes.tolist() == [20, 20, 20, 16, 16, 16]  # each fold model lacks a fold
    assert cf.small_fraction().shape == (2,)


def test_class_state_traces_split_states_by_chain() -> None:
    lp = np.arange(12, dtype=float).reshape(6, 2)  # 6 states (3 draws x 2 chains), 2 points
    classes, means, sds = class_state_traces(lp, np.array([5, 5]), chains=2)
    assert classes.tolist() == [5]
    np.testing.assert_allclose(means[0], [[0.5, 4.5, 8.5], [2.5, 6.5, 10.5]])
    np.testing.assert_allclose(sds, 0.5)


def _diagnose(shift: float, chains: int = 4) -> np.ndarray:
    rng = np.random.default_rng(0)
    draws, labels = 40, np.repeat(np.arange(6), 20)
    lp = rng.normal(size=(draws * chains, labels.size)) * 0.1 + labels * 10.0
    lp[1::chains, labels == 2] += shift  # chain 1 of class 2 sits elsewhere
    d = diagnose_classes(lp, labels, chains, np.zeros(6), dim=4, n_fit=np.full(6, 20.0))
    return d.chains_disagree


def test_chains_that_disagree_are_flagged_only_beyond_the_tolerance() -> None:
    assert _diagnose(0.0).sum() == 0
    assert _diagnose(0.2).sum() == 0  # R-hat is large, the disagreement is not (class sd ~19)
    assert _diagnose(8.0).tolist() == [False, False, True, False, False, False]


def test_a_disagreement_below_the_class_means_standard_error_is_not_flagged() -> None:
    """Classes with no gap between them (a null world's shallow stage): a quarter of the largest
    gap is a few hundredths of a nat, the class mean's standard error about a tenth; chains 0.05
    nats apart were flagged by the gap alone, and are not once the measurement is read."""
    rng = np.random.default_rng(1)
    chains, draws, labels = 3, 8, np.repeat(np.arange(40), 300)
    per_point = rng.normal(size=labels.size) * 2.0 + np.linspace(0, 0.2, 40)[labels]
    lp = per_point + rng.normal(size=(chains * draws, labels.size)) * 0.002
    lp[1::chains, labels == 7] += 0.05  # chain 1 of class 7: 0.05 nats up, R-hat large
    d = diagnose_classes(lp, labels, chains, np.zeros(40), dim=8, n_fit=np.full(40, 200.0))
    assert d.chains_disagree.tolist() == [c == 7 for c in range(40)]  # the gap rule alone
    read = with_sampling_floor(d, lp.mean(0), labels)
    assert not read.chains_disagree.any()
    np.testing.assert_allclose(read.spread_max, np.maximum(d.spread_max, 2.0 / np.sqrt(300)),
                               rtol=0.15)
    # a disagreement of a whole nat is flagged still
    lp[1::chains, labels == 7] += 1.0
    d = diagnose_classes(lp, labels, chains, np.zeros(40), dim=8, n_fit=np.full(40, 200.0))
    assert with_sampling_floor(d, lp.mean(0), labels).chains_disagree.tolist() == [
        c == 7 for c in range(40)]
    with pytest.raises(ValueError, match="differ in shape"):
        class_mean_standard_errors(lp[0], labels[:-1])
    with pytest.raises(ValueError, match="39 classes in the labels, 40 in the diagnostics"):
        with_sampling_floor(d, lp.mean(0)[labels < 39], labels[labels < 39])


@given(st.integers(2, 30), st.floats(-1e3, 1e3), st.floats(1e-3, 1e3))
def test_class_mean_standard_error_is_sd_over_root_n_and_shift_free(
        n: int, shift: float, scale: float) -> None:
    rng = np.random.default_rng(n)
    x, labels = rng.normal(size=2 * n), np.repeat([4, 9], n)
    se = class_mean_standard_errors(x, labels)
    np.testing.assert_allclose(se, [x[:n].std(ddof=1) / np.sqrt(n), x[n:].std(ddof=1) / np.sqrt(n)])
    np.testing.assert_allclose(class_mean_standard_errors(x * scale + shift, labels), se * scale,
                               rtol=1e-6)


def test_collapsed_components_and_overfit_flags() -> None:
    counts = torch.tensor([[[30.0, 5, 5, 0], [40, 0, 0, 0]]])  # (T=1, G=2, K)
    np.testing.assert_allclose(small_component_fraction(counts, dim=8, nu0=10.0), [0.25, 0.0])
    np.testing.assert_allclose(small_component_fraction(counts, dim=8, nu0=16.0), [0.0, 0.0])
    lp = np.zeros((4, 6))
    d = diagnose_classes(lp, np.repeat([0, 1], 3), 2, np.array([0.6, 0.1]), dim=4,
                         n_fit=np.array([10.0, 10.0]), in_sample_mean=np.array([1.0, 50.0]))
    assert d.degenerate.tolist() == [True, False]
    assert d.overfit.tolist() == [False, True]  # bound max(3, 4 * 7 / 10) = 3
    assert "held-out 50.0 nats/pt below in-sample" in d.reasons(1)


def test_matched_null_keeps_each_class_mean_and_covariance() -> None:
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(size=(50, 3)) @ np.diag([3.0, 1, 0.2]),
                        rng.normal(size=(40, 3)) + 5])
    labels = np.repeat([0, 1], [50, 40])
    nulls = matched_null(x, labels, 400, np.random.default_rng(2))
    assert nulls.shape == (400, 90, 3)
    for c in (0, 1):
        pooled = nulls[:, labels == c].reshape(-1, 3)
        np.testing.assert_allclose(pooled.mean(0), x[labels == c].mean(0), atol=0.05)
        np.testing.assert_allclose(np.cov(pooled, rowvar=False),
                                   np.cov(x[labels == c], rowvar=False, bias=True),
                                   rtol=0.05, atol=0.02)
    few = matched_null(x[:3], np.zeros(3, int), 2, np.random.default_rng(0))  # singular: no error
    assert np.isfinite(few).all()


PRESENCE = Preregistration(claim_id="T", hypothesis="h", paper_ref="r", test="t", effect_name="e",
                           effect_threshold=1.0, effect_direction="greater")


def _result(verdict: str) -> ClaimResult:
    """A result whose test gives ``verdict`` (replicated, or not: p above alpha)."""
    return ClaimResult(prereg=PRESENCE, statistic=1.0,
                       p_value=0.001 if verdict == REPLICATED else 0.5, effect_size=2.0,
                       ci_low=1.5, ci_high=2.5, n=20)


def test_gate_names_the_check_that_failed() -> None:
    clean = MeasuredVerdict("checked", _result(REPLICATED), (NOT_REPLICATED,) * 20, ())
    assert gated(clean).verdict == REPLICATED and gated(clean).details["null_rate"] == 0
    flagged = MeasuredVerdict("checked", _result(REPLICATED), (NOT_REPLICATED,) * 20,
                              ("stage4, class 3: degenerate components (90% ...)",))
    assert gated(flagged).verdict == INCONCLUSIVE and "cannot be read" in gated(flagged).explanation
    nulls = MeasuredVerdict("checked", _result(REPLICATED), (REPLICATED,) + (NOT_REPLICATED,) * 19,
                            ())
    out = gated(nulls)
    assert out.verdict == NOT_REPLICATED and "1 of 20" in out.explanation
    assert out.details["null_rate_ci"][1] > 0.05
    absent = MeasuredVerdict("checked", _result(NOT_REPLICATED), (REPLICATED,) * 20, ())
    assert gated(absent).verdict == NOT_REPLICATED


def test_a_replicated_pattern_without_matched_nulls_is_unchecked() -> None:
    out = gated(MeasuredVerdict("checked", _result(REPLICATED), (), ()))
    assert out.verdict == INCONCLUSIVE and "no matched nulls" in out.explanation


def test_only_the_checked_measure_runs_split_merge_moves() -> None:
    """The paper's measurement reproduces the authors' sampler (Gibbs sweeps only); the checked
    one adds the profile's split-merge moves."""
    settings = SamplerSettings(sweeps=10, burn_in=6, thin=2, block_size=4, init_components=6,
                               chains=4, dtype="float64", folds=3, kl_samples=64,
                               null_replicates=2, split_merge=3)
    assert dpgmm_models(PAPER, settings)(0).config.sampler.split_merge == 0
    assert dpgmm_models(CHECKED, settings)(0).config.sampler.split_merge == 3
    assert dpgmm_models(CHECKED, settings)(0).config.sampler.prior.name == "firm"


def test_the_registered_dpgmm_runs_split_merge_moves_for_the_checked_measure_only() -> None:
    """The scenario builds its density model through the registry (``configure_dpgmm``)."""
    from modes.components.density.component import configure_dpgmm
    from modes.components.protocols import DensityContext
    from modes.scale import load_profile

    density = load_profile("smoke").density
    assert density.split_merge > 0
    checked = configure_dpgmm(DensityContext(density=density, measure=CHECKED, seed=0))
    paper = configure_dpgmm(DensityContext(density=density, measure=PAPER, seed=0))
    assert checked.sampler.split_merge == density.split_merge
    assert paper.sampler.split_merge == 0
