"""Where randomized smoothing adds its Gaussian noise: the normalised network input, or pixels.

The appendix: "as suggested by Cohen, Rosenfeld, and Kolter (2019) we add Gaussian noise to the
input augmentation pipeline. We use a noise strength sigma = 0.5" and "We certify with the Gaussian
noise sigma = 0.5". The authors' pipeline (``src/transforms.py`` of mjamroz90/dnn-class-fitting)
adds ``randn_like(x) * noise_level`` *after* ``Normalize(mean, std)``, and their
``run_certification.py`` hands Cohen et al.'s ``Smooth`` the normalised images: their sigma is in
normalised units, i.e. ``sigma * s_c`` in [0, 1] pixel units for a channel of pixel std ``s_c``
(CIFAR-100: 0.13-0.14). Cohen et al. add sigma in pixel units, about 3.7 times stronger noise.

Two spaces, one setting (:attr:`modes.scale.RobustnessScale.noise_space`) for both noise training
and CERTIFY:

``"normalized"`` (default: the authors', it produced Fig. 3)
    N(0, sigma^2 I) is added to the normalised input; CERTIFY runs on normalised images.
``"pixel"`` (Cohen et al.)
    N(0, sigma^2 I) is added to [0, 1] pixels; CERTIFY runs on pixel images through
    :class:`PixelSpace`, which normalises before the network.

Radii are always reported in [0, 1] pixel units (:meth:`NoiseSpace.pixel_radius`).
"""

from __future__ import annotations

import attrs
import numpy as np
import torch
from torch import nn

from modes.components.certification.smoothing import Certificates, RandomizedSmoothing
from modes.components.protocols import Certifier, CertifierFactory
from modes.scale import NOISE_SPACES


class PixelSpace(nn.Module):
    """``net`` applied to pixel-space images: normalises ``(x - mean) / std`` per channel first."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, net: nn.Module, mean: tuple[float, ...], std: tuple[float, ...]):
        super().__init__()
        self.net = net
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.net((x - self.mean) / self.std)
        return out


def _check_space(_: object, __: object, value: str) -> None:
    if value not in NOISE_SPACES:
        raise ValueError(f"noise_space must be one of {list(NOISE_SPACES)}, got {value!r}")


def _check_std(_: object, __: object, value: tuple[float, ...]) -> None:
    if not value or not all(s > 0 for s in value):
        raise ValueError(f"channel_std must be positive per channel, got {value!r}")


@attrs.frozen
class NoiseSpace:
    """Smoothing noise of std ``sigma`` added in space ``name`` to images normalised per channel
    with pixel-unit ``channel_mean`` / ``channel_std`` (a dataset's, :mod:`modes.data.dataset`).
    """

    name: str = attrs.field(validator=_check_space)
    sigma: float = attrs.field(converter=float)
    channel_mean: tuple[float, ...] = attrs.field(converter=tuple)
    channel_std: tuple[float, ...] = attrs.field(converter=tuple, validator=_check_std)

    def __attrs_post_init__(self) -> None:
        if not self.sigma > 0:
            raise ValueError(f"sigma must be > 0, got {self.sigma!r}")
        if len(self.channel_mean) != len(self.channel_std):
            raise ValueError(f"channel_mean has {len(self.channel_mean)} channels but channel_std "
                             f"has {len(self.channel_std)}")

    @property
    def pixel_noise_sd(self) -> tuple[float, ...]:
        """Per channel, the sd of the added noise in [0, 1] pixel units."""
        if self.name == "pixel":
            return tuple(self.sigma for _ in self.channel_std)
        return tuple(self.sigma * s for s in self.channel_std)

    @property
    def training_noise_std(self) -> tuple[float, ...]:
        """Per channel, the std of the noise to add to *normalised* training images (what
        :func:`modes.training.ensemble.train_ensemble` takes as ``noise_std``)."""
        return tuple(sd / s for sd, s in zip(self.pixel_noise_sd, self.channel_std, strict=True))

    def pixel_radius(self, radius: np.ndarray | float) -> np.ndarray:
        """A CERTIFY radius (in the units of the space the noise was added in) in pixel units.

        ``"pixel"``: unchanged. ``"normalized"``: the certificate is the l2 ball
        ``||(x' - x) / s||_2 < R`` of normalised units; in pixels that is an ellipsoid with
        semi-axis ``R * s_c`` along channel c. With unequal channel stds it is not an l2 ball, so
        the radius reported is that of the largest pixel l2 ball inside it, ``R * min_c s_c``
        (since ``||d / s||_2 <= ||d||_2 / min_c s_c``): a conservative bound, exact only for
        perturbations confined to the channel of smallest std.
        """
        r = np.asarray(radius, dtype=np.float64)
        return r if self.name == "pixel" else r * min(self.channel_std)

    def smoothed(self, net: nn.Module, num_classes: int, seed: int = 0,
                 certifier: CertifierFactory = RandomizedSmoothing) -> Certifier:
        """The smoothed classifier (``certifier``, default Cohen et al.'s) around ``net`` (which
        takes normalised images) whose noise is isotropic in this space; it takes inputs in this
        space (:meth:`inputs`)."""
        base = net
        if self.name == "pixel":
            device = next((p.device for p in net.parameters()), torch.device("cpu"))
            base = PixelSpace(net, self.channel_mean, self.channel_std).to(device)
        return certifier(base, num_classes, self.sigma, seed)

    def inputs(self, normalised: torch.Tensor) -> torch.Tensor:
        """Normalised images ``(m, C, H, W)`` in this space's units."""
        if self.name == "normalized":
            return normalised
        mean = torch.tensor(self.channel_mean, dtype=normalised.dtype,
                            device=normalised.device).view(1, -1, 1, 1)
        std = torch.tensor(self.channel_std, dtype=normalised.dtype,
                           device=normalised.device).view(1, -1, 1, 1)
        return normalised * std + mean

    def certify(self, net: nn.Module, normalised: torch.Tensor, num_classes: int, n0: int,
                n: int, alpha: float, batch_size: int, labels: np.ndarray | None = None,
                seed: int = 0, progress: bool = False,
                certifier: CertifierFactory = RandomizedSmoothing) -> Certificates:
        """CERTIFY (:meth:`RandomizedSmoothing.certify_dataset`) every normalised image with noise
        in this space; the certificates' radii are in pixel units (:meth:`pixel_radius`), with the
        guarantee of Cohen et al.'s Theorem 1 at probability 1 - alpha per input."""
        certs = self.smoothed(net, num_classes, seed, certifier).certify_dataset(
            self.inputs(normalised), n0, n, alpha, batch_size=batch_size, labels=labels,
            progress=progress)
        return attrs.evolve(certs, radii=self.pixel_radius(certs.radii), radius_units="pixel")
