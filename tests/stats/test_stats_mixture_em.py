"""The numpy EM of :func:`modes.stats.modality.mixture_bic` against scikit-learn's
``GaussianMixture`` with the same starts, floor and stopping rule."""

from __future__ import annotations

import numpy as np
import pytest

from modes.stats.modality import mixture_bic, sklearn_mixture_bic


@pytest.mark.parametrize("seed", range(12))
def test_mixture_bic_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = (20, 40, 100)[seed % 3]
    x = rng.standard_normal(n) + (6.0 * (np.arange(n) < n // 4) if seed % 2 else 0.0)
    ours = mixture_bic(x)
    one, two, means = sklearn_mixture_bic(x)
    assert ours.bic_one == pytest.approx(one, rel=1e-9, abs=1e-8)
    assert ours.bic_two == pytest.approx(two, rel=1e-5, abs=1e-4)
    assert ours.means == pytest.approx(means, rel=1e-4, abs=1e-4)
