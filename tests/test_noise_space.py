"""Where the smoothing noise is added: its size in pixels, the radius conversion, the setting.

The authors add sigma = 0.5 after ``Normalize`` (``src/transforms.py``), i.e. sigma * s_c in [0, 1]
pixel units; Cohen et al. add it to pixels. Radii are reported in pixels either way; for the
normalised space that is the largest pixel l2 ball inside the certified ellipsoid, R * min_c s_c.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import binom, norm
from torch import nn

from modes.components.certification import (
    NoiseSpace,
    certified_radius,
    lower_confidence_bound,
)
from modes.scale import FULL, SMOKE, RobustnessScale
from modes.scenario import Scenario, ScenarioConfig
from modes.store import ArtifactStore
from modes.training.ensemble import member_inputs

torch.set_num_threads(1)

SIGMA = 0.5
MEAN = (0.5, 0.45, 0.4)
STD = (0.2, 0.3, 0.25)  # unequal, so the two spaces and the radius bound differ per channel
CIFAR100_MEAN = (0.507, 0.487, 0.441)  # the authors' base_settings.py
CIFAR100_STD = (0.267, 0.256, 0.276)
EXPECTED_PIXEL_SD = {"normalized": tuple(SIGMA * s for s in STD), "pixel": (SIGMA,) * 3}


def pixel_noise(noisy_normalised: torch.Tensor, clean_normalised: torch.Tensor) -> np.ndarray:
    """Per-channel sd, in pixel units, of the noise between two normalised image batches."""
    std = torch.tensor(STD, dtype=noisy_normalised.dtype).view(1, 3, 1, 1)
    diff = ((noisy_normalised - clean_normalised) * std).transpose(0, 1).reshape(3, -1)
    return diff.std(dim=1).numpy()


def test_the_authors_noise_is_about_0_13_pixels_on_cifar100() -> None:
    space = NoiseSpace("normalized", SIGMA, CIFAR100_MEAN, CIFAR100_STD)
    np.testing.assert_allclose(space.pixel_noise_sd, [0.1335, 0.128, 0.138], atol=1e-9)
    pixel = NoiseSpace("pixel", SIGMA, CIFAR100_MEAN, CIFAR100_STD)
    ratio = np.asarray(pixel.pixel_noise_sd) / np.asarray(space.pixel_noise_sd)
    assert np.all((ratio > 3.6) & (ratio < 3.95))  # Cohen et al.'s convention: ~3.7x stronger


@pytest.mark.parametrize("name", ["normalized", "pixel"])
def test_training_noise_has_the_space_pixel_sd(name: str) -> None:
    """The noise the ensemble trainer actually adds to normalised images, measured in pixels."""
    space = NoiseSpace(name, SIGMA, MEAN, STD)
    images = torch.randn(64, 3, 8, 8)
    index = torch.arange(64).view(1, 64)
    noise_std = torch.tensor(space.training_noise_std).view(-1, 1, 1)
    out = member_inputs(images, index, 0, False, [torch.Generator().manual_seed(1)], noise_std)
    sd = pixel_noise(out[:, 0], images)
    np.testing.assert_allclose(sd, EXPECTED_PIXEL_SD[name], rtol=0.03)


class Recorder(nn.Module):
    """A two-class network on normalised images that remembers every input it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1, dtype=torch.float64))
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x.detach().clone())
        return torch.zeros(len(x), 2, dtype=x.dtype) + self.dummy


@pytest.mark.parametrize("name", ["normalized", "pixel"])
def test_certify_noise_has_the_space_pixel_sd(name: str) -> None:
    """The noisy copies CERTIFY feeds the network, measured in pixels."""
    space = NoiseSpace(name, SIGMA, MEAN, STD)
    x = torch.randn(1, 3, 8, 8, dtype=torch.float64)
    net = Recorder()
    certs = space.certify(net, x, num_classes=2, n0=10, n=300, alpha=0.01, batch_size=100)
    seen = torch.cat(net.seen)
    assert len(seen) == 310
    np.testing.assert_allclose(pixel_noise(seen, x.expand_as(seen)), EXPECTED_PIXEL_SD[name],
                               rtol=0.03)
    assert certs.radius_units == "pixel"


def test_radius_conversion_arithmetic() -> None:
    radii = np.array([0.0, 0.4, 1.2])
    np.testing.assert_allclose(NoiseSpace("normalized", SIGMA, MEAN, STD).pixel_radius(radii),
                               radii * min(STD))
    np.testing.assert_allclose(NoiseSpace("pixel", SIGMA, MEAN, STD).pixel_radius(radii), radii)


def pixel_linear(w: torch.Tensor, b: float) -> nn.Module:
    """A network on normalised (3, 1, 1) images that is the linear rule [w.x + b > 0] on pixels."""
    s = torch.tensor(STD, dtype=torch.float64)
    m = torch.tensor(MEAN, dtype=torch.float64)
    linear = nn.Linear(3, 2).double()
    with torch.no_grad():
        linear.weight.zero_()
        linear.bias.zero_()
        linear.weight[1] = w * s  # w . (s z + m) + b
        linear.bias[1] = float(w @ m) + b
    return nn.Sequential(nn.Flatten(), linear)


