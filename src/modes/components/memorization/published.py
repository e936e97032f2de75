"""Published memorization scores: the paper authors' files and Feldman & Zhang's.

The layout is decided from the whole key set of the ``.npz`` file:

* the authors' ``mem_scores.npz`` (github.com/mjamroz90/dnn-class-fitting,
  ``files/memorization/<arch>/<dataset>/mem_scores.npz``): ``tr_mem`` and ``tr_labels``, one entry
  per training example in the dataset's train order, and in some files (ResNet50 Mini-ImageNet)
  also ``tt_labels``, the test labels. ResNet18 CIFAR-100 ships ``tr_mem`` float32 (50000,) and
  ``tr_labels`` int32 (50000,); other files hold int64 labels;
* Feldman & Zhang's ``cifar100_infl_matrix.npz`` (pluskid.github.io/influence-memorization):
  ``tr_mem``, ``tr_labels``, ``tt_labels`` and, for every class c, ``tr_classidx_{c}`` and
  ``tt_classidx_{c}`` (indices of the class's train / test examples) and
  ``infl_matrix_class{c}`` (influence of each of those train examples on each test example,
  shape ``(len(tr_classidx_c), len(tt_classidx_c))``).

A file with any per-class key is read as Feldman & Zhang's and must then hold all three keys for
every class; any other key is refused by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import attrs
import numpy as np

from modes.components.memorization.scores import MemorizationScores
from modes.components.protocols import (
    MemorizationContext,
    MemorizationInput,
    MissingComponentError,
)

AUTHORS_FORMAT = "mem_scores"
FELDMAN_ZHANG_FORMAT = "feldman-zhang-infl-matrix"
_REQUIRED = ("tr_mem", "tr_labels")
_TEST_LABELS = "tt_labels"
_PER_CLASS = re.compile(r"(tr_classidx_|tt_classidx_|infl_matrix_class)(\d+)")
_LISTED = 12  # key names shown in one message before the list is cut
_FLOATING = ("f", "floating")  # numpy dtype kind codes, and their name for messages
_INTEGER = ("iu", "integer")


def load_published(path: str | Path,
                   expected_labels: np.ndarray | None = None) -> MemorizationScores:
    """Published per-example memorization scores, checked against the dataset's label order.

    ``expected_labels`` are the training labels of the dataset in its own order; when given, the
    file must list the same labels in the same order (otherwise the scores would be attached to
    the wrong examples). Missing or unexpected keys, wrong dtypes, inconsistent lengths or labels
    raise ``ValueError``.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"published memorization file {str(path)!r} does not exist")
    with np.load(path, allow_pickle=False) as npz:
        source = published_layout(path.name, npz.files)
        scores = _vector(path.name, npz, "tr_mem", _FLOATING)
        labels = _vector(path.name, npz, "tr_labels", _INTEGER)
        if len(scores) != len(labels):
            raise ValueError(f"{path.name}: tr_mem has shape {scores.shape} and tr_labels has "
                             f"shape {labels.shape}; expected two vectors of one length")
        test_labels = (_vector(path.name, npz, _TEST_LABELS, _INTEGER)
                       if _TEST_LABELS in npz.files else None)
        _check_label_values(path.name, labels, test_labels)
        if source == FELDMAN_ZHANG_FORMAT and test_labels is not None:
            _check_feldman_zhang_layout(path.name, npz, labels, test_labels)
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"{path.name}: tr_mem holds {int(np.sum(~np.isfinite(scores)))} "
                         f"non-finite scores")
    if expected_labels is not None:
        check_label_order(labels, np.asarray(expected_labels), what=path.name)
    return MemorizationScores(scores=scores.astype(np.float64), labels=labels.astype(np.int64),
                              source=source)


