"""Certifiers: certified robustness of a classifier at single inputs."""

from modes.components.certification.noise_space import NoiseSpace, PixelSpace
from modes.components.certification.smoothing import (
    ABSTAIN,
    Certificates,
    RandomizedSmoothing,
    certified_radius,
    lower_confidence_bound,
)
from modes.registry import register

register("certifier", "randomized-smoothing")(RandomizedSmoothing)

__all__ = [
    "ABSTAIN",
    "Certificates",
    "NoiseSpace",
    "PixelSpace",
    "RandomizedSmoothing",
    "certified_radius",
    "lower_confidence_bound",
]
