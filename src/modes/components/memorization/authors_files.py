"""The paper authors' published split files (github.com/mjamroz90/dnn-class-fitting, ``files/``).

``root`` is laid out as that repository's ``files/`` folder; for ``arch`` in ``ARCHS`` and
``dataset`` in ``DATASETS``:

* ``dkls/<arch>/<dataset>/{most_mem,least_mem,random}_class_split.json`` — the Fig. 4 subsets
  (between-class KL divergences of memorized / least memorized / random examples): one list of
  training indices per class;
* ``generative_classification/<arch>/<dataset>/{most_memorized,least_memorized,random}.json`` —
  the Fig. A.11 held-out examples: one list of training indices each;
* ``generative_classification/<arch>/<dataset>/class_indices_split.json`` — list ``c`` holds the
  examples of class ``c`` as positions in the training set with the held-out examples removed
  (order kept);
* optionally ``memorization/<arch>/<dataset>/mem_scores.npz`` — read by ``load_published``.

What the ResNet18 / CIFAR-100 files hold (measured against the published ``mem_scores.npz``; see
``fig4_subsets`` for the rules and ``tests/test_authors_files.py`` for the checks):

* ``most_mem_class_split.json``: 53 lists of 100 indices, one class each, classes increasing;
  scores 0.7003 to 1.0. The 53 classes are exactly those with at least 100 examples scoring
  >= 0.70, and the 100 are a draw among those examples, not the class's 100 highest.
* ``least_mem_class_split.json``: 61 lists of 100; scores -0.038 to 0.01498. The 61 classes are
  exactly those with at least 100 examples scoring < 0.015.
* ``random_class_split.json``: 100 lists of 100, every class. The class sets overlap: 16 classes
  are in the most and least subsets (hence in all three); the paper's rule (score above 0.9)
  would leave 9 classes for the memorized subset alone.
* ``most_memorized.json``: the 1,000 highest scores (>= 0.9905, 98 classes);
  ``least_memorized.json``: the 332 negative scores and 668 of the 6,499 exact zeros (96 classes);
  ``random.json``: 1,000 others (100 classes, none negative). The three are disjoint and unsorted.
* ``class_indices_split.json``: 100 lists of 448 to 485 sorted positions, 47,000 in all: a
  partition of the 50,000 - 3,000 remaining examples by class.
"""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import numpy as np

from modes.components.memorization.published import load_published
from modes.components.memorization.scores import MemorizationScores

ARCHS = ("resnet18", "resnet50")
DATASETS = ("cifar100", "mini_imagenet")
SUBSETS = ("most", "least", "random")
# Training-set sizes from the paper's experimental setup (CIFAR-100's 50,000; Mini-ImageNet
# re-split into 50,000 train and 10,000 test); used for range checks when no scores ship.
TRAIN_SIZE = {"cifar100": 50_000, "mini_imagenet": 50_000}
FIG4_FILES = {"most": "most_mem_class_split.json", "least": "least_mem_class_split.json",
              "random": "random_class_split.json"}
A11_FILES = {"most": "most_memorized.json", "least": "least_memorized.json",
             "random": "random.json"}
CLASS_INDEX_FILE = "class_indices_split.json"


@attrs.frozen(eq=False)
class AuthorsFiles:
    """The authors' subsets for one architecture and dataset, checked for consistency."""

    train_size: int  # len(scores), else the train_size given or TRAIN_SIZE[dataset]
    scores: MemorizationScores | None
    fig4: dict[str, list[np.ndarray]]  # subset -> one int64 array of train indices per class
    a11: dict[str, np.ndarray]  # subset -> int64 held-out train indices
    a11_class_indices: list[np.ndarray]  # class c -> positions in the train set less held-out

    def a11_heldout(self) -> np.ndarray:
        """All Fig. A.11 held-out training indices, sorted."""
        return np.sort(np.concatenate([self.a11[s] for s in SUBSETS]))

    def a11_train_indices(self) -> list[np.ndarray]:
        """``a11_class_indices`` mapped back to indices into the full training set."""
        kept = np.setdiff1d(np.arange(self.train_size), self.a11_heldout())
        return [kept[positions] for positions in self.a11_class_indices]


