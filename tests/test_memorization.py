"""Feldman & Zhang's subsampled memorization estimator: known answers, coverage, storage."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from modes import registry
from modes.components.memorization import (
    MemorizationScores,
    SubsampledMemorization,
    coverage_failure_probability,
    required_trials,
)
from modes.components.memorization.subsampled import (
    CHUNK_KIND,
    memorization_from_trials,
    trial_masks,
)
from modes.data.dataset import ImageDataset, flip_labels
from modes.scale import SMOKE, TrainScale
from modes.store import ArtifactStore

torch.set_num_threads(1)


def prototype_dataset(classes: int, per_class: int, size: int, label_noise: float,
                      seed: int) -> ImageDataset:
    """Class prototypes plus Gaussian noise (clean examples generalise), with flipped labels;
    stored as uint8 pixels ``128 + 40 x`` (clipped beyond about 3 sd)."""
    rng = np.random.default_rng(seed)
    protos = rng.normal(size=(classes, 3, size, size))
    clean = np.repeat(np.arange(classes), per_class)
    x = protos[clean] + rng.normal(size=(len(clean), 3, size, size))
    noisy, flipped = flip_labels(clean, label_noise, classes, rng)
    pixels = torch.as_tensor(np.clip(np.rint(128 + 40 * x), 0, 255).astype(np.uint8))
    return ImageDataset("prototypes", classes, pixels, torch.as_tensor(noisy),
                        pixels[:classes].clone(), torch.arange(classes),
                        train_meta={"label_flipped": flipped, "clean_label": clean})


def resnet_factory(classes: int, width: float) -> Any:
    return lambda: registry.create("backbone", "resnet18", num_classes=classes, width=width)


@pytest.mark.slow
def test_planted_label_noise_is_memorized():
    """5% flipped labels: flipped examples are fitted only when trained on, so their scores are
    high, while clean examples are classified right either way (scores near 0)."""
    m = SMOKE.memorization
    data = prototype_dataset(classes=4, per_class=40, size=8, label_noise=0.05, seed=0)
    flipped = data.train_meta["label_flipped"]
    assert flipped.sum() == 8
    trials = required_trials(data.num_train, m.subset_ratio, m.min_per_side)
    estimator = SubsampledMemorization(trials=trials, subset_ratio=m.subset_ratio,
                                       min_per_side=m.min_per_side, seed=0, members_per_chunk=36)
    train = TrainScale(epochs=m.epochs, batch_size=32, max_lr=0.1, width=m.width,
                       crop_padding=0, hflip=False)
    result = estimator.estimate(resnet_factory(4, m.width), data, train)
    auc = roc_auc_score(flipped, result.scores)
    assert auc >= 0.9, (f"AUC of memorization for flipped vs clean labels is {auc:.3f}; mean "
                        f"{result.scores[flipped].mean():.2f} flipped vs "
                        f"{result.scores[~flipped].mean():.2f} clean")
    assert result.count_in.min() >= m.min_per_side and result.count_out.min() >= m.min_per_side
    assert np.all(result.count_in + result.count_out == trials)
    assert np.all(np.isfinite(result.standard_error))


def test_scores_from_trials_match_hand_computation():
    masks = np.array([[1, 0, 1], [1, 1, 0], [0, 1, 1], [0, 0, 1]], dtype=bool)
    correct = np.array([[1, 0, 1], [1, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=bool)
    result = memorization_from_trials(correct, masks, np.array([0, 1, 2]), trials=4)
    # example 0: in {t0, t1} both correct; out {t2, t3}: 1 of 2 correct -> 1 - 0.5
    # example 1: in {t1, t2}: 1 of 2; out {t0, t3}: 0 of 2 -> 0.5
    # example 2: in {t0, t2, t3}: 2 of 3; out {t1}: 0 of 1 -> 2/3
    np.testing.assert_allclose(result.scores, [0.5, 0.5, 2 / 3])
    np.testing.assert_array_equal(result.count_in, [2, 2, 3])
    np.testing.assert_array_equal(result.count_out, [2, 2, 1])
    se0 = np.sqrt(0 + 0.25 / 2)
    se2 = np.sqrt((2 / 3) * (1 / 3) / 3 + 0)
    np.testing.assert_allclose(result.standard_error[[0, 2]], [se0, se2])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"subset_ratio": 0.0}, "subset_ratio"), ({"subset_ratio": 1.0}, "subset_ratio"),
     ({"subset_ratio": 1.5}, "subset_ratio"), ({"trials": 0}, "trials"),
     ({"min_per_side": 0}, "min_per_side"), ({"members_per_chunk": 0}, "members_per_chunk")],
)
def test_bad_settings_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SubsampledMemorization(**{"trials": 10, **kwargs})


def test_too_few_trials_fail_before_any_training():
    data = prototype_dataset(classes=2, per_class=20, size=8, label_noise=0.0, seed=0)

    def never_built() -> Any:
        raise AssertionError("no model may be built when coverage is impossible")

    estimator = SubsampledMemorization(trials=20, subset_ratio=0.7, min_per_side=8)
    with pytest.raises(ValueError, match=r"trials=20 are too few for min_per_side=8"):
        estimator.estimate(never_built, data, SMOKE.train)


def test_realised_coverage_is_checked():
    estimator = SubsampledMemorization(trials=4, subset_ratio=0.5, min_per_side=2)
    masks = np.array([[1, 0], [1, 1], [0, 1], [0, 0]], dtype=bool)  # example 1 is in 2, out 2
    estimator.check_realised_coverage(masks)
    masks[3, 0] = True  # example 0: 3 in, 1 out
    with pytest.raises(ValueError, match=r"1 example\(s\) with fewer than min_per_side=2"):
        estimator.check_realised_coverage(masks)


@settings(deadline=None, max_examples=25)
@given(n=st.integers(10, 5000), ratio=st.floats(0.1, 0.9), k=st.integers(1, 30))
def test_required_trials_is_the_smallest_sufficient_count(n, ratio, k):
    t = required_trials(n, ratio, k, failure_probability=0.05)
    assert coverage_failure_probability(n, t, ratio, k) <= 0.05
    if t > 2 * k:
        assert coverage_failure_probability(n, t - 1, ratio, k) > 0.05


def test_coverage_probability_matches_simulation():
    n, trials, ratio, k = 300, 60, 0.7, 12
    predicted = coverage_failure_probability(n, trials, ratio, k)
    failures = 0
    runs = 300
    for seed in range(runs):
        masks = trial_masks(n, ratio, seed, range(trials))
        c_in, c_out = masks.sum(0), (~masks).sum(0)
        failures += bool(np.any((c_in < k) | (c_out < k)))
    observed = failures / runs
    sd = np.sqrt(predicted * (1 - predicted) / runs)
    assert abs(observed - predicted) < 4 * sd + 0.01, (observed, predicted)


def test_trial_subsets_are_uniform_and_independent_of_chunking():
    masks = trial_masks(50, 0.7, seed=3, trials=range(8))
    assert np.all(masks.sum(axis=1) == 35)
    np.testing.assert_array_equal(masks[5:], trial_masks(50, 0.7, seed=3, trials=range(5, 8)))
    assert len({m.tobytes() for m in masks}) == 8


# -- storage and executors, at a tiny size ---------------------------------------------------

TINY_TRAIN = TrainScale(epochs=1, batch_size=8, max_lr=0.05, width=0.125, crop_padding=0,
                        hflip=False)


def tiny_estimator(**kwargs: Any) -> SubsampledMemorization:
    return SubsampledMemorization(**{"trials": 12, "subset_ratio": 0.5, "min_per_side": 2,
                                     "seed": 4, "members_per_chunk": 4, **kwargs})


@pytest.fixture(scope="module")
def tiny_data() -> ImageDataset:
    return prototype_dataset(classes=2, per_class=10, size=8, label_noise=0.0, seed=1)


@pytest.fixture(scope="module")
def tiny_serial(tiny_data) -> Any:
    return tiny_estimator().estimate(resnet_factory(2, 0.125), tiny_data, TINY_TRAIN)


class FailingAfter:
    """The real backbone factory, which fails once it has built ``limit`` networks."""

    def __init__(self, limit: int) -> None:
        self.limit, self.built = limit, 0
        self.inner = resnet_factory(2, 0.125)

    def __call__(self) -> Any:
        self.built += 1
        if self.built > self.limit:
            raise RuntimeError("simulated crash while building a trial's network")
        return self.inner()


def stored_files(root: Path) -> list[str]:
    return sorted(p.name for p in (root / CHUNK_KIND).iterdir()) if (root / CHUNK_KIND).exists() \
        else []


def test_crashed_run_keeps_finished_chunks_and_resumes(tiny_data, tiny_serial, tmp_path):
    store = ArtifactStore(tmp_path)
    # 1 network for the request's architecture hash, then 4 per chunk: chunk 2 of 3 crashes.
    failing = FailingAfter(limit=1 + 4 + 2)
    with pytest.raises(RuntimeError, match="simulated crash"):
        tiny_estimator().estimate(failing, tiny_data, TINY_TRAIN, store=store)
    files = stored_files(tmp_path)
    assert len([f for f in files if f.endswith(".npz")]) == 1  # chunk 0 only
    assert not [f for f in files if f.endswith(".tmp")]  # nothing half-written
    resumed = FailingAfter(limit=10**6)
    result = tiny_estimator().estimate(resumed, tiny_data, TINY_TRAIN, store=store)
    assert resumed.built == 1 + 2 * 4  # only the two missing chunks were trained
    np.testing.assert_array_equal(result.scores, tiny_serial.scores)
    np.testing.assert_array_equal(result.count_in, tiny_serial.count_in)


def test_executor_fan_out_equals_the_serial_run(tiny_data, tiny_serial, tmp_path):
    store = ArtifactStore(tmp_path)
    with ThreadPoolExecutor(max_workers=2) as pool:
        result = tiny_estimator().estimate(resnet_factory(2, 0.125), tiny_data, TINY_TRAIN,
                                           store=store, executor=pool)
    np.testing.assert_array_equal(result.scores, tiny_serial.scores)
    np.testing.assert_array_equal(result.standard_error, tiny_serial.standard_error)
    assert len([f for f in stored_files(tmp_path) if f.endswith(".npz")]) == 3


def test_scores_round_trip_through_the_store(tiny_serial, tmp_path):
    store = ArtifactStore(tmp_path)
    store.save("memorization-scores", "k", tiny_serial.arrays())
    loaded = MemorizationScores.from_arrays(store.load("memorization-scores", "k"),
                                            source="subsampled", trials=tiny_serial.trials)
    for name, value in tiny_serial.arrays().items():
        np.testing.assert_array_equal(getattr(loaded, name), value)
    with pytest.raises(ValueError, match="count_in has length 3 but scores has length 20"):
        MemorizationScores(scores=tiny_serial.scores, labels=tiny_serial.labels, source="x",
                           count_in=np.zeros(3, dtype=np.int64))


def test_registered_with_the_scenarios_arguments():
    estimator = registry.create("memorization", "subsampled", trials=80, subset_ratio=0.7,
                                min_per_side=8, seed=3)
    assert isinstance(estimator, SubsampledMemorization)
    assert estimator.trials == 80 and estimator.seed == 3


def test_automatic_chunk_size_keeps_steps_near_the_pixel_budget():
    estimator = SubsampledMemorization(trials=100)
    assert estimator.chunk_size((2000, 3, 32, 32), batch_size=128) == 4  # 2**19 pixels
    assert estimator.chunk_size((160, 3, 8, 8), batch_size=32) == 100  # capped at the trials
    assert SubsampledMemorization(trials=100, members_per_chunk=7).chunk_size(
        (2000, 3, 32, 32), 128) == 7
    assert [len(c) for c in estimator.chunks(30)] == [30, 30, 30, 10]
