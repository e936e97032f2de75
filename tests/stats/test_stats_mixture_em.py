"""The numpy EM of :func:`modes.stats.modality.mixture_bic` against scikit-learn's
``GaussianMixture`` with the same starts, floor and stopping rule."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture

from modes.stats.modality import _init_from_split, mixture_bic
from modes.stats.split import largest_gap_split


def _sklearn_bic(x: np.ndarray, floor: float = 0.05) -> tuple[float, float, tuple[float, ...]]:
    centre, sd1 = float(x.mean()), float(x.std())
    z = ((x - centre) / sd1)[:, None]
    settings = {"covariance_type": "full", "reg_covar": floor**2, "max_iter": 1000, "tol": 1e-6,
                "init_params": "random_from_data", "random_state": 0}
    one = GaussianMixture(n_components=1, **settings).fit(z)
    inits = [largest_gap_split(x).high] + [x > q for q in np.quantile(x, [0.25, 0.5, 0.75])]
    inits = list({h.tobytes(): h for h in inits}.values())
    fits = [GaussianMixture(n_components=2, **settings,
                            **_init_from_split(z[:, 0], h, floor**2)).fit(z)
            for h in inits if h.any() and not h.all()]
    two = min(fits, key=lambda f: float(f.bic(z)))
    units = 2.0 * x.size * np.log(sd1)
    means = tuple(sorted(centre + sd1 * two.means_[:, 0]))
    return float(one.bic(z) + units), float(two.bic(z) + units), means


@pytest.mark.parametrize("seed", range(12))
def test_mixture_bic_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = (20, 40, 100)[seed % 3]
    x = rng.standard_normal(n) + (6.0 * (np.arange(n) < n // 4) if seed % 2 else 0.0)
    ours = mixture_bic(x)
    one, two, means = _sklearn_bic(x)
    assert ours.bic_one == pytest.approx(one, rel=1e-9, abs=1e-8)
    assert ours.bic_two == pytest.approx(two, rel=1e-5, abs=1e-4)
    assert ours.means == pytest.approx(means, rel=1e-4, abs=1e-4)
