"""The density-bin table (Fig. 3) at a tiny size: consistency, held-out training, storage."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from modes import registry
from modes.data.synthetic import generate
from modes.experiments.density_bins import (
    DensityBinTable,
    PixelSpace,
    bin_summary,
    density_bin_experiment,
    density_bins,
)
from modes.scale import DataScale, RobustnessScale, TrainScale
from modes.store import ArtifactStore
from modes.training.ensemble import train_ensemble

torch.set_num_threads(1)

CLASSES = 4
ROBUSTNESS = RobustnessScale(bins=4, bin_epochs=1, sigma=0.25, n0=8, n=64, alpha=0.01,
                             certify_per_bin=3)
TRAIN = TrainScale(epochs=99, batch_size=16, max_lr=0.05, width=0.125)


@pytest.fixture(scope="module")
def data() -> Any:
    return generate(DataScale(num_classes=CLASSES, train_per_class=10, test_per_class=1,
                              image_size=8), seed=3)


def backbone() -> Any:
    return registry.create("backbone", "resnet18", num_classes=CLASSES, width=0.125)


def class_structured_log_density(labels: np.ndarray) -> np.ndarray:
    """Two low-density classes (wide spread) and two high-density classes (narrow)."""
    rng = np.random.default_rng(0)
    high = labels >= 2
    return np.where(high, 40.0 + rng.normal(0, 0.5, len(labels)),
                    10.0 + 2.0 * labels + rng.normal(0, 3.0, len(labels)))


class RecordingTrainer:
    """The real ensemble trainer, remembering the masks and noise of every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[np.ndarray, Any]] = []

    def __call__(self, module_factory, images, labels, masks, train, seeds, **kwargs):
        self.calls.append((np.array(masks, copy=True), kwargs.get("noise_std", 0.0)))
        assert train.epochs == ROBUSTNESS.bin_epochs
        return train_ensemble(module_factory, images, labels, masks, train, seeds, **kwargs)


@pytest.fixture(scope="module")
def run(data, tmp_path_factory) -> tuple[DensityBinTable, RecordingTrainer, np.ndarray, Any]:
    labels = data.train_labels.numpy()
    log_density = class_structured_log_density(labels)
    memorization = np.random.default_rng(1).uniform(0, 1, len(labels))
    trainer = RecordingTrainer()
    store = ArtifactStore(tmp_path_factory.mktemp("store"))
    table = density_bin_experiment(log_density, memorization, data, backbone, ROBUSTNESS, TRAIN,
                                   seed=0, store=store, trainer=trainer, members_per_chunk=3)
    return table, trainer, log_density, (memorization, store)


def test_bins_partition_the_data_in_density_order(run, data):
    table, _, log_density, _ = run
    n = data.num_train
    assert table.bins == ROBUSTNESS.bins
    assert table.count.sum() == n
    np.testing.assert_array_equal(np.bincount(table.bin_of, minlength=table.bins), table.count)
    assert table.count.max() - table.count.min() <= 1  # equally sized
    assert np.all(table.upper_edge[:-1] <= table.lower_edge[1:])  # ascending, disjoint
    for b in range(table.bins):
        members = log_density[table.bin_of == b]
        assert members.min() == table.lower_edge[b] and members.max() == table.upper_edge[b]
        assert members.mean() == pytest.approx(table.log_density_mean[b])


def test_held_out_models_never_saw_their_bin(run):
    table, trainer, _, _ = run
    heldout = [c for c in trainer.calls if np.all(np.asarray(c[1]) == 0)]
    noisy = [c for c in trainer.calls if np.any(np.asarray(c[1]) > 0)]
    for calls in (heldout, noisy):
        masks = np.concatenate([c[0] for c in calls])
        assert masks.shape[0] == table.bins  # one model per bin, in bin order
        for b in range(table.bins):
            np.testing.assert_array_equal(masks[b], table.bin_of != b)


def test_noise_training_uses_the_normalised_sigma_by_default(run, data):
    """The authors' space: sigma added to normalised images (sigma * channel std in pixels)."""
    table, trainer, _, _ = run
    assert ROBUSTNESS.noise_space == "normalized"
    noisy = [np.asarray(c[1]) for c in trainer.calls if np.any(np.asarray(c[1]) > 0)]
    assert noisy
    for noise in noisy:
        np.testing.assert_allclose(noise, ROBUSTNESS.sigma)
    assert table.noise_space == "normalized"
    np.testing.assert_allclose(table.noise_pixel_sd,
                               ROBUSTNESS.sigma * np.asarray(data.channel_std), rtol=1e-6)


def test_pixel_noise_space_trains_with_sigma_over_channel_std(data):
    """Cohen et al.'s space: sigma in pixels, i.e. sigma / channel std in normalised units."""
    labels = data.train_labels.numpy()
    trainer = RecordingTrainer()
    robustness = attrs.evolve(ROBUSTNESS, noise_space="pixel", bins=2, certify_per_bin=1)
    table = density_bin_experiment(class_structured_log_density(labels), np.zeros(len(labels)),
                                   data, backbone, robustness, TRAIN, trainer=trainer,
                                   members_per_chunk=2)
    noisy = [np.asarray(c[1]) for c in trainer.calls if np.any(np.asarray(c[1]) > 0)]
    assert noisy
    for noise in noisy:
        np.testing.assert_allclose(noise, ROBUSTNESS.sigma / np.asarray(data.channel_std),
                                   rtol=1e-6)
    assert table.noise_space == "pixel"
    np.testing.assert_allclose(table.noise_pixel_sd, ROBUSTNESS.sigma)


