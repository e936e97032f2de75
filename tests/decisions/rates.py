"""Assertions on the replication rates of a decision over planted inputs."""

from __future__ import annotations

from modes.decisions.calibration import Rate, size_bound


def assert_size(rate: Rate, alpha: float) -> None:
    """The false-positive rate is within alpha + 2 Monte Carlo standard errors."""
    bound = size_bound(alpha, rate.reps)
    assert rate.rate <= bound, f"false-positive rate {rate} above {bound:.4f} (alpha {alpha})"


def assert_power(rate: Rate, at_least: float = 0.8) -> None:
    """The power's exact 95% lower confidence bound reaches ``at_least``."""
    assert rate.ci[0] >= at_least, f"power {rate}: lower bound below {at_least}"
