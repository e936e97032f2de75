"""The NIW prior as a setting, full whitening, dispersed chain starts, predictive variants."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.special import multigammaln

from modes.components.density import DPGMM, DPGMMConfig
from modes.components.density.model import (
    _sampler_data,
    initial_assignments,
    prepare,
    within_cluster_covariance,
)
from modes.components.density.niw import AUTHORS, FIRM, NIWPrior, get_prior, prior_scale
from modes.components.density.sampler import log_joint, refresh

torch.set_num_threads(1)
FAST = {"sweeps": 12, "burn_in": 8, "thin": 2}


def test_authors_prior_is_the_papers() -> None:
    for d in (4, 16, 64):
        assert AUTHORS.nu0(d) == d + 2 and AUTHORS.kappa0 == 0.01
        assert AUTHORS.psi0(d) == pytest.approx(prior_scale(d, 6))
        assert FIRM.nu0(d) == 4 * d and FIRM.kappa0 == 1.0
        # the firm prior's mean covariance Psi0 / (nu0 - d - 1) is the group's own
        assert FIRM.psi0(d) / (FIRM.nu0(d) - d - 1) == pytest.approx(1.0)
        k6 = NIWPrior("k6", 1.0, 2.0, 0.0)
        assert k6.psi0(d) / (k6.nu0(d) - d - 1) == pytest.approx(prior_scale(d, 6))


def test_bad_priors_are_named() -> None:
    with pytest.raises(ValueError, match="unknown NIW prior 'weak'"):
        get_prior("weak")
    with pytest.raises(ValueError, match="must exceed d \\+ 1"):
        NIWPrior("thin", kappa0=1.0, dof_per_dim=1.0, dof_offset=0.5).nu0(8)
    with pytest.raises(ValueError, match="kappa0 must be > 0"):
        NIWPrior("bad", kappa0=0.0, dof_per_dim=2.0, dof_offset=0.0)
    with pytest.raises(ValueError, match="starts must be"):
        DPGMMConfig(starts=("random", "everywhere"))


def _niw_log_marginal_numpy(y: np.ndarray, prior: NIWPrior) -> float:
    """Murphy (2007) Eq. 266, written independently of the package."""
    n, d = y.shape
    k0, nu0, psi0 = prior.kappa0, prior.nu0(d), prior.psi0(d) * np.eye(d)
    kn, nun = k0 + n, nu0 + n
    mean = y.mean(0)
    scatter = (y - mean).T @ (y - mean)
    psin = psi0 + scatter + k0 * n / kn * np.outer(mean, mean)
    return float(-n * d / 2 * math.log(math.pi) + multigammaln(nun / 2, d)
                 - multigammaln(nu0 / 2, d) + nu0 / 2 * np.linalg.slogdet(psi0)[1]
                 - nun / 2 * np.linalg.slogdet(psin)[1] + d / 2 * math.log(k0 / kn))


@pytest.mark.parametrize("prior", [AUTHORS, FIRM, NIWPrior("k1", 1.0, 2.0, 0.0)])
def test_one_component_log_joint_matches_independent_niw_marginal(prior: NIWPrior) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 5)) @ rng.normal(size=(5, 5))
    cfg = DPGMMConfig(prior=prior, **FAST)
    prep = prepare(x, None, prior.whiten)
    data = _sampler_data(prep, cfg, torch.float64, torch.device("cpu"))
    alpha = torch.tensor([0.7], dtype=torch.float64)
    state = refresh(data, torch.zeros(data.valid.shape, dtype=torch.long), alpha)
    crp = math.log(0.7) + math.lgamma(40) + math.lgamma(0.7) - math.lgamma(40.7)
    expected = _niw_log_marginal_numpy(prep.padded[0], prior) + crp
    assert log_joint(state, data).item() == pytest.approx(expected, rel=1e-10)


def test_starts_are_dispersed_as_named() -> None:
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.normal(size=(30, 3)), rng.normal(size=(20, 3)) + 6])
    groups = np.repeat([0, 1], [30, 20])
    cfg = DPGMMConfig(chains=3, starts=("random", "one", "kmeans"), init_components=4, **FAST)
    prep = prepare(x, groups)
    z = initial_assignments(prep, cfg, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert z is not None and z.shape == (6, 30)
    assert int(z[:2][torch.as_tensor(prep.valid)].max()) <= 3  # random: K0 components
    assert int(z[2:4].abs().sum()) == 0  # one component
    kmeans = z[4:][torch.as_tensor(prep.valid)]
    assert 1 < len(torch.unique(kmeans)) <= 4
    assert initial_assignments(prep, DPGMMConfig(**FAST), torch.Generator(),
                               torch.device("cpu")) is None  # all random: the sampler draws


def test_chain_views_split_the_kept_states() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 2))
    fitted = DPGMM(chains=2, starts=("random", "one"), progress=False, **FAST).fit(x)
    states = fitted.log_prob_own_states(x, np.zeros(60, int))
    assert fitted.chains == 2 and states.shape == (4, 60)
    for c in range(2):
        chain = fitted.chain(c)
        assert chain.states.counts.shape[0] == 2
        torch.testing.assert_close(chain.log_prob_own_states(x, np.zeros(60, int)), states[c::2])
    torch.testing.assert_close(fitted.log_prob_own(x, np.zeros(60, int)),
                               torch.logsumexp(states, 0) - math.log(4))
    with pytest.raises(ValueError, match="chain must lie in"):
        fitted.chain(2)


@settings(max_examples=4, deadline=None)
@given(st.lists(st.floats(0.3, 3.0), min_size=3, max_size=3),
       st.lists(st.floats(-1.0, 1.0), min_size=3, max_size=3))
def test_full_whitening_is_equivariant_under_lower_triangular_maps(diag, off) -> None:
    """x -> A x + b with A lower-triangular (positive diagonal) leaves the whitened data, hence
    the chain, unchanged: densities shift by exactly -log det A."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(50, 3)) @ np.array([[1, 0, 0], [0.5, 1, 0], [0.2, -0.3, 1]])
    a = np.diag(diag) + np.tril(np.array([[0, 0, 0], [off[0], 0, 0], [off[1], off[2], 0]]), -1)
    b = np.array([1.0, -2.0, 0.5])
    model = DPGMM(prior=FIRM, seed=5, progress=False, **FAST)
    lp = model.fit(x).log_prob(x[:10])
    lp2 = model.fit(x @ a.T + b).log_prob(x[:10] @ a.T + b)
    torch.testing.assert_close(lp2, lp - math.log(np.prod(diag)), rtol=0, atol=1e-8)


