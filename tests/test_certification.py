"""Randomized smoothing against a base classifier with a known answer.

For a linear two-class classifier f(x) = [w.x + b > 0] the smoothed probability of the predicted
class is Phi(|margin| / sigma), where margin = (w.x + b) / ||w|| is the signed l2 distance to the
decision boundary, and the exact certified radius is |margin| (Cohen et al. 2019, Sec. 3.1).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom, norm
from torch import nn

from modes.components.certification import (
    ABSTAIN,
    RandomizedSmoothing,
    certified_radius,
    lower_confidence_bound,
)
from modes.registry import create

torch.set_num_threads(1)

SIGMA = 0.5
ALPHA = 0.001
N0, N = 64, 4000
DIM = 6


def linear_two_class(w: torch.Tensor, b: float) -> nn.Module:
    """Logits (0, w.x + b): class 1 exactly when w.x + b > 0."""
    model = nn.Linear(len(w), 2)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
        model.weight[1] = w
        model.bias[1] = b
    return model


def points_at_margins(w: torch.Tensor, b: float, margins: list[float]) -> torch.Tensor:
    """Points whose signed distance to {w.x + b = 0} is each margin (plus a tangential offset)."""
    unit = w / w.norm()
    tangent = torch.zeros_like(w)
    tangent[0], tangent[1] = -unit[1], unit[0]
    base = -b * unit / w.norm()  # a point on the boundary
    return torch.stack([base + m * unit + 0.7 * tangent for m in margins])


@pytest.fixture(scope="module")
def linear_setup() -> tuple[nn.Module, torch.Tensor, float]:
    w = torch.tensor([0.8, -1.3, 0.4, 2.0, -0.5, 1.1], dtype=torch.float64)
    return linear_two_class(w, 0.3).double(), w, 0.3


def radius_interval(margin: float, n: int, alpha: float, sigma: float, z: float = 4.5) -> tuple:
    """Certified radii reachable when the count of the top class lies within z binomial sds."""
    p = norm.cdf(abs(margin) / sigma)
    lo_count = int(binom.ppf(norm.cdf(-z), n, p))
    hi_count = int(binom.ppf(norm.cdf(z), n, p))
    lo = lower_confidence_bound(lo_count, n, alpha)
    hi = lower_confidence_bound(hi_count, n, alpha)
    return certified_radius(lo, sigma), certified_radius(hi, sigma)


def test_certified_radii_match_the_analytic_radius(linear_setup):
    model, w, b = linear_setup
    margins = [0.25, -0.4, 0.6, -0.9, 1.2]
    xs = points_at_margins(w, b, margins)
    smoothed = RandomizedSmoothing(model, num_classes=2, sigma=SIGMA, seed=1)
    certs = smoothed.certify_dataset(xs, N0, N, ALPHA, batch_size=2000, progress=False,
                                     labels=np.array([int(m > 0) for m in margins]))
    assert np.all(certs.predictions == certs.labels), certs.predictions
    for margin, radius in zip(margins, certs.radii, strict=True):
        lo, hi = radius_interval(margin, N, ALPHA, SIGMA)
        assert lo <= radius <= hi, (margin, radius, lo, hi)
        # The certificate is sound: it never exceeds the exact radius |margin| by more than the
        # Monte Carlo error of a lucky draw (here the count sits well inside 4.5 sds).
        assert radius < abs(margin)
    # Farther from the boundary, larger certificate.
    order = np.argsort(np.abs(margins))
    assert np.all(np.diff(certs.radii[order]) > 0)


def test_points_near_the_boundary_abstain(linear_setup):
    model, w, b = linear_setup
    xs = points_at_margins(w, b, [0.0, 0.004, -0.004])
    smoothed = RandomizedSmoothing(model, num_classes=2, sigma=SIGMA, seed=2)
    certs = smoothed.certify_dataset(xs, N0, N, ALPHA, batch_size=4096, progress=False)
    assert np.all(certs.predictions == ABSTAIN), certs.predictions
    assert np.all(certs.radii == 0.0)
    assert certs.non_abstain_rate == 0.0
    assert smoothed.predict(xs[0], N, ALPHA, batch_size=4096) == ABSTAIN


def test_predict_returns_the_class_far_from_the_boundary(linear_setup):
    model, w, b = linear_setup
    xs = points_at_margins(w, b, [0.8, -0.8])
    smoothed = RandomizedSmoothing(model, num_classes=2, sigma=SIGMA, seed=3)
    assert smoothed.predict(xs[0], 1000, ALPHA, batch_size=500) == 1
    assert smoothed.predict(xs[1], 1000, ALPHA, batch_size=500) == 0
    assert smoothed.certify(xs[0], N0, 1000, ALPHA, batch_size=500)[0] == 1


def test_one_forward_pass_holds_noise_of_several_inputs():
    """Inputs of different classes share passes; each input's counts stay its own."""
    num_classes = 5
    model = nn.Linear(num_classes, num_classes, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.eye(num_classes))
    xs = 50.0 * torch.eye(num_classes)[[0, 3, 1, 4, 2, 3, 0]]  # huge margins: no flips
    smoothed = RandomizedSmoothing(model, num_classes=num_classes, sigma=0.1)
    # 7 inputs x 30 copies in passes of 64: passes straddle inputs.
    preds, radii = smoothed.certify_batch(xs, n0=10, n=30, alpha=0.01, batch_size=64)
    np.testing.assert_array_equal(preds, [0, 3, 1, 4, 2, 3, 0])
    expected = certified_radius(lower_confidence_bound(30, 30, 0.01), 0.1)
    np.testing.assert_allclose(radii, expected)


