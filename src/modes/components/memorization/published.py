"""Published memorization scores: the paper authors' files and Feldman & Zhang's.

Two layouts are read:

* the authors' ``mem_scores.npz`` (github.com/mjamroz90/dnn-class-fitting): ``tr_mem`` and
  ``tr_labels``, one entry per training example in torchvision's train order;
* Feldman & Zhang's ``cifar100_infl_matrix.npz`` (pluskid.github.io/influence-memorization):
  ``tr_mem``, ``tr_labels``, ``tt_labels`` and, for every class c, ``tr_classidx_{c}`` and
  ``tt_classidx_{c}`` (indices of the class's train / test examples) and
  ``infl_matrix_class{c}`` (influence of each of those train examples on each test example,
  shape ``(len(tr_classidx_c), len(tt_classidx_c))``).
"""

from __future__ import annotations

from pathlib import Path

import attrs
import numpy as np

from modes.components.memorization.scores import MemorizationScores

AUTHORS_FORMAT = "mem_scores"
FELDMAN_ZHANG_FORMAT = "feldman-zhang-infl-matrix"
_REQUIRED = ("tr_mem", "tr_labels")


def load_published(path: str | Path,
                   expected_labels: np.ndarray | None = None) -> MemorizationScores:
    """Published per-example memorization scores, checked against the dataset's label order.

    ``expected_labels`` are the training labels of the dataset in its own order; when given, the
    file must list the same labels in the same order (otherwise the scores would be attached to
    the wrong examples). Missing keys, inconsistent lengths or labels raise ``ValueError``.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"published memorization file {str(path)!r} does not exist")
    with np.load(path, allow_pickle=False) as npz:
        keys = set(npz.files)
        missing = [k for k in _REQUIRED if k not in keys]
        if missing:
            raise ValueError(f"{path.name}: missing key(s) {missing}; a published memorization "
                             f"file needs {list(_REQUIRED)} (found {sorted(keys)})")
        scores = np.asarray(npz["tr_mem"], dtype=np.float64)
        labels = np.asarray(npz["tr_labels"], dtype=np.int64)
        if scores.ndim != 1 or labels.ndim != 1 or len(scores) != len(labels):
            raise ValueError(f"{path.name}: tr_mem has shape {scores.shape} and tr_labels has "
                             f"shape {labels.shape}; expected two vectors of one length")
        if "tt_labels" in keys:
            _check_feldman_zhang_layout(path.name, npz, labels)
            source = FELDMAN_ZHANG_FORMAT
        else:
            source = AUTHORS_FORMAT
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"{path.name}: tr_mem holds {int(np.sum(~np.isfinite(scores)))} "
                         f"non-finite scores")
    if expected_labels is not None:
        check_label_order(labels, np.asarray(expected_labels), what=path.name)
    return MemorizationScores(scores=scores, labels=labels, source=source)


def check_label_order(labels: np.ndarray, expected: np.ndarray, what: str) -> None:
    """Raise ``ValueError`` unless ``labels`` equals the dataset's ``expected`` label order."""
    if len(labels) != len(expected):
        raise ValueError(f"{what}: holds {len(labels)} scores but the dataset has "
                         f"{len(expected)} training examples")
    wrong = np.flatnonzero(labels != expected)
    if wrong.size:
        i = int(wrong[0])
        raise ValueError(f"{what}: labels disagree with the dataset's label order at "
                         f"{wrong.size} of {len(labels)} positions (first at index {i}: file "
                         f"says {int(labels[i])}, dataset says {int(expected[i])})")


def _check_feldman_zhang_layout(name: str, npz: np.lib.npyio.NpzFile,
                                tr_labels: np.ndarray) -> None:
    """Per-class index and influence keys exist and agree with the label vectors."""
    tt_labels = np.asarray(npz["tt_labels"], dtype=np.int64)
    keys = set(npz.files)
    for c in np.unique(tr_labels):
        tr_key, tt_key, infl_key = f"tr_classidx_{c}", f"tt_classidx_{c}", f"infl_matrix_class{c}"
        missing = [k for k in (tr_key, tt_key, infl_key) if k not in keys]
        if missing:
            raise ValueError(f"{name}: Feldman & Zhang layout is missing key(s) {missing} "
                             f"for class {c}")
        tr_idx, tt_idx = npz[tr_key], npz[tt_key]
        if not np.array_equal(np.sort(tr_idx), np.flatnonzero(tr_labels == c)):
            raise ValueError(f"{name}: {tr_key} does not list exactly the training examples "
                             f"labelled {c}")
        if not np.array_equal(np.sort(tt_idx), np.flatnonzero(tt_labels == c)):
            raise ValueError(f"{name}: {tt_key} does not list exactly the test examples "
                             f"labelled {c}")
        shape = npz[infl_key].shape
        if shape != (len(tr_idx), len(tt_idx)):
            raise ValueError(f"{name}: {infl_key} has shape {shape}; expected "
                             f"(len({tr_key}), len({tt_key})) = {(len(tr_idx), len(tt_idx))}")


@attrs.frozen
class PublishedMemorization:
    """Memorization estimator that reads published scores instead of training models."""

    path: Path = attrs.field(converter=Path)

    def estimate(self, data: object, **_: object) -> MemorizationScores:
        """Scores for ``data``'s training set (its ``train_labels`` order is checked)."""
        expected = getattr(data, "train_labels", None)
        if expected is None:
            raise ValueError(f"data must have train_labels to check the label order; "
                             f"got {type(data).__name__}")
        return load_published(self.path, np.asarray(expected))