def test_class_split_and_fractions(run, data):
    table, _, _, _ = run
    np.testing.assert_array_equal(table.high_classes, [False, False, True, True])
    np.testing.assert_allclose(table.low_fraction + table.high_fraction, 1.0)
    # The two densest bins hold only high-density-class examples here.
    assert table.high_fraction[-1] == 1.0


def test_per_bin_quantities_are_in_range(run):
    table, _, _, (memorization, _) = run
    for name in ("heldout_fscore", "smoothed_fscore", "non_abstain_rate"):
        values = getattr(table, name)
        assert np.all((values >= 0) & (values <= 1)), (name, values)
    np.testing.assert_array_equal(table.certified_count, ROBUSTNESS.certify_per_bin)
    finite = np.isfinite(table.radius_mean)
    assert np.all(table.radius_mean[finite] > 0)
    assert np.all(np.isnan(table.radius_mean[table.non_abstain_rate == 0]))
    for b in range(table.bins):
        assert memorization[table.bin_of == b].mean() == pytest.approx(table.memorization_mean[b])


def test_table_is_stored_and_reloaded(run, data):
    table, _, log_density, (memorization, store) = run
    trainer = RecordingTrainer()
    again = density_bin_experiment(log_density, memorization, data, backbone, ROBUSTNESS, TRAIN,
                                   seed=0, store=store, trainer=trainer, members_per_chunk=3)
    assert trainer.calls == []  # loaded, not retrained
    for name, value in table.arrays().items():
        np.testing.assert_array_equal(getattr(again, name), value, err_msg=name)


def test_the_summary_is_the_tables_own_columns_without_training(run, data):
    """C5 reads the bins' density, memorization and class mix (bin_summary): exactly the
    table's columns, computed without a trained model (a re-read density re-bins for free)."""
    table, _, log_density, (memorization, _) = run
    summary = bin_summary(log_density, memorization, data.train_labels.numpy(), CLASSES,
                          ROBUSTNESS.bins)
    for name, value in summary.arrays().items():
        np.testing.assert_array_equal(getattr(table, name), value, err_msg=name)
    assert summary.bins == table.bins
    for b, members in enumerate(summary.groups):
        np.testing.assert_array_equal(np.flatnonzero(table.bin_of == b), np.sort(members))


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 60), st.integers(1, 8), st.integers(0, 2**31 - 1))
def test_bin_summary_partitions_in_density_order(n, bins, seed):
    rng = np.random.default_rng(seed)
    bins = min(bins, n)
    labels = rng.permutation(np.arange(n) % 3)  # at least two classes: the gap split's
    log_density = rng.normal(size=n) * 5
    memorization = rng.uniform(size=n)
    s = bin_summary(log_density, memorization, labels, 3, bins)
    assert s.count.sum() == n and s.count.max() - s.count.min() <= 1
    assert np.all(s.upper_edge[:-1] <= s.lower_edge[1:])
    np.testing.assert_allclose(s.low_fraction + s.high_fraction, 1.0)
    weights = s.count / n
    assert float(weights @ s.memorization_mean) == pytest.approx(memorization.mean())
    assert float(weights @ s.log_density_mean) == pytest.approx(log_density.mean())


def test_scores_of_the_wrong_length_are_rejected(data):
    n = data.num_train
    with pytest.raises(ValueError, match="memorization has shape"):
        density_bin_experiment(np.zeros(n), np.zeros(n - 1), data, backbone, ROBUSTNESS, TRAIN)
    with pytest.raises(ValueError, match="log_density has shape"):
        density_bin_experiment(np.zeros(n + 2), np.zeros(n), data, backbone, ROBUSTNESS, TRAIN)
    with pytest.raises(ValueError, match="non-finite"):
        density_bin_experiment(np.full(n, np.nan), np.zeros(n), data, backbone, ROBUSTNESS, TRAIN)


def test_density_bins_sizes_and_validation():
    x = np.random.default_rng(0).normal(size=23)
    groups = density_bins(x, 5)
    assert sorted(np.concatenate(groups).tolist()) == list(range(23))
    assert [len(g) for g in groups] == [5, 5, 5, 4, 4]
    with pytest.raises(ValueError, match="bins must lie"):
        density_bins(x, 0)
    with pytest.raises(ValueError, match="bins must lie"):
        density_bins(x, 24)


def test_pixel_space_normalises_before_the_network():
    net = torch.nn.Identity()
    wrapped = PixelSpace(net, (0.5, 0.4, 0.3), (0.2, 0.25, 0.5))
    x = torch.rand(2, 3, 4, 4)
    expected = (x - torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1)) / torch.tensor(
        [0.2, 0.25, 0.5]).view(1, 3, 1, 1)
    torch.testing.assert_close(wrapped(x), expected)
