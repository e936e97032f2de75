"""DPGMM public API: accuracy on known mixtures, Eq. 4 estimates, bad input, checkpoint resume."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.special import logsumexp

from modes import registry
from modes.components.density import DPGMM, FittedDPGMM
from modes.components.density.model import DPGMMConfig
from modes.components.density.sampler import refresh, sweep
from modes.store import ArtifactStore

torch.set_num_threads(1)
FAST = {"sweeps": 30, "burn_in": 20, "thin": 2, "progress": False}
MEANS = np.array([[0.0, 0, 0, 0], [4, 0, 0, 0], [0, 4, 4, 0]])


def _gmm(n: int, rng: np.random.Generator) -> np.ndarray:
    return MEANS[rng.integers(0, 3, n)] + rng.normal(size=(n, 4))


def _gmm_log_density(x: np.ndarray) -> np.ndarray:
    parts = [stats.multivariate_normal(m, np.eye(4)).logpdf(x) for m in MEANS]
    return logsumexp(np.stack(parts), 0) - np.log(3)


@pytest.fixture(scope="module")
def gmm_fit() -> tuple[FittedDPGMM, np.ndarray]:
    rng = np.random.default_rng(0)
    fitted = DPGMM(sweeps=60, burn_in=40, thin=2, chains=2, seed=0, progress=False).fit(
        _gmm(600, rng)
    )
    return fitted, _gmm(3000, rng)


def test_held_out_log_predictive_close_to_true_density(gmm_fit) -> None:
    fitted, test = gmm_fit
    ours = fitted.log_prob(test).mean().item()
    truth = _gmm_log_density(test).mean()
    assert abs(ours - truth) < 0.15, f"mean log predictive {ours:.3f} vs true {truth:.3f}"
    assert fitted.convergence.rhat.shape == (1,)
    assert fitted.traces.log_joint.shape == (60, 2, 1)


def test_samples_have_the_moments_of_the_predictive(gmm_fit) -> None:
    fitted, _ = gmm_fit
    st = fitted.states
    g = torch.tensor([0])
    w = torch.exp(fitted._log_weights(g)[:, 0]) / st.counts.shape[0]  # (T, K), sums to 1
    counts = st.counts[:, 0]
    kappa, df = 0.01 + counts, fitted.nu0 + counts - fitted.dim + 1
    cov_k = (
        torch.linalg.inv(st.precision[:, 0]) * ((kappa + 1) / (kappa * (df - 2)))[..., None, None]
    )
    mean_k = st.mean[:, 0]
    mean = (w[..., None] * mean_k).sum((0, 1))
    second = (w[..., None, None] * (cov_k + mean_k[..., :, None] * mean_k[..., None, :])).sum(
        (0, 1)
    )
    cov = second - torch.outer(mean, mean)
    draws = fitted.sample(20000, seed=3)
    assert draws.shape == (20000, 4)
    y = (draws - fitted.loc[0]) / fitted.scale[0]
    z = (y.mean(0) - mean) / torch.sqrt(torch.diagonal(cov) / 20000)
    assert z.abs().max() < 4.5, f"sample mean off by {z.tolist()} standard errors"
    torch.testing.assert_close(
        torch.diagonal(torch.cov(y.T)), torch.diagonal(cov), rtol=0.08, atol=0
    )
    assert fitted.sample(10, seed=1).equal(fitted.sample(10, seed=1))


def test_relative_entropy_positive_for_separated_mixture(gmm_fit) -> None:
    fitted, _ = gmm_fit
    re = fitted.relative_entropy(num_samples=4000)
    assert re > 0.5, f"relative entropy of a 3-component mixture {re:.3f}"
    literal = fitted.relative_entropy(num_samples=4000, per_state=True)
    assert literal >= re - 0.05


def test_relative_entropy_near_zero_for_gaussian_and_kl_between_shifted_gaussians() -> None:
    rng = np.random.default_rng(1)
    d, n, shift = 2, 400, 2.0
    x = np.concatenate([rng.normal(size=(n, d)), rng.normal(size=(n, d)) + shift / np.sqrt(d)])
    groups = np.repeat([3, 7], n)
    fitted = DPGMM(**FAST, seed=1).fit(x, groups)
    for g in (3, 7):
        re = fitted.relative_entropy(group=g, num_samples=4000)
        assert abs(re) < 0.1, f"relative entropy of Gaussian group {g}: {re:.3f}"
    kl = fitted.kl(3, 7, num_samples=4000)
    assert kl == pytest.approx(shift**2 / 2, abs=0.3), f"KL {kl:.3f} vs {shift**2 / 2}"
    assert fitted.kl(3, 3, num_samples=2000) == pytest.approx(0.0, abs=1e-9)


def test_batched_scores_agree_with_per_group_scores() -> None:
    rng = np.random.default_rng(2)
    x = np.concatenate(
        [rng.normal(size=(50, 3)), rng.normal(size=(30, 3)) * 2 + 3, rng.normal(size=(40, 3)) - 3]
    )
    groups = np.repeat([10, 20, 30], [50, 30, 40])
    fitted = DPGMM(**FAST).fit(x, groups)
    q = rng.normal(size=(25, 3)) * 2
    q_groups = rng.choice([10, 20, 30], 25)
    every = fitted.log_prob_all(q)
    assert every.shape == (25, 3)
    for j, g in enumerate(fitted.groups):
        torch.testing.assert_close(every[:, j], fitted.log_prob(q, group=g))
    own = fitted.log_prob_own(q, q_groups)
    idx = np.searchsorted(fitted.groups, q_groups)
    torch.testing.assert_close(own, every[torch.arange(25), idx])
    with pytest.raises(ValueError, match=r"unknown group id\(s\) \[15\]"):
        fitted.log_prob_own(q[:2], [10, 15])
    labels = fitted.classify(x)
    assert (labels == groups).mean() > 0.9
    flat = fitted.classify(q, priors={10: 1.0, 20: 0.0, 30: 0.0})
    assert set(flat.tolist()) == {10}


@pytest.mark.parametrize("block_size", [1, 4])
def test_incremental_statistics_equal_recomputation(block_size: int) -> None:
    rng = np.random.default_rng(block_size)
    fitted_model = DPGMM(**FAST)
    from modes.components.density.model import _sampler_data, prepare

    prep = prepare(rng.normal(size=(90, 3)) * [1, 2, 3], np.repeat([0, 1, 2], [40, 30, 20]))
    data = _sampler_data(prep, fitted_model.config, torch.float64, torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    state = refresh(
        data, torch.randint(0, 5, (3, 40), generator=gen), torch.ones(3, dtype=torch.float64)
    )
    for _ in range(5):
        state = sweep(state, data, block_size, gen)
    exact = refresh(data, state.z, state.alpha, headroom=0)
    occupied = state.counts > 0
    order = torch.argsort((~occupied).to(torch.int8), dim=1, stable=True)
    k = exact.capacity
    for name in ("counts", "mean", "pmean", "precision", "logdet"):
        incremental = getattr(state, name).gather(
            1,
            order[:, :k]
            .reshape(3, k, *[1] * (getattr(state, name).ndim - 2))
            .expand(-1, -1, *getattr(state, name).shape[2:]),
        )
        torch.testing.assert_close(incremental, getattr(exact, name), rtol=1e-9, atol=1e-9)


def test_float32_and_float64_agree() -> None:
    rng = np.random.default_rng(4)
    x, test = _gmm(300, rng), _gmm(500, rng)
    scores = {}
    for dtype in ("float32", "float64"):
        fitted = DPGMM(**FAST, dtype=dtype).fit(torch.as_tensor(x, dtype=torch.float32))
        lp = fitted.log_prob(test)
        assert lp.dtype == getattr(torch, dtype)
        scores[dtype] = lp.mean().item()
    truth = _gmm_log_density(test).mean()
    for dtype, s in scores.items():
        assert abs(s - truth) < 0.3, f"{dtype}: {s:.3f} vs true {truth:.3f}"


def test_checkpoint_resume_equals_uninterrupted_run(tmp_path) -> None:
    rng = np.random.default_rng(5)
    x, groups = rng.normal(size=(120, 3)), np.repeat([0, 1], 60)
    cfg = {"sweeps": 16, "burn_in": 8, "thin": 2, "progress": False, "seed": 9, "refresh_every": 3}
    reference = DPGMM(**cfg).fit(x, groups)
    store = ArtifactStore(tmp_path)

    class Interrupt(Exception):
        pass

    def stop(sweep_index: int, _traces) -> None:
        if sweep_index == 10:
            raise Interrupt

    with pytest.raises(Interrupt):
        DPGMM(**cfg).fit(x, groups, store=store, checkpoint_every=5, callback=stop)
    seen: list[int] = []
    resumed = DPGMM(**cfg).fit(
        x, groups, store=store, checkpoint_every=5, callback=lambda s, _t: seen.append(s)
    )
    assert seen[0] == 10, "resume must restart after the last checkpoint (sweep 10)"
    for name in ("counts", "mean", "precision", "logdet", "alpha"):
        assert torch.equal(getattr(resumed.states, name), getattr(reference.states, name)), name
    np.testing.assert_array_equal(resumed.traces.log_joint, reference.traces.log_joint)
    q = rng.normal(size=(5, 3))
    assert torch.equal(resumed.log_prob(q, group=1), reference.log_prob(q, group=1))


@pytest.mark.parametrize(
    ("x", "groups", "message"),
    [
        (np.array([[0.0, np.nan], [1, 2], [3, 4]]), None, "NaN or Inf"),
        (np.array([[0.0, np.inf], [1, 2], [3, 4]]), None, "NaN or Inf"),
        (np.zeros(5), None, "2-D"),
        (np.ones((4, 2, 1)), None, "2-D"),
        (
            np.random.default_rng(0).normal(size=(5, 2)),
            np.array([1, 1, 1, 1, 2]),
            r"group\(s\) \[2\]",
        ),
        (
            np.random.default_rng(0).normal(size=(5, 2)),
            np.array([1, 1, 1]),
            "groups must have shape",
        ),
        (np.array([[0.0, 1], [0, 2], [0, 3]]), None, "zero variance in dimension 0"),
    ],
)
def test_bad_input_raises(x, groups, message) -> None:
    with pytest.raises(ValueError, match=message):
        DPGMM(**FAST).fit(x, groups)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sweeps": 10, "burn_in": 10}, "must exceed burn_in"),
        ({"block_size": 0}, "block_size must be >= 1"),
        ({"dtype": "float16"}, "dtype"),
        ({"block_update": "joint"}, "block_update"),
        ({"split_merge": -1}, "split_merge"),
        ({"sweeps": 10, "burn_in": 9, "thin": 2}, "keep at least one"),
    ],
)
def test_bad_config_raises(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        DPGMM(**kwargs)


def test_unknown_group_and_fewer_points_than_dims() -> None:
    rng = np.random.default_rng(6)
    x = rng.normal(size=(30, 8))
    groups = np.repeat([0, 1], [25, 5])
    with pytest.warns(UserWarning, match=r"group\(s\) \[1\] have fewer points than dimensions"):
        fitted = DPGMM(**FAST).fit(x, groups, warn=False)
    lp = fitted.log_prob(rng.normal(size=(4, 8)), group=1)
    assert torch.isfinite(lp).all()
    with pytest.raises(ValueError, match="unknown group id 5"):
        fitted.log_prob(x[:2], group=5)
    with pytest.raises(ValueError, match="group is required"):
        fitted.sample(3)
    with pytest.raises(ValueError, match=r"shape \(m, 8\)"):
        fitted.log_prob(x[:, :3], group=0)


def test_registry_and_config_as_store_key() -> None:
    model = registry.create("density", "dpgmm", sweeps=12, burn_in=8)
    assert isinstance(model, DPGMM)
    assert model.config == DPGMMConfig(sweeps=12, burn_in=8)
    assert hash(model.config) == hash(DPGMMConfig(sweeps=12, burn_in=8))


def test_convergence_warning_for_stuck_chains() -> None:
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.normal(size=(60, 2)), rng.normal(size=(60, 2)) + 8])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = DPGMM(sweeps=24, burn_in=8, thin=2, chains=2, progress=False).fit(x)
    assert fitted.convergence.rhat.shape == (1,)
    flagged = any("has not mixed" in str(w.message) for w in caught)
    assert flagged == (not bool(fitted.convergence.mixed[0]))


def test_kl_to_all_matches_pairwise_kl() -> None:
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(0.0, 1.0, (60, 2)), rng.normal(2.0, 1.0, (60, 2)),
                        rng.normal((0.0, 3.0), 0.5, (60, 2))])
    groups = np.repeat([0, 1, 2], 60)
    fitted = DPGMM(**FAST, seed=2).fit(x, groups)
    row = fitted.kl_to_all(1, num_samples=4000, seed=5)
    assert row.shape == (3,) and row[1] == 0.0
    for q in (0, 2):  # same samples (same seed) -> the same estimate as the pairwise method
        assert row[q] == pytest.approx(fitted.kl(1, q, num_samples=4000, seed=5), rel=1e-6)
