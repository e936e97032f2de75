"""Representations brought from outside: an ``.npz`` file in place of data, training and taps.

``pytest claims/ --modes-representations FILE.npz`` decides the claims that need only
representations (C1, C1s, C2, C4; C8 and C9 when the file holds memorization scores) on the file's
arrays. The layout, checked once when the file is loaded (:func:`load_representations`):

* ``labels``: integer ``(n,)``, the class of every example, numbered ``0 .. C-1``, at least two
  classes and every class with at least two examples;
* ``stage_1`` ... ``stage_L``: floating ``(n, d_l)``, one row per example (in the order of
  ``labels``) at every stage of one network, in network order (shallow first), ``L >= 2``; the
  first ``L // 2`` stages are the shallow ones (C2), the rest the deep ones (C1, C1s; C4 reads the
  last). SVD dims are the scale's ``dims_shallow`` for stages with index below ``L / 2`` and
  ``dims_deep`` for the others (capped at ``d_l``);
* ``memorization`` (optional): floating ``(n,)``, a memorization score per example.

Every value must be finite and no other key is allowed (a misspelt optional key would otherwise
be silently ignored). A bad file is a :class:`RepresentationsFileError` naming the file, the key
and the problem. The file is identified by its sha256 in the claims' records and in the keys of
what reads it whole (memorization); a layer's fits are keyed by what they read, the labels and that
one stage (:meth:`RepresentationsFile.stage_sha256`), so a file that differs only elsewhere (other
stages, memorization scores) reuses them.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs
import numpy as np

LABELS = "labels"
MEMORIZATION = "memorization"
STAGE = re.compile(r"stage_([1-9][0-9]*)")
_LISTED = 12  # names or indices shown in one message before the list is cut


class RepresentationsFileError(ValueError):
    """A representations file that does not follow the layout (the message says where)."""


@attrs.frozen(eq=False)
class RepresentationsFile:
    """A checked representations file: what it holds and which file it was (path, sha256)."""

    path: str  # absolute
    sha256: str
    labels: np.ndarray  # (n,) int64, classes 0 .. C-1
    stages: tuple[np.ndarray, ...]  # (n, d_l) float32 or float64, shallow first
    memorization: np.ndarray | None = None  # (n,) float64
    # stage_sha256's digests, each hashed once: every layer read of every claim asks for one
    _stage_digests: dict[str, str] = attrs.field(factory=dict, init=False, repr=False)

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(f"stage_{i}" for i in range(1, len(self.stages) + 1))

    @property
    def num_examples(self) -> int:
        return int(self.labels.size)

    @property
    def num_classes(self) -> int:
        return int(self.labels.max()) + 1

    def representations(self) -> dict[str, np.ndarray]:
        """``{stage name: (n, d_l) array}`` in network order, as taps return them."""
        return dict(zip(self.stage_names, self.stages, strict=True))

    def stage_sha256(self, name: str) -> str:
        """sha256 of what a fit of stage ``name`` reads: the labels and that stage's array
        (dtype, shape and values)."""
        if name not in self.stage_names:
            raise KeyError(f"{self.path} has no stage {name!r}; it has {list(self.stage_names)}")
        if name not in self._stage_digests:
            digest = hashlib.sha256()
            for array in (self.labels, self.stages[self.stage_names.index(name)]):
                a = np.ascontiguousarray(array)
                digest.update(f"{a.dtype.str}{a.shape}".encode())
                digest.update(a.tobytes())
            self._stage_digests[name] = digest.hexdigest()
        return self._stage_digests[name]

    def describe(self) -> str:
        dims = ", ".join(str(s.shape[1]) for s in self.stages)
        mem = "with" if self.memorization is not None else "without"
        return (f"{self.path} (sha256 {self.sha256[:12]}): {self.num_examples} examples, "
                f"{self.num_classes} classes, {len(self.stages)} stages of dims {dims}, {mem} "
                f"memorization scores")


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _listed(items: Sequence[object]) -> str:
    shown = ", ".join(str(i) for i in items[:_LISTED])
    return f"[{shown}{', ...' if len(items) > _LISTED else ''}]"


def check_arrays(arrays: Mapping[str, np.ndarray], name: str,
                 ) -> tuple[np.ndarray, tuple[np.ndarray, ...], np.ndarray | None]:
    """``(labels, stages, memorization)`` from a file's arrays, checked against the layout (module
    docstring); ``name`` names the file in the errors."""

    def fail(problem: str) -> RepresentationsFileError:
        return RepresentationsFileError(f"representations file {name}: {problem}")

    stage_numbers = sorted(int(match.group(1)) for k in arrays
                           if (match := STAGE.fullmatch(k)))
    unknown = sorted(k for k in arrays if k not in (LABELS, MEMORIZATION)
                     and not STAGE.fullmatch(k))
    if unknown:
        raise fail(f"unknown key(s) {_listed(unknown)}; a representations file holds "
                   f"'{LABELS}', 'stage_1' ... 'stage_L' and optionally '{MEMORIZATION}'")
    if LABELS not in arrays:
        raise fail(f"missing key '{LABELS}' (integer class of every example, shape (n,))")
    if not stage_numbers:
        raise fail("missing keys 'stage_1' ... 'stage_L' (one (n, d) float array per stage, "
                   "shallow first)")
    missing = sorted(set(range(1, stage_numbers[-1] + 1)) - set(stage_numbers))
    if missing:
        raise fail(f"missing key(s) {_listed([f'stage_{i}' for i in missing])}: stages are "
                   f"numbered 1 .. L without gaps (found up to stage_{stage_numbers[-1]})")
    if len(stage_numbers) < 2:
        raise fail("holds 1 stage; at least 2 are needed (the first half of the stages are "
                   "the shallow ones, the rest the deep ones)")

    labels = arrays[LABELS]
    if labels.ndim != 1:
        raise fail(f"'{LABELS}' has shape {labels.shape}; expected (n,)")
    if labels.dtype.kind not in "iu":
        raise fail(f"'{LABELS}' has dtype {labels.dtype}; expected integers")
    n = labels.size
    stages = []
    for i in stage_numbers:
        key, x = f"stage_{i}", arrays[f"stage_{i}"]
        if x.ndim != 2:
            raise fail(f"'{key}' has shape {x.shape}; expected (n, d), one row per example")
        if x.dtype.kind != "f":
            raise fail(f"'{key}' has dtype {x.dtype}; expected floats")
        if x.shape[0] != n:
            raise fail(f"'{key}' has {x.shape[0]} rows but '{LABELS}' has {n} entries; every "
                       f"array holds one row per example")
        if x.shape[1] < 1:
            raise fail(f"'{key}' has shape {x.shape}; expected at least one column")
        if not np.all(np.isfinite(x)):
            rows = np.flatnonzero(~np.all(np.isfinite(x), axis=1))
            raise fail(f"'{key}' holds NaN or Inf in {rows.size} row(s), first rows "
                       f"{_listed(rows.tolist())}")
        stages.append(x if x.dtype == np.float64 else x.astype(np.float32))

    memorization = None
    if MEMORIZATION in arrays:
        scores = arrays[MEMORIZATION]
        if scores.ndim != 1:
            raise fail(f"'{MEMORIZATION}' has shape {scores.shape}; expected (n,)")
        if scores.dtype.kind != "f":
            raise fail(f"'{MEMORIZATION}' has dtype {scores.dtype}; expected floats")
        if scores.size != n:
            raise fail(f"'{MEMORIZATION}' has {scores.size} entries but '{LABELS}' has {n}; every "
                       f"array holds one row per example")
        if not np.all(np.isfinite(scores)):
            bad = np.flatnonzero(~np.isfinite(scores))
            raise fail(f"'{MEMORIZATION}' holds NaN or Inf at {bad.size} example(s), first "
                       f"{_listed(bad.tolist())}")
        memorization = scores.astype(np.float64)

    if n and labels.min() < 0:
        raise fail(f"'{LABELS}' holds negative label {int(labels.min())}; classes are "
                   f"numbered 0 .. C-1")
    counts = np.bincount(labels.astype(np.int64)) if n else np.zeros(0, np.int64)
    absent = np.flatnonzero(counts == 0)
    if absent.size:
        raise fail(f"'{LABELS}' skips class(es) {_listed(absent.tolist())}: classes are "
                   f"numbered 0 .. C-1 with every class present (renumber with "
                   f"np.unique(labels, return_inverse=True))")
    if counts.size < 2:
        raise fail(f"'{LABELS}' names {counts.size} class(es); at least 2 are needed")
    few = np.flatnonzero(counts < 2)
    if few.size:
        raise fail(f"class(es) {_listed(few.tolist())} have fewer than 2 examples (counts "
                   f"{_listed(counts[few].tolist())}); a class density needs at least 2")
    return labels.astype(np.int64), tuple(stages), memorization


def load_representations(path: str | Path) -> RepresentationsFile:
    """Load and check a representations file (layout: module docstring)."""
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise RepresentationsFileError(f"representations file {path} does not exist")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise RepresentationsFileError(
            f"representations file {path} cannot be read as an .npz archive: {err}") from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise RepresentationsFileError(
            f"representations file {path} holds one .npy array, not an .npz archive of "
            f"'{LABELS}', 'stage_1' ... 'stage_L' (write it with np.savez)")
    arrays = {}
    with loaded as npz:
        for key in npz.files:
            try:
                arrays[key] = npz[key]
            except ValueError as err:  # object arrays need pickle, which is refused
                raise RepresentationsFileError(
                    f"representations file {path}: '{key}' cannot be read without pickle "
                    f"({err}); store numeric arrays") from None
    labels, stages, memorization = check_arrays(arrays, str(path))
    return RepresentationsFile(path=str(path), sha256=file_sha256(path), labels=labels,
                               stages=stages, memorization=memorization)


def save_representations(path: str | Path, labels: np.ndarray, stages: Sequence[np.ndarray],
                         memorization: np.ndarray | None = None) -> RepresentationsFile:
    """Check and write a representations file (``stages`` shallow first); returns it loaded."""
    arrays = {LABELS: np.asarray(labels),
              **{f"stage_{i}": np.asarray(x) for i, x in enumerate(stages, start=1)}}
    if memorization is not None:
        arrays[MEMORIZATION] = np.asarray(memorization)
    check_arrays(arrays, str(path))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:  # np.savez on a name would append ".npz" to any other suffix
        np.savez(f, **arrays)  # type: ignore[arg-type]
    return load_representations(path)
