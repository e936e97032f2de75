"""load_published on the authors' mem_scores.npz layout and Feldman & Zhang's layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modes.components.memorization import MemorizationScores, load_published
from modes.components.memorization.published import (
    AUTHORS_FORMAT,
    FELDMAN_ZHANG_FORMAT,
    PublishedMemorization,
)
from modes.registry import create

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "published"
AUTHORS_HEAD = FIXTURES / "resnet18-cifar100-mem_scores-head500.npz"
FZ_TINY = FIXTURES / "feldman-zhang-layout-tiny.npz"
SHARED_REAL = ROOT.parent / "shared" / "data" / "published" / "resnet18-cifar100-mem_scores.npz"


def raw(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as npz:
        return {k: npz[k] for k in npz.files}


def test_authors_layout_fixture():
    arrays = raw(AUTHORS_HEAD)
    scores = load_published(AUTHORS_HEAD, expected_labels=arrays["tr_labels"])
    assert isinstance(scores, MemorizationScores)
    assert scores.source == AUTHORS_FORMAT
    assert len(scores) == 500
    np.testing.assert_array_equal(scores.scores, arrays["tr_mem"].astype(np.float64))
    assert scores.standard_error is None and scores.count_in is None


def test_shared_real_file():
    if not SHARED_REAL.exists():
        pytest.skip(f"the published file {SHARED_REAL} is not present beside this checkout")
    scores = load_published(SHARED_REAL)
    assert len(scores) == 50_000
    assert np.all(np.bincount(scores.labels) == 500)  # CIFAR-100: 500 per class
    assert scores.scores.min() > -0.1 and scores.scores.max() <= 1.0
    # The shipped fixture is the head of this file.
    np.testing.assert_array_equal(scores.scores[:500], load_published(AUTHORS_HEAD).scores)
    load_published(SHARED_REAL, expected_labels=scores.labels)


def test_feldman_zhang_layout_fixture():
    arrays = raw(FZ_TINY)
    scores = load_published(FZ_TINY, expected_labels=arrays["tr_labels"])
    assert scores.source == FELDMAN_ZHANG_FORMAT
    np.testing.assert_array_equal(scores.labels, arrays["tr_labels"])
    np.testing.assert_allclose(scores.scores, arrays["tr_mem"])


def test_label_order_mismatch_names_the_first_bad_index():
    labels = raw(AUTHORS_HEAD)["tr_labels"].copy()
    labels[[7, 100]] = labels[[100, 7]]
    assert labels[7] != raw(AUTHORS_HEAD)["tr_labels"][7]
    with pytest.raises(ValueError, match=r"label order at 2 of 500 positions \(first at index 7"):
        load_published(AUTHORS_HEAD, expected_labels=labels)


def test_length_mismatch_against_the_dataset():
    labels = raw(AUTHORS_HEAD)["tr_labels"]
    with pytest.raises(ValueError, match="holds 500 scores but the dataset has 499"):
        load_published(AUTHORS_HEAD, expected_labels=labels[:-1])


def write(tmp_path: Path, name: str, arrays: dict[str, np.ndarray]) -> Path:
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def test_missing_keys(tmp_path):
    arrays = raw(AUTHORS_HEAD)
    path = write(tmp_path, "no_mem.npz", {"tr_labels": arrays["tr_labels"]})
    with pytest.raises(ValueError, match=r"missing key\(s\) \['tr_mem'\]"):
        load_published(path)
    fz = raw(FZ_TINY)
    del fz["tt_classidx_3"]
    with pytest.raises(ValueError, match=r"missing key\(s\) \['tt_classidx_3'\] for class 3"):
        load_published(write(tmp_path, "fz.npz", fz))


def test_inconsistent_files(tmp_path):
    arrays = raw(AUTHORS_HEAD)
    short = write(tmp_path, "short.npz", {"tr_mem": arrays["tr_mem"][:-1],
                                          "tr_labels": arrays["tr_labels"]})
    with pytest.raises(ValueError, match="tr_mem has shape"):
        load_published(short)
    fz = raw(FZ_TINY)
    fz["tr_classidx_2"] = fz["tr_classidx_1"]
    with pytest.raises(ValueError, match="tr_classidx_2 does not list"):
        load_published(write(tmp_path, "fz_idx.npz", fz))
    fz = raw(FZ_TINY)
    fz["infl_matrix_class0"] = fz["infl_matrix_class0"].T
    with pytest.raises(ValueError, match="infl_matrix_class0 has shape"):
        load_published(write(tmp_path, "fz_infl.npz", fz))
    with pytest.raises(ValueError, match="does not exist"):
        load_published(tmp_path / "absent.npz")


def test_registered_estimator_reads_for_a_dataset():
    arrays = raw(FZ_TINY)
    estimator = create("memorization", "published", path=FZ_TINY)
    assert isinstance(estimator, PublishedMemorization)

    class Split:  # any object with the dataset's train_labels attribute
        train_labels = arrays["tr_labels"]

    assert len(estimator.estimate(Split())) == len(arrays["tr_labels"])