def test_relative_entropy_of_a_correlated_gaussian_under_full_whitening() -> None:
    rng = np.random.default_rng(6)
    sd = np.array([2.0, 1.0, 0.5])
    cov = np.array([[1.0, 0.8, 0.3], [0.8, 1.0, 0.5], [0.3, 0.5, 1.0]]) * np.outer(sd, sd)
    x = rng.multivariate_normal(np.zeros(3), cov, size=3000)
    fitted = DPGMM(prior=FIRM, starts=("one",), progress=False, **FAST).fit(x)
    emp = np.cov(x, rowvar=False, bias=True)
    truth = 0.5 * (np.log(np.diag(emp)).sum() - np.linalg.slogdet(emp)[1])
    got = fitted.with_predictive("occupied").relative_entropy(num_samples=20_000, seed=0)
    assert got == pytest.approx(truth, abs=0.05)
    test = rng.multivariate_normal(np.zeros(3), cov, size=4000)
    held = fitted.log_prob(test).mean().item()
    assert held == pytest.approx(stats.multivariate_normal(np.zeros(3), cov).logpdf(test).mean(),
                                 abs=0.05)


def test_predictive_variants_weight_as_documented() -> None:
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.normal(size=(40, 2)), rng.normal(size=(40, 2)) + 8])
    fitted = DPGMM(progress=False, **FAST).fit(x)
    g = torch.tensor([0])
    counts = fitted.states.counts[:, 0]
    alpha = fitted.states.alpha[:, 0].unsqueeze(-1)
    paper = torch.exp(fitted._log_weights(g)[:, 0])
    torch.testing.assert_close(paper.sum(-1), torch.ones(paper.shape[0], dtype=paper.dtype))
    occupied = torch.exp(fitted.with_predictive("occupied")._log_weights(g)[:, 0])
    torch.testing.assert_close(occupied, counts / counts.sum(-1, keepdim=True))
    authors = torch.exp(fitted.with_predictive("authors")._log_weights(g)[:, 0])
    expected = torch.where(counts > 0, counts + alpha, 0.0)
    torch.testing.assert_close(authors, expected / expected.sum(-1, keepdim=True))
    # the authors' average of logs over states is below the average of densities (Jensen)
    lp = fitted.with_predictive("occupied").log_prob(x)
    lp_logs = fitted.with_predictive("occupied")._log_prob_states(
        fitted._whiten(torch.as_tensor(x), g), g).mean(0)[0] - fitted._log_jacobian(g)[0]
    assert bool((lp_logs <= lp + 1e-12).all())
    with pytest.raises(ValueError):
        fitted.with_predictive("mean-field")


