"""Memorization estimators (Feldman & Zhang 2020): trained here or read from published files."""

from modes.components.memorization.published import PublishedMemorization, load_published
from modes.components.memorization.scores import MemorizationScores
from modes.components.memorization.subsampled import (
    SubsampledMemorization,
    coverage_failure_probability,
    required_trials,
)
from modes.registry import register

register("memorization", "subsampled")(SubsampledMemorization)
register("memorization", "published")(PublishedMemorization)

__all__ = [
    "MemorizationScores",
    "PublishedMemorization",
    "SubsampledMemorization",
    "coverage_failure_probability",
    "load_published",
    "required_trials",
]
