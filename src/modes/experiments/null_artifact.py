"""Does the density model manufacture structure? Fits of single-Gaussian ("null") classes.

Each null class is one Gaussian with a chosen covariance spectrum (eigenvalues ``j^-gamma``,
``gamma = 0`` isotropic, larger gammas more correlated, random rotation), so every quantity the
claims use has a known true value: the held-out log-density (the Gaussian's own), the relative
entropy of Eq. 4 (``0.5 (sum log diag Sigma - log det Sigma)``) and one mode of class fitting.
:func:`run_setting` fits a batch of such classes with one DP-GMM setting (n, d, prior, starts,
sweeps, block size) and reports, per class and chain: the components reached, the exact log joint
``log p(X, c | alpha)`` of the state reached and of the one-component partition of the same class
(so a many-component state is the posterior's *preference* when its log joint is higher, and a
one-component chain is then *trapped*), in-sample and held-out log-densities and Eq. 4.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs
import numpy as np
import torch
from scipy import stats

from modes.components.density import DPGMM, DPGMMConfig
from modes.components.density.model import DTYPES, prepare
from modes.components.density.model import _sampler_data as sampler_data
from modes.components.density.niw import NIWPrior, get_prior
from modes.components.density.sampler import log_joint, refresh
from modes.seeds import stream

MANY_COMPONENTS = 10  # a chain "in a many-component state" holds more components than this

DEFAULT_GAMMAS = (0.0, 0.25, 0.5, 1.0, 2.0)


@attrs.frozen(eq=False)
class GaussianClasses:
    """``x`` (C, n, d) training points and ``test`` (C, m, d) held-out points of C Gaussians."""

    x: np.ndarray
    test: np.ndarray
    means: np.ndarray
    covs: np.ndarray
    gammas: np.ndarray

    @property
    def num_classes(self) -> int:
        return int(self.x.shape[0])

    def true_log_density(self, points: np.ndarray, c: int) -> np.ndarray:
        return np.asarray(stats.multivariate_normal(self.means[c], self.covs[c]).logpdf(points))

    def true_relative_entropy(self, c: int) -> float:
        """Eq. 4's target for a Gaussian: KL(N(mu, S) || N(mu, diag S))."""
        cov = self.covs[c]
        return 0.5 * float(np.log(np.diag(cov)).sum() - np.linalg.slogdet(cov)[1])


def spectrum_covariance(d: int, gamma: float, rng: np.random.Generator) -> np.ndarray:
    """A covariance with eigenvalues ``j^-gamma`` (normalised to trace d), randomly rotated."""
    eig = np.arange(1, d + 1, dtype=np.float64) ** -gamma
    eig *= d / eig.sum()
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    q *= np.sign(np.diag(r))
    return np.asarray((q * eig) @ q.T)


def gaussian_classes(num: int, n: int, d: int, seed: int, gammas: Sequence[float] | None = None,
                     n_test: int = 500, mean_spread: float = 3.0) -> GaussianClasses:
    """``num`` single-Gaussian classes; spectra cycle through ``gammas`` (or are drawn uniformly
    from [0, 2] when None, a continuum from isotropic to strongly correlated)."""
    rng = np.random.default_rng(seed)
    if gammas is None:
        g = rng.uniform(0.0, 2.0, size=num)
    else:
        g = np.resize(np.asarray(gammas, dtype=np.float64), num)
    covs = np.stack([spectrum_covariance(d, float(gi), rng) for gi in g])
    means = rng.normal(size=(num, d)) * mean_spread
    chol = np.linalg.cholesky(covs)
    draw = lambda m: means[:, None] + np.einsum("cij,cmj->cmi", chol,  # noqa: E731
                                                rng.normal(size=(num, m, d)))
    return GaussianClasses(x=draw(n), test=draw(n_test), means=means, covs=covs, gammas=g)


@attrs.frozen
class ArtifactSetting:
    """One DP-GMM setting of the null-artifact measurement."""

    n: int
    d: int
    prior: NIWPrior = attrs.field(converter=get_prior)
    starts: tuple[str, ...] = ("random", "one")
    chains: int = 4
    sweeps: int = 60
    burn_in: int = 40
    thin: int = 4
    block_size: int = 4
    init_components: int = 6
    seed: int = 0
    kl_samples: int = 2000

    def model(self) -> DPGMM:
        return DPGMM(config=DPGMMConfig(
            sweeps=self.sweeps, burn_in=self.burn_in, thin=self.thin, block_size=self.block_size,
            init_components=self.init_components, chains=self.chains, seed=self.seed,
            prior=self.prior, starts=self.starts), progress=False)


_PER_CHAIN = ("start", "components", "log_joint", "log_joint_one", "in_sample", "held_out",
              "relative_entropy", "relative_entropy_occupied")


