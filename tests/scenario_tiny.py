"""A tiny scale so end-to-end tests run the real pipeline in seconds: the smoke profile with
overrides, as ``--modes-set`` would give them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modes.components.memorization import AuthorsFiles, load_authors_files
from modes.data.representations_file import save_representations
from modes.scale import Scale, load_profile
from modes.scenario import Scenario, ScenarioConfig
from modes.store import ArtifactStore

TINY_OVERRIDES = (
    "data.num_classes=4", "data.train_per_class=24", "data.test_per_class=4",
    "train.epochs=1", "train.batch_size=32",
    "density.sweeps=8", "density.burn_in=4", "density.thin=1", "density.dims_shallow=3",
    "density.dims_deep=4", "density.kl_samples=32",
)
TINY: Scale = load_profile("smoke", TINY_OVERRIDES)

AUTHORS_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "authors-files"


def authors_files_scenario(tmp_path: Path) -> tuple[Scenario, AuthorsFiles, np.ndarray]:
    """A tiny ResNet18 / CIFAR-100 scenario on the authors' fixture files (their subsets and
    scores) over a three-stage representations file with the fixture's labels: the scenario,
    the loaded files and the labels."""
    files = load_authors_files(AUTHORS_FIXTURE, "resnet18", "cifar100")
    assert files.scores is not None
    labels = files.scores.labels.astype(np.int64)
    rng = np.random.default_rng(2)
    stages = [rng.normal(size=(60, 6)) + labels[:, None] * k for k in (0.0, 0.5, 2.0)]
    reps = save_representations(tmp_path / "reps.npz", labels, stages)
    scenario = Scenario(ScenarioConfig(overrides=TINY_OVERRIDES, dataset="cifar100",
                                       backbone="resnet18", representations=reps.path,
                                       authors_files=str(AUTHORS_FIXTURE)),
                        ArtifactStore(tmp_path / "store"))
    return scenario, files, labels