def normalised_points(w: torch.Tensor, b: float, margins: list[float]) -> torch.Tensor:
    """Normalised (3, 1, 1) images whose pixel-space l2 distance to {w.x + b = 0} is each margin."""
    unit = w / w.norm()
    base = -b * unit / w.norm()
    pixels = torch.stack([base + mgn * unit for mgn in margins])
    s = torch.tensor(STD, dtype=torch.float64)
    m = torch.tensor(MEAN, dtype=torch.float64)
    return ((pixels - m) / s).view(-1, 3, 1, 1)


def certify_pixel_linear(name: str, w: torch.Tensor, margins: list[float]) -> np.ndarray:
    space = NoiseSpace(name, SIGMA, MEAN, STD)
    x = normalised_points(w, 0.1, margins)
    certs = space.certify(pixel_linear(w, 0.1), x, num_classes=2, n0=N0, n=N, alpha=ALPHA,
                          batch_size=N, seed=3)
    np.testing.assert_array_equal(certs.predictions, 1)
    return certs.radii


def reachable_radii(margin: float, z: float = 4.5) -> tuple[float, float]:
    """CERTIFY radii reachable (top-class count within z binomial sds) for a linear rule at
    ``margin`` from the input, in the units of the space the noise is added in."""
    p = norm.cdf(margin / SIGMA)
    lo = lower_confidence_bound(int(binom.ppf(norm.cdf(-z), N, p)), N, ALPHA)
    hi = lower_confidence_bound(int(binom.ppf(norm.cdf(z), N, p)), N, ALPHA)
    return certified_radius(lo, SIGMA), certified_radius(hi, SIGMA)


N0, N, ALPHA = 64, 4000, 0.001
MARGINS = [0.1, 0.2]  # pixel-space l2 distances to the decision boundary


def check_radii(radii: np.ndarray, space_margins: np.ndarray, to_pixels: float) -> None:
    for r, m in zip(radii, space_margins, strict=True):
        lo, hi = reachable_radii(float(m))
        assert lo * to_pixels <= r <= hi * to_pixels, (r, lo * to_pixels, hi * to_pixels)


def test_normalised_radius_in_pixels_is_tight_along_the_smallest_std_channel() -> None:
    """All of w on the channel of smallest std: the ellipsoid's short axis is the margin's
    direction, so R * min s recovers the pixel margin (up to Monte Carlo and the 1 - alpha
    bound)."""
    w = torch.tensor([1.5, 0.0, 0.0], dtype=torch.float64)  # channel 0 has the smallest std
    radii = certify_pixel_linear("normalized", w, MARGINS)
    check_radii(radii, np.array(MARGINS) / min(STD), min(STD))
    assert np.all(radii <= np.array(MARGINS))
    np.testing.assert_allclose(radii, MARGINS, rtol=0.15)


def test_normalised_radius_in_pixels_is_a_valid_conservative_bound() -> None:
    """A generic direction: the certified normalised ball, shrunk by min s, lies inside the true
    pixel distance (valid) and below it (conservative); pixel-space smoothing at the same sigma
    certifies the pixel margin itself."""
    w = torch.tensor([0.4, 1.0, -0.7], dtype=torch.float64)
    unit_s = np.linalg.norm((w / w.norm()).numpy() * np.asarray(STD))
    normalised = certify_pixel_linear("normalized", w, MARGINS)
    # The normalised-space margin is |f| / ||w s|| = margin / ||unit * s||.
    check_radii(normalised, np.array(MARGINS) / unit_s, min(STD))
    assert np.all(normalised <= np.array(MARGINS) * min(STD) / unit_s)
    assert min(STD) / unit_s < 0.8  # the bound gives away > 20% here
    pixel = certify_pixel_linear("pixel", w, MARGINS)
    check_radii(pixel, np.array(MARGINS), 1.0)
    assert np.all(pixel <= np.array(MARGINS))


def test_the_setting_defaults_to_the_authors_space_and_is_validated(tmp_path) -> None:
    assert SMOKE.robustness.noise_space == FULL.robustness.noise_space == "normalized"
    with pytest.raises(ValueError, match="noise_space must be one of"):
        RobustnessScale(bins=2, bin_epochs=1, sigma=0.5, n0=1, n=1, alpha=0.1,
                        certify_per_bin=1, noise_space="input")
    with pytest.raises(ValueError, match="noise_space must be one of"):
        NoiseSpace("raw", SIGMA, MEAN, STD)
    with pytest.raises(ValueError, match="sigma must be > 0"):
        NoiseSpace("pixel", 0.0, MEAN, STD)
    with pytest.raises(ValueError, match="channel_std"):
        NoiseSpace("pixel", SIGMA, MEAN, (0.2, 0.0, 0.1))


def test_a_scenario_can_choose_the_space(tmp_path) -> None:
    store = ArtifactStore(tmp_path)
    assert Scenario(ScenarioConfig(), store).scale.robustness.noise_space == "normalized"
    chosen = Scenario(ScenarioConfig(overrides=("robustness.noise_space=pixel",)), store)
    assert chosen.scale.robustness.noise_space == "pixel"
    assert chosen.scale.robustness.sigma == SMOKE.robustness.sigma
    with pytest.raises(ValueError, match=r"robustness\.noise_space must be one of"):
        Scenario(ScenarioConfig(overrides=("robustness.noise_space=input",)), store)