@attrs.frozen(eq=False)
class ArtifactOutcome:
    """Per (chain, class) arrays of one setting, plus the truth per class."""

    setting: ArtifactSetting
    start: np.ndarray  # (chains,) start of each chain
    components: np.ndarray  # (chains, C) components in the last sweep
    log_joint: np.ndarray  # (chains, C) log p(X, c | alpha) of the last sweep's state
    log_joint_one: np.ndarray  # (chains, C) same alpha, every point in one component
    in_sample: np.ndarray  # (chains, C) mean in-sample Eq. 3 log-density of the chain
    held_out: np.ndarray  # (chains, C) mean held-out Eq. 3 log-density
    relative_entropy: np.ndarray  # (chains, C) Eq. 4 against the max-entropy Gaussian
    relative_entropy_occupied: np.ndarray  # (chains, C) the same, "occupied" predictive
    true_held_out: np.ndarray  # (C,)
    true_relative_entropy: np.ndarray  # (C,)
    gammas: np.ndarray  # (C,)

    @property
    def many(self) -> np.ndarray:
        return np.asarray(self.components > MANY_COMPONENTS)

    @property
    def preference(self) -> np.ndarray:
        """log joint of the state reached minus that of one component (> 0: preferred)."""
        return np.asarray(self.log_joint - self.log_joint_one)

    def select(self, chains: np.ndarray) -> ArtifactOutcome:
        """The outcome of the chains selected by the boolean mask ``chains``."""
        if not np.any(chains):
            raise ValueError("select needs at least one chain")
        return attrs.evolve(self, **{f: getattr(self, f)[chains] for f in _PER_CHAIN})

    def summary(self, chains: np.ndarray | None = None) -> dict[str, float]:
        """One row of the measurement table, over the chains selected by the mask ``chains``."""
        o = self if chains is None else self.select(chains)
        many, pref = o.many, o.preference
        held, rel = o.held_out - o.true_held_out, o.relative_entropy - o.true_relative_entropy
        rel_occ = o.relative_entropy_occupied - o.true_relative_entropy
        return {
            "frac_many": float(many.mean()),
            "components_median": float(np.median(o.components)),
            "pref_many_median": float(np.median(pref[many])) if many.any() else math.nan,
            "pref_few_median": float(np.median(pref[~many])) if (~many).any() else math.nan,
            "in_sample_minus_truth": float(np.median(o.in_sample - o.true_held_out)),
            "held_out_minus_truth": float(np.median(held)),
            "held_out_worst": float(np.min(held)),
            "rel_entropy_error": float(np.median(rel)),
            "rel_entropy_worst": float(np.max(np.abs(rel))),
            "rel_entropy_occupied_error": float(np.median(rel_occ)),
            "rel_entropy_occupied_worst": float(np.max(np.abs(rel_occ))),
        }


def one_component_log_joint(setting: ArtifactSetting, x: np.ndarray, groups: np.ndarray,
                            alpha: np.ndarray) -> np.ndarray:
    """Exact log p(X, c | alpha) of the one-component partition of every group, (rows,), at the
    given per-row alphas (rows ordered chain-major, as the sampler's)."""
    cfg = setting.model().config
    prep = prepare(x, groups, cfg.prior.whiten, cfg.prior.max_clusters)
    data = sampler_data(prep, cfg, DTYPES[cfg.dtype], torch.device("cpu"))
    z = torch.zeros(data.valid.shape, dtype=torch.long)
    state = refresh(data, z, torch.as_tensor(alpha, dtype=data.y.dtype))
    return np.asarray(log_joint(state, data).numpy())


def run_setting(setting: ArtifactSetting, classes: GaussianClasses) -> ArtifactOutcome:
    """Fit ``classes`` with ``setting``; every number of :class:`ArtifactOutcome`."""
    num, n, d = classes.x.shape
    if (n, d) != (setting.n, setting.d):
        raise ValueError(f"classes are (n={n}, d={d}), setting wants ({setting.n}, {setting.d})")
    x = classes.x.reshape(num * n, d)
    groups = np.repeat(np.arange(num), n)
    fitted = setting.model().fit(x, groups, warn=False)
    tr = fitted.traces
    alpha_last = tr.alpha[-1].reshape(-1)
    one = one_component_log_joint(setting, x, groups, alpha_last).reshape(setting.chains, num)
    shape = (setting.chains, num)
    in_sample, held, rel, occ = (np.empty(shape) for _ in range(4))
    for c in range(setting.chains):
        chain = fitted.chain(c)
        own = chain.log_prob_own(x, groups).numpy().reshape(num, n)
        in_sample[c] = own.mean(1)
        for g in range(num):
            kl_seed = stream(setting.seed, "relative-entropy", g).int_seed()
            held[c, g] = float(chain.log_prob(classes.test[g], group=g).mean())
            rel[c, g] = chain.relative_entropy(group=g, num_samples=setting.kl_samples,
                                               seed=kl_seed)
            occ[c, g] = chain.with_predictive("occupied").relative_entropy(
                group=g, num_samples=setting.kl_samples, seed=kl_seed)
    truth = np.array([classes.true_log_density(classes.test[g], g).mean() for g in range(num)])
    return ArtifactOutcome(
        setting=setting,
        start=np.array([setting.starts[c % len(setting.starts)] for c in range(setting.chains)]),
        components=tr.num_components[-1], log_joint=tr.log_joint[-1], log_joint_one=one,
        in_sample=in_sample, held_out=held, relative_entropy=rel, relative_entropy_occupied=occ,
        true_held_out=truth,
        true_relative_entropy=np.array([classes.true_relative_entropy(g) for g in range(num)]),
        gammas=classes.gammas)
