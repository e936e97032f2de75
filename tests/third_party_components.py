"""A density model and a certifier as a third-party package would ship them, exposed through the
``modes.components`` entry-point group of a real installed distribution
(:func:`install_distribution` writes its ``.dist-info``): nothing in ``modes`` names them.

``density:pca_bgm`` is scikit-learn's ``PCA`` followed by one ``BayesianGaussianMixture`` per
class, a :class:`modes.registry.Component` with its own config; ``certifier:hoeffding-smoothing``
is randomized smoothing (Cohen et al. 2019) certified with Hoeffding's bound instead of
Clopper-Pearson's, a plain factory. Both take their version from the distribution.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import numpy as np
import torch
from scipy.stats import norm
from sklearn.decomposition import PCA
from sklearn.mixture import BayesianGaussianMixture
from torch import nn

from modes.components.certification import ABSTAIN, Certificates
from modes.components.protocols import DensityContext, StateLogDensities
from modes.registry import ENTRY_POINT_GROUP, Component

DIST_NAME = "modes_third_party"


@attrs.frozen
class PCABGMConfig:
    """PCA to at most ``max_dims`` directions, then per class a variational Dirichlet-process
    mixture of at most ``components`` full-covariance Gaussians."""

    max_dims: int = 8
    components: int = 3
    seed: int = 0


@attrs.frozen(eq=False)
class _ClassFit:
    mixture: BayesianGaussianMixture
    mean: np.ndarray  # the class's mean and variance in PCA coordinates (Eq. 4's q)
    var: np.ndarray
    size: int

    def log_prob(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(self.mixture.score_samples(z))

    def log_q(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(norm.logpdf(z, self.mean, np.sqrt(self.var)).sum(-1))

    def sample(self, m: int, rng: np.random.Generator) -> np.ndarray:
        mix = self.mixture
        which = rng.choice(mix.weights_.size, size=m, p=mix.weights_ / mix.weights_.sum())
        chol = np.linalg.cholesky(mix.covariances_)[which]  # (m, d, d)
        z = rng.standard_normal(mix.means_[which].shape)
        return np.asarray(mix.means_[which] + np.einsum("mij,mj->mi", chol, z))


@attrs.frozen(eq=False)
class FittedPCABGM:
    pca: PCA
    fits: dict[int, _ClassFit]

    @property
    def groups(self) -> np.ndarray:
        return np.array(sorted(self.fits), dtype=np.int64)

    def _fit_of(self, group: int) -> _ClassFit:
        if int(group) not in self.fits:
            raise ValueError(f"unknown group {group!r}; fitted groups are {sorted(self.fits)}")
        return self.fits[int(group)]

    def log_prob_own(self, x: np.ndarray, groups: np.ndarray) -> np.ndarray:
        z = self.pca.transform(np.asarray(x, dtype=np.float64))
        out = np.empty(len(z))
        for g in np.unique(groups):
            rows = np.flatnonzero(groups == g)
            out[rows] = self._fit_of(int(g)).log_prob(z[rows])
        return out

    def state_log_prob_own(self, x: np.ndarray, groups: np.ndarray) -> StateLogDensities:
        return StateLogDensities(states=self.log_prob_own(x, groups)[None], chains=1)

    def collapsed_fraction(self) -> np.ndarray:
        return np.zeros(len(self.fits))

    def relative_entropy(self, group: int, num_samples: int, seed: int) -> float:
        fit = self._fit_of(group)
        z = fit.sample(num_samples, np.random.default_rng(seed))
        return float(np.mean(fit.log_prob(z) - fit.log_q(z)))

    def kl_to_all(self, group: int, num_samples: int, seed: int | None = None) -> np.ndarray:
        fit = self._fit_of(group)
        z = fit.sample(num_samples, np.random.default_rng(seed))
        log_p = fit.log_prob(z)
        kl = np.array([np.mean(log_p - self.fits[int(g)].log_prob(z)) for g in self.groups])
        kl[np.flatnonzero(self.groups == group)] = 0.0
        return kl

    def classify(self, x: np.ndarray) -> np.ndarray:
        z = self.pca.transform(np.asarray(x, dtype=np.float64))
        sizes = np.array([self.fits[int(g)].size for g in self.groups], dtype=np.float64)
        scores = np.stack([self.fits[int(g)].log_prob(z) for g in self.groups], axis=1)
        return self.groups[np.argmax(scores + np.log(sizes / sizes.sum()), axis=1)]


@attrs.frozen
class PCABayesianMixture:
    config: PCABGMConfig

    def fit(self, x: np.ndarray, groups: np.ndarray) -> FittedPCABGM:
        x = np.asarray(x, dtype=np.float64)
        pca = PCA(n_components=min(self.config.max_dims, x.shape[1]), random_state=0).fit(x)
        z = pca.transform(x)
        fits = {}
        for g in np.unique(groups):
            zg = z[groups == g]
            mixture = BayesianGaussianMixture(
                n_components=min(self.config.components, len(zg)), covariance_type="full",
                weight_concentration_prior_type="dirichlet_process", reg_covar=1e-3,
                max_iter=200, random_state=self.config.seed).fit(zg)
            fits[int(g)] = _ClassFit(mixture, zg.mean(0), zg.var(0) + 1e-9, len(zg))
        return FittedPCABGM(pca, fits)


def configure(context: DensityContext) -> PCABGMConfig:
    """Its own knobs: the stage's seed; the DP-GMM's sampler settings mean nothing here."""
    return PCABGMConfig(seed=context.seed)


DENSITY = Component("density", "pca_bgm", PCABayesianMixture, config=PCABGMConfig,
                    configure=configure)


class HoeffdingSmoothing:
    """Randomized smoothing whose CERTIFY bounds P(f(x + eps) = cA) below with Hoeffding's
    inequality, p_hat - sqrt(log(1 / alpha) / (2 n)) (looser than Clopper-Pearson's)."""

    def __init__(self, base_model: nn.Module, num_classes: int, sigma: float, seed: int) -> None:
        self.base_model = base_model.eval()
        self.num_classes, self.sigma = num_classes, sigma
        self.generator = torch.Generator().manual_seed(seed)

    def _counts(self, x: torch.Tensor, num: int, batch_size: int) -> np.ndarray:
        counts = np.zeros(self.num_classes, dtype=np.int64)
        with torch.no_grad():
            for start in range(0, num, batch_size):
                m = min(batch_size, num - start)
                noise = torch.randn((m, *x.shape), generator=self.generator) * self.sigma
                predicted = self.base_model(x.unsqueeze(0) + noise.to(x)).argmax(1)
                counts += np.bincount(predicted.cpu().numpy(), minlength=self.num_classes)
        return counts

    def certify_dataset(self, images: torch.Tensor, n0: int, n: int, alpha: float,
                        batch_size: int, *, labels: np.ndarray | None = None,
                        progress: bool = False) -> Certificates:
        predictions = np.full(len(images), ABSTAIN, dtype=np.int64)
        radii = np.zeros(len(images))
        for i, x in enumerate(images):
            top = int(self._counts(x, n0, batch_size).argmax())
            p_lower = self._counts(x, n, batch_size)[top] / n - np.sqrt(np.log(1 / alpha) / (2 * n))
            if p_lower > 0.5:
                predictions[i], radii[i] = top, self.sigma * norm.ppf(p_lower)
        return Certificates(predictions=predictions, radii=radii,
                            labels=None if labels is None else np.asarray(labels, np.int64))


def install_distribution(site: Path, version: str) -> Path:
    """Write ``modes_third_party`` ``version``'s ``.dist-info`` into the directory ``site`` (to be
    put on ``sys.path``), declaring the two components; returns ``site``."""
    info = site / f"{DIST_NAME}-0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {DIST_NAME}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\n"
        f"density:pca_bgm = third_party_components:DENSITY\n"
        f"certifier:hoeffding-smoothing = third_party_components:HoeffdingSmoothing\n")
    return site