def test_within_whitening_is_full_whitening_for_a_gaussian_class() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 6)) @ rng.normal(size=(6, 6))
    full, within = prepare(x, None, "full"), prepare(x, None, "within", max_clusters=4)
    assert within.clusters is not None and within.clusters.tolist() == [1]
    np.testing.assert_array_equal(full.padded, within.padded)


def test_within_whitening_uses_the_clusters_covariance_for_a_clustered_class() -> None:
    rng = np.random.default_rng(5)
    centres = rng.normal(size=(3, 4)) * 8.0
    x = centres[rng.integers(0, 3, 600)] + rng.normal(size=(600, 4)) * 0.5
    cov, k = within_cluster_covariance(x - x.mean(0), 6)
    assert k == 3
    np.testing.assert_allclose(cov, 0.25 * np.eye(4), atol=0.05)
    prep = prepare(x, None, "within")
    assert prep.clusters is not None and prep.clusters.tolist() == [3]
    assert prep.chol is not None
    np.testing.assert_allclose(prep.chol[0] @ prep.chol[0].T, cov)


def test_within_cluster_covariance_tries_only_clusters_the_points_can_fill() -> None:
    rng = np.random.default_rng(6)
    x = rng.normal(size=(20, 8))  # 2 clusters would need 18 points, 3 would need 27
    assert within_cluster_covariance(x - x.mean(0), 6)[1] in (1, 2)


def test_within_whitening_widens_the_means_prior_to_span_the_class() -> None:
    """Under ``"within"`` whitening kappa0 is scaled by d / tr(W^-1 S) (W within-cluster, S the
    class's covariance), so that the components' means have a prior as wide as the class; the
    sampler's log joint then equals the NIW marginal with that kappa0."""
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(3, 4)) * 6.0
    x = centres[rng.integers(0, 3, 90)] + rng.normal(size=(90, 4)) * 0.5
    prep = prepare(x, None, FIRM.whiten)
    assert prep.clusters is not None and prep.clusters.tolist() == [3]
    assert prep.kappa_scale is not None
    y = prep.padded[0]
    np.testing.assert_allclose(prep.kappa_scale[0], 4 / np.trace(y.T @ y / 90))
    assert prep.kappa_scale[0] < 0.1
    cfg = DPGMMConfig(prior=FIRM, **FAST)
    data = _sampler_data(prep, cfg, torch.float64, torch.device("cpu"))
    alpha = torch.tensor([0.7], dtype=torch.float64)
    state = refresh(data, torch.zeros(data.valid.shape, dtype=torch.long), alpha)
    crp = math.log(0.7) + math.lgamma(90) + math.lgamma(0.7) - math.lgamma(90.7)
    scaled = NIWPrior("scaled", FIRM.kappa0 * float(prep.kappa_scale[0]), FIRM.dof_per_dim,
                      FIRM.dof_offset, FIRM.scale_components, whiten="within")
    expected = _niw_log_marginal_numpy(y, scaled) + crp
    assert log_joint(state, data).item() == pytest.approx(expected, rel=1e-10)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), whiten=st.sampled_from(["full", "within"]),
       scale=st.sampled_from([1e-6, 1.0, 1e4]))
def test_a_class_in_a_subspace_is_named_whatever_the_rounding(seed: int, whiten: str,
                                                               scale: float) -> None:
    """A class whose points span fewer dims than the data (a ReLU channel dead for the class,
    rotated by the reducer) has no density there: full whitening names it as singular, whether
    or not its covariance's Cholesky factorisation happens to survive the rounding (CI's
    LinAlgError came from a second, unchecked factorisation of such a covariance)."""
    rng = np.random.default_rng(seed)
    rotation = np.linalg.qr(rng.normal(size=(4, 4)))[0]
    flat = np.c_[rng.normal(size=(16, 3)), np.zeros(16)] @ rotation * scale
    x = np.r_[flat, rng.normal(size=(16, 4)) * scale]
    with pytest.raises(ValueError, match=r"group\(s\) \[0\] are singular"):
        prepare(x, np.repeat([0, 1], 16), whiten, max_clusters=3)
