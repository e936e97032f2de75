"""Memorization estimators (Feldman & Zhang 2020): trained here or read from published files."""

from modes.components.memorization.authors_files import AuthorsFiles, load_authors_files
from modes.components.memorization.fig4_subsets import (
    SplitAudit,
    SubsetClasses,
    a11_heldout,
    audit_fig4,
    authors_rule,
    fig4_split,
    paper_rule,
)
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
    "AuthorsFiles",
    "MemorizationScores",
    "PublishedMemorization",
    "SplitAudit",
    "SubsampledMemorization",
    "SubsetClasses",
    "a11_heldout",
    "audit_fig4",
    "authors_rule",
    "coverage_failure_probability",
    "fig4_split",
    "load_authors_files",
    "load_published",
    "paper_rule",
    "required_trials",
]