def published_layout(name: str, keys: Iterable[str]) -> str:
    """``AUTHORS_FORMAT`` or ``FELDMAN_ZHANG_FORMAT``, decided from the file's whole key set.

    Only the presence of keys is judged here; per-class completeness is checked against the
    labels by ``load_published``.
    """
    keys = set(keys)
    missing = [k for k in _REQUIRED if k not in keys]
    if missing:
        raise ValueError(f"{name}: missing key(s) {missing}; a published memorization "
                         f"file needs {list(_REQUIRED)} (found {_names(sorted(keys))})")
    per_class = {k for k in keys if _PER_CLASS.fullmatch(k)}
    unexpected = sorted(keys - set(_REQUIRED) - {_TEST_LABELS} - per_class)
    if unexpected:
        raise ValueError(f"{name}: unexpected key(s) {_names(unexpected)}; the authors' layout "
                         f"holds {[*_REQUIRED, _TEST_LABELS]} and Feldman & Zhang's adds "
                         f"tr_classidx_{{c}}, tt_classidx_{{c}}, infl_matrix_class{{c}} per class")
    if not per_class:
        return AUTHORS_FORMAT
    if _TEST_LABELS not in keys:
        raise ValueError(f"{name}: has per-class key(s) {_names(sorted(per_class))} of Feldman "
                         f"& Zhang's layout but is missing key(s) ['{_TEST_LABELS}']")
    return FELDMAN_ZHANG_FORMAT


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


def _vector(name: str, npz: np.lib.npyio.NpzFile, key: str,
            kind: tuple[str, str]) -> np.ndarray:
    """``npz[key]`` checked to be a vector whose dtype is of ``kind`` (codes, name)."""
    value = npz[key]
    if value.ndim != 1:
        raise ValueError(f"{name}: {key} has shape {value.shape}; expected a vector")
    codes, kind_name = kind
    if value.dtype.kind not in codes:
        raise ValueError(f"{name}: {key} has dtype {value.dtype}; expected {kind_name} values")
    return value


def _check_label_values(name: str, tr_labels: np.ndarray,
                        tt_labels: np.ndarray | None) -> None:
    """Labels are non-negative and the test labels name only classes of the training set."""
    for key, labels in (("tr_labels", tr_labels), ("tt_labels", tt_labels)):
        if labels is not None and labels.size and labels.min() < 0:
            raise ValueError(f"{name}: {key} holds negative label {int(labels.min())}")
    if tt_labels is None:
        return
    foreign = np.setdiff1d(tt_labels, tr_labels)
    if foreign.size:
        raise ValueError(f"{name}: tt_labels holds class(es) {foreign[:_LISTED].tolist()} "
                         f"absent from tr_labels")


def _check_feldman_zhang_layout(name: str, npz: np.lib.npyio.NpzFile,
                                tr_labels: np.ndarray, tt_labels: np.ndarray) -> None:
    """Per-class index and influence keys exist for every class and agree with the labels."""
    keys = set(npz.files)
    classes = np.unique(tr_labels).tolist()
    wanted = {k: c for c in classes for k in _class_keys(c)}
    missing = [k for k in wanted if k not in keys]
    if missing:
        short = sorted({wanted[k] for k in missing})
        which = f"class {short[0]}" if len(short) == 1 else f"classes {short[:_LISTED]}"
        raise ValueError(f"{name}: Feldman & Zhang layout is missing key(s) {_names(missing)} "
                         f"for {which}")
    stray = sorted(k for k in keys if _PER_CLASS.fullmatch(k) and k not in wanted)
    if stray:
        raise ValueError(f"{name}: unexpected key(s) {_names(stray)} for classes absent from "
                         f"tr_labels")
    for c in classes:
        tr_key, tt_key, infl_key = _class_keys(c)
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


def _class_keys(c: int) -> tuple[str, str, str]:
    return f"tr_classidx_{c}", f"tt_classidx_{c}", f"infl_matrix_class{c}"


def _names(keys: list[str]) -> str:
    """A key list for a message, cut after ``_LISTED`` names."""
    if len(keys) <= _LISTED:
        return str(keys)
    return f"{keys[:_LISTED]} ... ({len(keys)} in all)"


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

    def scores(self, given: MemorizationInput) -> MemorizationScores:
        """The published scores of ``given.data``'s training set (nothing is trained)."""
        return self.estimate(given.data)


def configure_published(context: MemorizationContext) -> PublishedMemorization:
    """The file given as ``--modes-mem-scores``; without one the estimator is missing."""
    if not context.mem_scores:
        raise MissingComponentError(
            "--modes-memorization published needs --modes-mem-scores PATH (the authors' "
            "mem_scores.npz or Feldman & Zhang's cifar100_infl_matrix.npz)")
    return PublishedMemorization(context.mem_scores)
