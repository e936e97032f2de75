"""Which classes enter the Fig. 4 subsets: the paper's stated rule, the authors' files' rule.

The paper (Sec. "Where classes are fit") selects "examples with memorization score above 0.9",
"approx. equal number of examples with the lowest memorization estimates and an equal number of
randomly chosen examples", and the authors' ``dkls/*_class_split.json`` files keep 100 examples
per class. Read literally on the published ResNet18 / CIFAR-100 scores: 5,288 examples score
above 0.9 and 9 classes have at least 100 of them; the 5,288 lowest scores (all <= 0.0) give 15
classes; no class is in both. The files follow another rule (``authors_rule``): 53 classes with
at least 100 examples scoring >= 0.70, 61 with at least 100 scoring < 0.015, all 100 for random,
each subset with its own classes (16 shared by all three).

``fig4_split`` applies that rule to any scores (the scenario's, estimated or published) and draws
the examples; ``a11_heldout`` is the Fig. A.11 rule (the 1,000 highest scores, 1,000 scoring
0.0 or less, 1,000 random others, as the authors' ``generative_classification`` files hold).
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


def fig4_split(scores: np.ndarray, labels: np.ndarray, most_from: float, least_below: float,
               per_class_min: int, per_class_cap: int,
               rng: np.random.Generator) -> dict[str, list[np.ndarray]]:
    """The Fig. 4 subsets as the authors' split files were made, one index array per class.

    Candidates: ``most`` scores >= ``most_from``, ``least`` scores < ``least_below``, ``random``
    every example. Each subset keeps its own classes: those with at least ``per_class_min``
    candidates; each kept class contributes ``min(candidates, per_class_cap)`` of them, drawn
    at random (the files hold a draw, not the highest scores). Lists are in increasing class
    order, as in the files; with ``per_class_min == per_class_cap == 100`` and 0.70 / 0.015 this
    is :func:`authors_rule` with the examples drawn.
    """
    scores, labels = np.asarray(scores), np.asarray(labels)
    if scores.shape != labels.shape or scores.ndim != 1:
        raise ValueError(f"scores and labels must be (n,) alike, got {scores.shape} and "
                         f"{labels.shape}")
    if not 1 <= per_class_min <= per_class_cap:
        raise ValueError(f"need 1 <= per_class_min <= per_class_cap, got {per_class_min} and "
                         f"{per_class_cap}")
    candidates = {"most": scores >= most_from, "least": scores < least_below,
                  "random": np.ones(scores.size, dtype=bool)}
    out: dict[str, list[np.ndarray]] = {}
    for s in SUBSETS:
        lists = []
        for c in classes_with_members(labels, candidates[s], per_class_min):
            members = np.flatnonzero(candidates[s] & (labels == c))
            take = min(members.size, per_class_cap)
            lists.append(np.sort(rng.choice(members, size=take, replace=False)))
        out[s] = lists
    return out


def a11_heldout(scores: np.ndarray, per_subset: int,
                rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The Fig. A.11 held-out examples: ``most`` the ``per_subset`` highest scores, ``least``
    ``per_subset`` drawn among scores <= 0.0 ("memorization 0.0"; the negative ones count, as in
    the authors' file), ``random`` ``per_subset`` drawn from the rest. Disjoint; a subset with
    too few candidates keeps what there is."""
    scores = np.asarray(scores)
    order = np.argsort(-scores, kind="stable")
    most = order[:per_subset]
    zero = np.setdiff1d(np.flatnonzero(scores <= 0.0), most)
    least = rng.permutation(zero)[:per_subset]
    rest = np.setdiff1d(np.arange(scores.size), np.concatenate([most, least]))
    random = rng.choice(rest, size=min(per_subset, rest.size), replace=False)
    return {"most": most, "least": least, "random": random}