def test_seeded_generator_reproduces_certificates(linear_setup):
    model, w, b = linear_setup
    xs = points_at_margins(w, b, [0.1, 0.3])
    runs = [RandomizedSmoothing(model, 2, SIGMA, seed=7).certify_batch(xs, 16, 300, 0.01, 128)
            for _ in range(2)]
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_registered_as_a_certifier(linear_setup):
    model, _, _ = linear_setup
    smoothed = create("certifier", "randomized-smoothing", base_model=model, num_classes=2,
                      sigma=0.25)
    assert isinstance(smoothed, RandomizedSmoothing)
    assert smoothed.sigma == 0.25


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"sigma": 0.0}, "sigma"), ({"sigma": -1.0}, "sigma"), ({"num_classes": 0}, "num_classes")],
)
def test_bad_construction_is_rejected(kwargs, match):
    args = {"base_model": nn.Linear(2, 2), "num_classes": 2, "sigma": 0.5, **kwargs}
    with pytest.raises(ValueError, match=match):
        RandomizedSmoothing(**args)


@pytest.mark.parametrize(
    ("n0", "n", "alpha", "match"),
    [(0, 10, 0.01, "n0"), (5, 0, 0.01, "n"), (5, 10, 0.0, "alpha"), (5, 10, 1.0, "alpha"),
     (5, 10, -0.1, "alpha")],
)
def test_bad_certify_arguments_are_rejected(n0, n, alpha, match):
    smoothed = RandomizedSmoothing(nn.Linear(2, 2), 2, 0.5)
    x = torch.zeros(2)
    with pytest.raises(ValueError, match=match):
        smoothed.certify(x, n0, n, alpha, batch_size=8)
    if n0 >= 1:
        with pytest.raises(ValueError, match=match):
            smoothed.predict(x, n, alpha, batch_size=8)


@settings(deadline=None, max_examples=40)
@given(n=st.integers(1, 5000), frac=st.floats(0, 1), alpha=st.floats(1e-6, 0.4))
def test_lower_confidence_bound_is_a_one_sided_clopper_pearson_bound(n, frac, alpha):
    n_a = round(frac * n)
    low = lower_confidence_bound(n_a, n, alpha)
    assert 0.0 <= low <= n_a / n + 1e-12
    if n_a > 0:
        # Clopper-Pearson: at p = low, observing >= n_a successes has probability exactly alpha.
        assert binom.sf(n_a - 1, n, low) == pytest.approx(alpha, rel=1e-4, abs=1e-9)
    assert lower_confidence_bound(n_a, n, min(0.45, 2 * alpha)) >= low


@settings(deadline=None, max_examples=30)
@given(p=st.floats(0.5, 0.999999), sigma=st.floats(0.01, 2.0))
def test_certified_radius_is_sigma_times_probit(p, sigma):
    radius = certified_radius(p, sigma)
    assert radius >= -1e-12
    assert norm.cdf(radius / sigma) == pytest.approx(p, rel=1e-9)
