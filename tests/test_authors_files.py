"""load_authors_files and the Fig. 4 subset rules, on a tiny fixture and on the real files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from modes.components.memorization import (
    AuthorsFiles,
    audit_fig4,
    authors_rule,
    load_authors_files,
    load_published,
    paper_rule,
)
from modes.components.memorization.authors_files import SUBSETS

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "fixtures" / "authors-files"
PUBLISHED = ROOT.parent / "shared" / "data" / "published"
REAL = PUBLISHED / "authors-files"
REAL_SCORES = PUBLISHED / "resnet18-cifar100-mem_scores.npz"
DKLS = Path("dkls", "resnet18", "cifar100")
GEN = Path("generative_classification", "resnet18", "cifar100")
MEM = Path("memorization", "resnet18", "cifar100", "mem_scores.npz")


def test_fixture_loads_consistently():
    files = load_authors_files(FIXTURE, "resnet18", "cifar100")
    assert isinstance(files, AuthorsFiles)
    assert files.scores is not None and files.train_size == len(files.scores) == 60
    assert [len(files.fig4[s]) for s in SUBSETS] == [2, 3, 4]
    assert all(x.dtype == np.int64 and len(x) == 5 for s in SUBSETS for x in files.fig4[s])
    assert all(files.a11[s].dtype == np.int64 and len(files.a11[s]) == 3 for s in SUBSETS)
    assert sum(len(x) for x in files.a11_class_indices) == 60 - 9
    for c, indices in enumerate(files.a11_train_indices()):
        assert np.all(files.scores.labels[indices] == c)
        assert not np.isin(indices, files.a11_heldout()).any()
    order = np.argsort(-files.scores.scores)
    assert set(files.a11["most"]) == set(order[:3])
    assert set(files.a11["least"]) == set(order[-3:])


def test_fixture_follows_the_authors_rule():
    files = load_authors_files(FIXTURE, "resnet18", "cifar100")
    assert files.scores is not None
    audit = audit_fig4(files.fig4, files.scores)
    rule = authors_rule(files.scores, per_class=5)
    for s in SUBSETS:
        np.testing.assert_array_equal(getattr(audit.classes, s), getattr(rule, s))
        np.testing.assert_array_equal(audit.sizes[s], 5)
    assert audit.classes.most.tolist() == [1, 3] and audit.classes.least.tolist() == [0, 1, 2]
    assert audit.score_range["most"][0] >= 0.7 and audit.score_range["least"][1] < 0.015
    assert audit.classes.in_all_three().tolist() == [1]
    assert audit.classes.overlaps() == {("most", "least"): 1, ("most", "random"): 2,
                                        ("least", "random"): 3}


def copy_fixture(tmp_path: Path, scores: bool = True) -> Path:
    root = tmp_path / "files"
    shutil.copytree(FIXTURE, root)
    if not scores:
        shutil.rmtree(root / "memorization")
    return root


def rewrite(path: Path, change) -> None:
    path.write_text(json.dumps(change(json.loads(path.read_text()))))


def test_without_scores_the_training_set_size_bounds_the_indices(tmp_path):
    root = copy_fixture(tmp_path, scores=False)
    files = load_authors_files(root, "resnet18", "cifar100", train_size=60)
    assert files.scores is None and files.train_size == 60
    with_scores = load_authors_files(FIXTURE, "resnet18", "cifar100")
    for s in SUBSETS:
        np.testing.assert_array_equal(files.a11[s], with_scores.a11[s])
    # By default CIFAR-100's 50,000: the class index file no longer partitions the remainder.
    with pytest.raises(ValueError, match=r"lists hold 51 positions but the training set less "
                                         r"the 9 held-out examples has 49991"):
        load_authors_files(root, "resnet18", "cifar100")
    with pytest.raises(ValueError, match=r"most_mem_class_split\.json, list 0: indices "
                                         r"outside \[0, 30\): 3"):
        load_authors_files(root, "resnet18", "cifar100", train_size=30)
    with pytest.raises(ValueError, match="holds 60 scores but train_size is 50000"):
        load_authors_files(FIXTURE, "resnet18", "cifar100", train_size=50_000)


def test_arch_and_dataset_are_validated():
    with pytest.raises(ValueError, match=r"arch 'resnet34' is not one of \['resnet18', "
                                         r"'resnet50'\]"):
        load_authors_files(FIXTURE, "resnet34", "cifar100")
    with pytest.raises(ValueError, match=r"dataset 'imagenet' is not one of \['cifar100', "
                                         r"'mini_imagenet'\]"):
        load_authors_files(FIXTURE, "resnet18", "imagenet")


def test_missing_file_is_named(tmp_path):
    root = copy_fixture(tmp_path)
    (root / GEN / "random.json").unlink()
    with pytest.raises(ValueError, match=r"random\.json' does not exist"):
        load_authors_files(root, "resnet18", "cifar100")
    with pytest.raises(ValueError, match=r"most_mem_class_split\.json' does not exist"):
        load_authors_files(tmp_path / "nowhere", "resnet50", "mini_imagenet")


@pytest.mark.parametrize(("file", "change", "message"), [
    (DKLS / "most_mem_class_split.json", lambda v: [[*v[0][:-1], 3.0], v[1]],
     r"most_mem_class_split\.json, list 0: non-integer entries: 1 \(first at position 4: 3\.0\)"),
    (DKLS / "least_mem_class_split.json", lambda v: [v[0], ["7", *v[1][1:]], v[2]],
     r"list 1: non-integer entries: 1 \(first at position 0: '7'\)"),
    (DKLS / "random_class_split.json", lambda v: [[60, *v[0][1:]], *v[1:]],
     r"list 0: indices outside \[0, 60\): 1 \(first at position 0: 60\)"),
    (DKLS / "random_class_split.json", lambda v: [v[0], [v[0][0], *v[1][1:]], *v[2:]],
     r"random_class_split\.json: indices listed more than once: 1"),
    (DKLS / "most_mem_class_split.json", lambda v: [v[0] + v[1]],
     r"most_mem_class_split\.json: list 0 mixes classes \[1, 3\]"),
    (GEN / "most_memorized.json", lambda v: [*v[:2], v[2], -1],
     r"most_memorized\.json: indices outside \[0, 60\): 1"),
    (GEN / "most_memorized.json", lambda v: {"indices": v},
     r"most_memorized\.json: expected a list of indices, got dict"),
    (GEN / "random.json", lambda v: [*v, v[0]],
     r"random\.json: indices listed more than once: 1"),
    (GEN / "class_indices_split.json", lambda v: [v[0][:-1], *v[1:]],
     r"lists hold 50 positions but the training set less the 9 held-out examples has 51"),
    (GEN / "class_indices_split.json", lambda v: [v[1], v[0], *v[2:]],
     r"class_indices_split\.json: list 0 does not hold exactly the remaining examples "
     r"labelled 0"),
])
def test_bad_files_are_named(tmp_path, file, change, message):
    root = copy_fixture(tmp_path)
    rewrite(root / file, change)
    with pytest.raises(ValueError, match=message):
        load_authors_files(root, "resnet18", "cifar100")


def test_class_with_two_lists_and_overlapping_heldout(tmp_path):
    root = copy_fixture(tmp_path)
    scores = load_published(root / MEM)
    ones = [i for i in range(60) if scores.labels[i] == 1]
    rewrite(root / DKLS / "most_mem_class_split.json", lambda v: [ones[:5], ones[5:10]])
    with pytest.raises(ValueError, match=r"class\(es\) \[1\] have more than one list"):
        load_authors_files(root, "resnet18", "cifar100")
    root = copy_fixture(tmp_path / "b")
    least = json.loads((root / GEN / "least_memorized.json").read_text())
    rewrite(root / GEN / "random.json", lambda v: [least[0], *v[1:]])
    with pytest.raises(ValueError, match=r"least_memorized\.json and random\.json share "
                                         r"indices: 1"):
        load_authors_files(root, "resnet18", "cifar100")


@pytest.fixture(scope="module")
def real_root(tmp_path_factory) -> Path:
    """The real split files with the real ResNet18 / CIFAR-100 scores beside them."""
    if not (REAL.exists() and REAL_SCORES.exists()):
        pytest.skip(f"the authors' files {REAL} are not present beside this checkout")
    root = tmp_path_factory.mktemp("authors") / "files"
    (root / MEM.parent).mkdir(parents=True)
    (root / MEM).symlink_to(REAL_SCORES)
    for folder in ("dkls", "generative_classification"):
        (root / folder).symlink_to(REAL / folder)
    return root


def test_real_files_as_published():
    if not REAL.exists():
        pytest.skip(f"the authors' files {REAL} are not present beside this checkout")
    files = load_authors_files(REAL, "resnet18", "cifar100")
    assert files.scores is None
    assert [len(files.fig4[s]) for s in SUBSETS] == [53, 61, 100]
    assert all(len(x) == 100 for s in SUBSETS for x in files.fig4[s])
    assert [len(files.a11[s]) for s in SUBSETS] == [1000, 1000, 1000]
    assert len(files.a11_class_indices) == 100
    assert sum(len(x) for x in files.a11_class_indices) == 47_000


def test_real_files_against_the_scores(real_root):
    files = load_authors_files(real_root, "resnet18", "cifar100")
    assert files.scores is not None
    scores = files.scores.scores
    audit = audit_fig4(files.fig4, files.scores)
    assert 0.70 <= audit.score_range["most"][0] < 0.7004
    assert 0.0149 < audit.score_range["least"][1] < 0.015
    assert audit.classes.overlaps() == {("most", "least"): 16, ("most", "random"): 53,
                                        ("least", "random"): 61}
    rule = authors_rule(files.scores)
    for s in SUBSETS:
        np.testing.assert_array_equal(getattr(audit.classes, s), getattr(rule, s))
    # Fig. A.11: the 1,000 highest scores; the 1,000 lowest (ties at 0.0); 1,000 others.
    assert set(files.a11["most"]) == set(np.argsort(-scores, kind="stable")[:1000])
    least = scores[files.a11["least"]]
    assert least.max() == 0.0 and np.sum(least < 0) == np.sum(scores < 0) == 332


def test_papers_literal_rule_on_the_real_scores(real_root):
    scores = load_published(real_root / MEM)
    assert int(np.sum(scores.scores > 0.9)) == 5288
    literal = paper_rule(scores)
    assert literal.most.tolist() == [10, 11, 32, 44, 50, 55, 72, 74, 80]
    assert len(literal.least) == 15 and len(literal.random) == 100
    assert literal.in_all_three().size == 0
    assert authors_rule(scores).in_all_three().size == 16