def load_authors_files(root: str | Path, arch: str, dataset: str,
                       train_size: int | None = None) -> AuthorsFiles:
    """Read and check the Fig. 4 and Fig. A.11 split files (and scores, when present).

    ``train_size`` is the training-set size the indices refer to: by default the scores'
    length, or ``TRAIN_SIZE[dataset]`` when no scores ship; given with scores, it must agree.

    Missing files, non-integer entries, indices out of range or repeated within a subset,
    overlapping held-out sets and a class index file that does not partition the remaining
    examples raise ``ValueError`` naming the file. With scores, every Fig. 4 list must hold one
    class (a different one per list) and class index list ``c`` exactly the remaining examples
    labelled ``c``.
    """
    if arch not in ARCHS:
        raise ValueError(f"arch {arch!r} is not one of {list(ARCHS)}")
    if dataset not in DATASETS:
        raise ValueError(f"dataset {dataset!r} is not one of {list(DATASETS)}")
    root = Path(root)
    scores_path = root / "memorization" / arch / dataset / "mem_scores.npz"
    scores = load_published(scores_path) if scores_path.exists() else None
    if scores is not None and train_size not in (None, len(scores)):
        raise ValueError(f"{scores_path}: holds {len(scores)} scores but train_size is "
                         f"{train_size}")
    n = (len(scores) if scores is not None
         else train_size if train_size is not None else TRAIN_SIZE[dataset])

    fig4_dir = root / "dkls" / arch / dataset
    fig4 = {s: _class_lists(fig4_dir / FIG4_FILES[s], n) for s in SUBSETS}
    if scores is not None:
        for s in SUBSETS:
            list_classes(fig4[s], scores.labels, fig4_dir / FIG4_FILES[s])

    a11_dir = root / "generative_classification" / arch / dataset
    a11 = {s: _indices(_read_json(a11_dir / A11_FILES[s]), a11_dir / A11_FILES[s], n)
           for s in SUBSETS}
    _check_disjoint(a11_dir, a11)
    held = np.concatenate([a11[s] for s in SUBSETS])
    index_path = a11_dir / CLASS_INDEX_FILE
    class_indices = _class_lists(index_path, n - len(held))
    _check_partition(index_path, class_indices, n - len(held), len(held))
    if scores is not None:
        kept_labels = np.delete(scores.labels, held)
        for c, positions in enumerate(class_indices):
            if not np.array_equal(np.sort(positions), np.flatnonzero(kept_labels == c)):
                raise ValueError(f"{index_path}: list {c} does not hold exactly the remaining "
                                 f"examples labelled {c}")
    return AuthorsFiles(train_size=n, scores=scores, fig4=fig4, a11=a11,
                        a11_class_indices=class_indices)


def _read_json(path: Path) -> object:
    if not path.is_file():
        raise ValueError(f"authors' file {str(path)!r} does not exist")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from error


def _indices(value: object, where: Path | str, size: int) -> np.ndarray:
    """A JSON list of distinct integer indices in ``[0, size)`` as an int64 array."""
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a list of indices, got {type(value).__name__}")
    wrong = [i for i, x in enumerate(value) if type(x) is not int]
    if wrong:
        raise ValueError(f"{where}: non-integer entries: {len(wrong)} (first at position "
                         f"{wrong[0]}: {value[wrong[0]]!r})")
    outside = [i for i, x in enumerate(value) if not 0 <= x < size]
    if outside:
        raise ValueError(f"{where}: indices outside [0, {size}): {len(outside)} (first at "
                         f"position {outside[0]}: {value[outside[0]]})")
    indices = np.array(value, dtype=np.int64)
    _check_distinct(where, indices)
    return indices


def _class_lists(path: Path, size: int) -> list[np.ndarray]:
    """A JSON list of index lists (one per class), distinct across the whole file."""
    value = _read_json(path)
    if not isinstance(value, list) or not value:
        raise ValueError(f"{path}: expected a non-empty list of per-class index lists")
    lists = [_indices(entry, f"{path}, list {k}", size) for k, entry in enumerate(value)]
    _check_distinct(path, np.concatenate(lists))
    return lists


def _check_distinct(where: Path | str, indices: np.ndarray) -> None:
    values, counts = np.unique(indices, return_counts=True)
    repeated = values[counts > 1]
    if repeated.size:
        raise ValueError(f"{where}: indices listed more than once: {repeated.size} "
                         f"(first: {int(repeated[0])})")


def list_classes(lists: list[np.ndarray], labels: np.ndarray, where: Path | str) -> np.ndarray:
    """The class of each per-class list; a list mixing classes or a class listed twice raises."""
    classes = []
    for k, indices in enumerate(lists):
        found = np.unique(labels[indices])
        if found.size != 1:
            raise ValueError(f"{where}: list {k} mixes classes {found.tolist()}")
        classes.append(int(found[0]))
    values, counts = np.unique(classes, return_counts=True)
    if np.any(counts > 1):
        raise ValueError(f"{where}: class(es) {values[counts > 1].tolist()} have more than one "
                         f"list")
    return np.array(classes, dtype=np.int64)


def _check_disjoint(folder: Path, heldout: dict[str, np.ndarray]) -> None:
    for i, a in enumerate(SUBSETS):
        for b in SUBSETS[i + 1:]:
            shared = np.intersect1d(heldout[a], heldout[b])
            if shared.size:
                raise ValueError(f"{folder}: {A11_FILES[a]} and {A11_FILES[b]} share "
                                 f"indices: {shared.size} (first: {int(shared[0])})")


def _check_partition(path: Path, lists: list[np.ndarray], size: int, held: int) -> None:
    total = sum(len(x) for x in lists)
    if total != size:
        raise ValueError(f"{path}: lists hold {total} positions but the training set less the "
                         f"{held} held-out examples has {size}")
