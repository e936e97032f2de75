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


# Every published variant at its real size: ResNet18 CIFAR-100 (tr_labels int32), files with int64
# labels, ResNet50 Mini-ImageNet (tt_labels int32 besides), and Feldman & Zhang's layout.
N_TRAIN, N_TEST, CLASSES = 50_000, 10_000, 100


@pytest.fixture(scope="module")
def full_size() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20230207)
    return {
        "tr_mem": rng.uniform(-0.05, 1.0, N_TRAIN).astype(np.float32),
        "tr_labels": rng.permutation(np.repeat(np.arange(CLASSES), N_TRAIN // CLASSES)),
        "tt_labels": rng.permutation(np.repeat(np.arange(CLASSES), N_TEST // CLASSES)),
    }


@pytest.mark.parametrize(("label_dtype", "with_test_labels"), [
    (np.int32, False),  # (a) the authors' ResNet18 CIFAR-100 file
    (np.int64, False),  # (b)
    (np.int32, True),   # (c) the authors' ResNet50 Mini-ImageNet file
])
def test_authors_variants(tmp_path, full_size, label_dtype, with_test_labels):
    arrays = {"tr_mem": full_size["tr_mem"],
              "tr_labels": full_size["tr_labels"].astype(label_dtype)}
    if with_test_labels:
        arrays["tt_labels"] = full_size["tt_labels"].astype(np.int32)
    scores = load_published(write(tmp_path, "mem_scores.npz", arrays),
                            expected_labels=full_size["tr_labels"])
    assert scores.source == AUTHORS_FORMAT
    assert len(scores) == N_TRAIN
    assert scores.scores.dtype == np.float64 and scores.labels.dtype == np.int64
    np.testing.assert_array_equal(scores.scores, full_size["tr_mem"].astype(np.float64))
    np.testing.assert_array_equal(scores.labels, full_size["tr_labels"])


def feldman_zhang_arrays(full_size: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """(d) cifar100_infl_matrix.npz: label vectors plus three keys per class."""
    arrays = {"tr_mem": full_size["tr_mem"],
              "tr_labels": full_size["tr_labels"].astype(np.int32),
              "tt_labels": full_size["tt_labels"].astype(np.int32)}
    for c in range(CLASSES):
        tr_idx = np.flatnonzero(full_size["tr_labels"] == c)
        tt_idx = np.flatnonzero(full_size["tt_labels"] == c)
        arrays[f"tr_classidx_{c}"] = tr_idx
        arrays[f"tt_classidx_{c}"] = tt_idx
        arrays[f"infl_matrix_class{c}"] = np.zeros((len(tr_idx), len(tt_idx)), np.float32)
    return arrays


def test_feldman_zhang_full_size(tmp_path, full_size):
    path = write(tmp_path, "cifar100_infl_matrix.npz", feldman_zhang_arrays(full_size))
    scores = load_published(path, expected_labels=full_size["tr_labels"])
    assert scores.source == FELDMAN_ZHANG_FORMAT
    assert len(scores) == N_TRAIN
    np.testing.assert_array_equal(scores.scores, full_size["tr_mem"].astype(np.float64))


def test_partial_per_class_keys_are_named(tmp_path, full_size):
    arrays = {k: v for k, v in feldman_zhang_arrays(full_size).items()
              if not k.startswith("infl_matrix_class") or k == "infl_matrix_class0"}
    with pytest.raises(ValueError, match=r"missing key\(s\) \['infl_matrix_class1', "
                                         r"'infl_matrix_class2', .*\(99 in all\) for classes "
                                         r"\[1, 2, "):
        load_published(write(tmp_path, "partial.npz", arrays))
    no_test = {k: v for k, v in feldman_zhang_arrays(full_size).items() if k != "tt_labels"}
    with pytest.raises(ValueError, match=r"missing key\(s\) \['tt_labels'\]"):
        load_published(write(tmp_path, "no_tt.npz", no_test))


def test_unexpected_keys_are_named(tmp_path):
    arrays = raw(AUTHORS_HEAD)
    extra = write(tmp_path, "extra.npz", {**arrays, "tr_mem_std": arrays["tr_mem"]})
    with pytest.raises(ValueError, match=r"unexpected key\(s\) \['tr_mem_std'\]"):
        load_published(extra)
    fz = raw(FZ_TINY)
    fz["tr_classidx_7"] = fz["tr_classidx_0"]
    with pytest.raises(ValueError, match=r"unexpected key\(s\) \['tr_classidx_7'\] for classes"):
        load_published(write(tmp_path, "stray.npz", fz))


def test_wrong_dtypes_and_labels(tmp_path):
    arrays = raw(AUTHORS_HEAD)
    float_labels = write(tmp_path, "fl.npz", {**arrays, "tr_labels": arrays["tr_labels"] * 1.0})
    with pytest.raises(ValueError, match="tr_labels has dtype float64; expected integer"):
        load_published(float_labels)
    int_scores = write(tmp_path, "is.npz", {**arrays, "tr_mem": arrays["tr_labels"]})
    with pytest.raises(ValueError, match="tr_mem has dtype int32; expected floating"):
        load_published(int_scores)
    foreign = write(tmp_path, "tt.npz", {**arrays, "tt_labels": np.array([0, 100], np.int32)})
    with pytest.raises(ValueError, match=r"tt_labels holds class\(es\) \[100\] absent"):
        load_published(foreign)
    negative = arrays["tr_labels"].copy()
    negative[3] = -1
    with pytest.raises(ValueError, match="tr_labels holds negative label -1"):
        load_published(write(tmp_path, "neg.npz", {**arrays, "tr_labels": negative}))
