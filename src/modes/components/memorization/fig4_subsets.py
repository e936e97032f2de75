"""Which classes enter the Fig. 4 subsets: the paper's stated rule, the authors' files' rule.

The paper (Sec. "Where classes are fit") selects "examples with memorization score above 0.9",
"approx. equal number of examples with the lowest memorization estimates and an equal number of
randomly chosen examples", and the authors' ``dkls/*_class_split.json`` files keep 100 examples
per class. Read literally on the published ResNet18 / CIFAR-100 scores: 5,288 examples score
above 0.9 and 9 classes have at least 100 of them; the 5,288 lowest scores (all <= 0.0) give 15
classes; no class is in both. The files follow another rule (``authors_rule``): 53 classes with
at least 100 examples scoring >= 0.70, 61 with at least 100 scoring < 0.015, all 100 for random,
each subset with its own classes (16 shared by all three).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import reduce

import attrs
import numpy as np

from modes.components.memorization.authors_files import SUBSETS, list_classes
from modes.components.memorization.scores import MemorizationScores

PAPER_THRESHOLD = 0.9  # "examples with memorization score above 0.9"
PER_CLASS = 100  # examples per class in every dkls split file
AUTHORS_MOST_FROM = 0.70  # lowest score in most_mem_class_split.json: 0.7003
AUTHORS_LEAST_BELOW = 0.015  # highest score in least_mem_class_split.json: 0.01498


@attrs.frozen(eq=False)
class SubsetClasses:
    """Sorted class labels of each Fig. 4 subset."""

    most: np.ndarray
    least: np.ndarray
    random: np.ndarray

    def in_all_three(self) -> np.ndarray:
        return reduce(np.intersect1d, (self.most, self.least, self.random))

    def overlaps(self) -> dict[tuple[str, str], int]:
        """Number of classes each pair of subsets shares."""
        sets = {s: getattr(self, s) for s in SUBSETS}
        return {(a, b): int(np.intersect1d(sets[a], sets[b]).size)
                for i, a in enumerate(SUBSETS) for b in SUBSETS[i + 1:]}


def classes_with_members(labels: np.ndarray, selected: np.ndarray, per_class: int) -> np.ndarray:
    """Classes with at least ``per_class`` examples among ``selected`` (a boolean mask)."""
    counts = np.bincount(labels[selected], minlength=int(labels.max()) + 1)
    return np.flatnonzero(counts >= per_class)


def paper_rule(scores: MemorizationScores, threshold: float = PAPER_THRESHOLD,
               per_class: int = PER_CLASS) -> SubsetClasses:
    """The paper's sentence read literally, with the files' ``per_class`` examples per class.

    Memorized: scores above ``threshold``; least memorized: as many examples with the lowest
    scores; random: drawn per class as in the files, so every class with ``per_class`` members.
    """
    above = scores.scores > threshold
    lowest = np.zeros(len(scores), dtype=bool)
    lowest[np.argsort(scores.scores, kind="stable")[:int(above.sum())]] = True
    return SubsetClasses(
        most=classes_with_members(scores.labels, above, per_class),
        least=classes_with_members(scores.labels, lowest, per_class),
        random=classes_with_members(scores.labels, np.ones(len(scores), bool), per_class))


def authors_rule(scores: MemorizationScores, most_from: float = AUTHORS_MOST_FROM,
                 least_below: float = AUTHORS_LEAST_BELOW,
                 per_class: int = PER_CLASS) -> SubsetClasses:
    """The rule the authors' dkls split files follow (measured; the paper does not state it)."""
    return SubsetClasses(
        most=classes_with_members(scores.labels, scores.scores >= most_from, per_class),
        least=classes_with_members(scores.labels, scores.scores < least_below, per_class),
        random=classes_with_members(scores.labels, np.ones(len(scores), bool), per_class))


@attrs.frozen(eq=False)
class SplitAudit:
    """What the authors' Fig. 4 split files hold, measured against the scores."""

    classes: SubsetClasses  # the class of each file's lists
    sizes: dict[str, np.ndarray]  # subset -> examples per list, file order
    score_range: dict[str, tuple[float, float]]  # subset -> (lowest, highest) score


def audit_fig4(fig4: Mapping[str, list[np.ndarray]], scores: MemorizationScores) -> SplitAudit:
    """Classes, list sizes and score ranges of the split files (``AuthorsFiles.fig4``)."""
    classes, sizes, ranges = {}, {}, {}
    for s in SUBSETS:
        lists = fig4[s]
        classes[s] = np.sort(list_classes(lists, scores.labels, f"Fig. 4 subset {s!r}"))
        sizes[s] = np.array([len(x) for x in lists])
        values = scores.scores[np.concatenate(lists)]
        ranges[s] = (float(values.min()), float(values.max()))
    return SplitAudit(classes=SubsetClasses(**classes), sizes=sizes, score_range=ranges)
