"""The Fig. 4 / Fig. A.11 subsets C8 and C9 get: ``--modes-authors-files`` or the rule that made
them."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from modes.components.memorization import a11_heldout, fig4_split, load_authors_files
from modes.components.memorization.authors_files import SUBSETS
from modes.scale import FULL
from modes.scenario import FileData, Scenario, ScenarioConfig
from modes.store import ArtifactStore
from scenario_tiny import authors_files_scenario

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "fixtures" / "authors-files"
PUBLISHED = ROOT.parent / "shared" / "data" / "published"
REAL = PUBLISHED / "authors-files"
REAL_SCORES = PUBLISHED / "resnet18-cifar100-mem_scores.npz"
MEM = Path("memorization", "resnet18", "cifar100", "mem_scores.npz")


def _scenario(tmp_path: Path, root: Path, labels: np.ndarray, **config: object) -> Scenario:
    """A scenario on CIFAR-100 whose training labels are ``labels`` (no images needed)."""
    settings: dict[str, object] = {"dataset": "cifar100", "backbone": "resnet18",
                                   "authors_files": str(root), **config}
    cfg = ScenarioConfig(**settings)  # type: ignore[arg-type]
    scenario = Scenario(cfg, ArtifactStore(tmp_path / "store"))
    scenario.__dict__["dataset"] = FileData(name="labels", num_classes=int(labels.max()) + 1,
                                            train_labels=torch.from_numpy(labels.astype(np.int64)))
    return scenario


def _same_lists(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_with_authors_files_the_subsets_are_the_files(tmp_path: Path) -> None:
    files = load_authors_files(FIXTURE, "resnet18", "cifar100")
    assert files.scores is not None
    scenario = _scenario(tmp_path, FIXTURE, files.scores.labels)
    subsets = scenario.fitting_subsets()
    assert all(_same_lists(subsets[s], files.fig4[s]) for s in SUBSETS)
    held = scenario.heldout_subsets()
    assert all(np.array_equal(held[s], files.a11[s]) for s in SUBSETS)
    np.testing.assert_array_equal(scenario.memorization(), files.scores.scores)


def test_the_rule_on_the_fixture_scores_gives_the_files_classes() -> None:
    files = load_authors_files(FIXTURE, "resnet18", "cifar100")
    assert files.scores is not None
    split = fig4_split(files.scores.scores, files.scores.labels, 0.70, 0.015, 5, 5,
                       np.random.default_rng(0))
    labels = files.scores.labels
    for s in SUBSETS:
        assert [int(labels[x[0]]) for x in split[s]] == [int(labels[x[0]])
                                                          for x in files.fig4[s]]
        assert all(len(x) == 5 and np.unique(labels[x]).size == 1 for x in split[s])


def test_the_rule_caps_each_class_and_keeps_classes_apart() -> None:
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(3), 40)
    scores = np.concatenate([np.full(40, 0.8), np.r_[np.full(10, 0.8), np.zeros(30)],
                             np.zeros(40)])
    split = fig4_split(scores, labels, 0.7, 0.015, 5, 20, rng)
    assert [len(x) for x in split["most"]] == [20, 10]  # class 1: all 10 candidates
    assert [len(x) for x in split["least"]] == [20, 20]  # classes 1 and 2 only
    assert [int(labels[x[0]]) for x in split["least"]] == [1, 2]
    assert len(split["random"]) == 3
    with pytest.raises(ValueError, match="per_class_min"):
        fig4_split(scores, labels, 0.7, 0.015, 30, 20, rng)


def test_full_profile_settings_are_the_authors() -> None:
    f = FULL.fitting
    assert (f.memorized_from, f.typical_below) == (0.70, 0.015)
    assert (f.per_class_min, f.per_class_cap, f.heldout_per_subset) == (100, 100, 1000)


def test_authors_files_need_their_backbone_and_dataset(tmp_path: Path) -> None:
    files = load_authors_files(FIXTURE, "resnet18", "cifar100")
    assert files.scores is not None
    scenario = _scenario(tmp_path, FIXTURE, files.scores.labels, backbone="vit")
    with pytest.raises(ValueError, match="resnet18"):
        scenario.fitting_subsets()


def test_c8_and_c9_stages_run_on_the_files_subsets(tmp_path: Path) -> None:
    """subset_divergences fits each subset's own classes; the generative classifier holds out
    the files' examples (tiny sizes, a representations file with the fixture's labels)."""
    scenario, files, labels = authors_files_scenario(tmp_path)
    out = scenario.subset_divergences("resnet18")
    for s in SUBSETS:
        classes = [int(labels[x[0]]) for x in files.fig4[s]]
        assert out.classes[s].tolist() == classes
        assert out.kl[s].shape == (3, len(classes), len(classes))
    assert np.isfinite(out.kl["random"][:, ~np.eye(4, dtype=bool)]).all()
    gen = scenario.generative_classification("resnet18")
    held = np.concatenate([files.a11[s] for s in SUBSETS])
    np.testing.assert_array_equal(gen.truth, labels[held])
    assert gen.subset_sizes.tolist() == [3, 3, 3]


@pytest.fixture(scope="module")
def real_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (REAL.exists() and REAL_SCORES.exists()):
        pytest.skip(f"the authors' files {REAL} are not present beside this checkout")
    root = tmp_path_factory.mktemp("authors") / "files"
    (root / MEM.parent).mkdir(parents=True)
    shutil.copy(REAL_SCORES, root / MEM)
    for folder in ("dkls", "generative_classification"):
        (root / folder).symlink_to(REAL / folder)
    return root


def test_the_rule_reproduces_the_authors_most_split(real_root: Path) -> None:
    """ResNet18 / CIFAR-100: the full profile's rule on the published scores gives the files'
    classes: 53 memorized classes x 100 from 0.70 up, 61 typical, 100 random."""
    files = load_authors_files(real_root, "resnet18", "cifar100")
    assert files.scores is not None
    scores, labels = files.scores.scores, files.scores.labels
    f = FULL.fitting
    split = fig4_split(scores, labels, f.memorized_from, f.typical_below, f.per_class_min,
                       f.per_class_cap, np.random.default_rng(0))
    assert [len(split[s]) for s in SUBSETS] == [53, 61, 100]
    assert all(len(x) == 100 for s in SUBSETS for x in split[s])
    for s in SUBSETS:
        assert [int(labels[x[0]]) for x in split[s]] == [int(labels[x[0]])
                                                          for x in files.fig4[s]]
    assert scores[np.concatenate(split["most"])].min() >= 0.70
    held = a11_heldout(scores, f.heldout_per_subset, np.random.default_rng(0))
    assert set(held["most"]) == set(files.a11["most"])
    assert scores[held["least"]].max() <= 0.0 and len(held["least"]) == 1000
    assert len(np.unique(np.concatenate(list(held.values())))) == 3000


def test_with_the_real_files_c8_and_c9_get_the_files_lists(tmp_path: Path,
                                                          real_root: Path) -> None:
    files = load_authors_files(real_root, "resnet18", "cifar100")
    assert files.scores is not None
    scenario = _scenario(tmp_path, real_root, files.scores.labels)
    subsets = scenario.fitting_subsets()
    assert all(_same_lists(subsets[s], files.fig4[s]) for s in SUBSETS)
    held = scenario.heldout_subsets()
    assert all(np.array_equal(held[s], files.a11[s]) for s in SUBSETS)
    # without --modes-authors-files, the rule on the same (published) scores: the same classes
    rule = _scenario(tmp_path, real_root, files.scores.labels, authors_files=None,
                     mem_scores=str(real_root / MEM), scale="full")
    ruled = rule.fitting_subsets()
    assert [len(ruled[s]) for s in SUBSETS] == [53, 61, 100]
