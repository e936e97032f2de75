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
from modes.components.memorization.published import (
    PublishedMemorization,
    configure_published,
    load_published,
)
from modes.components.memorization.scores import MemorizationScores
from modes.components.memorization.subsampled import (
    VERSION,
    SubsampledMemorization,
    configure_subsampled,
    coverage_failure_probability,
    required_trials,
)
from modes.registry import Component, register_component


def _same(config: object) -> object:
    """An estimator is its own config (frozen attrs, scikit-learn style: the settings are the
    estimator's fields)."""
    return config


register_component(Component("memorization", "subsampled", _same, config=SubsampledMemorization,
                             version=VERSION, configure=configure_subsampled))
register_component(Component("memorization", "published", _same, config=PublishedMemorization,
                             version="1", configure=configure_published))

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
