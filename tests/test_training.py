"""Training: schedule, augmentation, seeding, subsets and caching, and the smoke pipeline."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from modes import registry
from modes.components.reducer import SVDReducer
from modes.components.taps import extract_representations
from modes.data import load_dataset
from modes.data.streaming import NormalisedImages
from modes.scale import SMOKE, DataScale, TrainScale
from modes.store import ArtifactStore
from modes.training import accuracy, evaluate, train_classifier, train_key
from modes.training.augment import crop_padding_for, gaussian_noise, random_crop_flip
from modes.training.ensemble import train_ensemble
from modes.training.fit import epoch_means
from modes.training.schedule import one_cycle_optimizer, one_cycle_scheduler

torch.set_num_threads(1)
TINY = TrainScale(epochs=1, batch_size=32, max_lr=0.05, width=0.0625)


def one_cycle_lr(step: int | float | np.ndarray, total_steps: int, train: TrainScale) -> np.ndarray:
    """The one-cycle schedule as Feldman & Zhang describe it, in closed form: linear
    ``min_lr -> max_lr`` over the first ``warmup_fraction`` of the steps, then linear back to
    ``min_lr`` (the reference ``OneCycleLR`` is checked against)."""
    peak = train.warmup_fraction * total_steps
    return np.asarray(np.interp(step, [0.0, peak, float(total_steps)],
                                [train.min_lr, train.max_lr, train.min_lr]))


@pytest.fixture(scope="module")
def tiny_data():
    return load_dataset("synthetic", DataScale(num_classes=3, train_per_class=16,
                                               test_per_class=4))


def _state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return model.state_dict()


def _tiny_backbone():
    return registry.create("backbone", "plain_cnn", num_classes=3, width=TINY.width)


@settings(deadline=None, max_examples=40)
@given(st.integers(1, 5000), st.floats(0.0, 1.0))
def test_one_cycle_is_piecewise_linear(total: int, frac: float) -> None:
    t = SMOKE.train
    peak = t.warmup_fraction * total
    assert np.isclose(one_cycle_lr(0, total, t), t.min_lr)
    assert np.isclose(one_cycle_lr(peak, total, t), t.max_lr)
    assert np.isclose(one_cycle_lr(total, total, t), t.min_lr)
    step = frac * total
    expected = (t.min_lr + (t.max_lr - t.min_lr) * step / peak if step <= peak
                else t.max_lr + (t.min_lr - t.max_lr) * (step - peak) / (total - peak))
    assert np.isclose(one_cycle_lr(step, total, t), expected)


def test_optimizer_is_nesterov_sgd_with_one_cycle() -> None:
    opt, sched = one_cycle_optimizer(torch.nn.Linear(2, 2).parameters(), SMOKE.train, 100)
    group = opt.param_groups[0]
    assert isinstance(opt, torch.optim.SGD) and group["nesterov"] and group["momentum"] == 0.9
    assert group["weight_decay"] == 1e-6
    assert isinstance(sched, torch.optim.lr_scheduler.OneCycleLR)
    lrs = []
    for _ in range(100):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    np.testing.assert_allclose(lrs, one_cycle_lr(np.arange(100), 100, SMOKE.train))


@pytest.mark.parametrize(("total", "warmup"), [(1, 0.15), (7, 0.15), (100, 0.15), (333, 0.3),
                                              (10, 0.05), (50, 1.0)])
def test_one_cycle_scheduler_matches_the_schedule(total: int, warmup: float) -> None:
    t = TrainScale(epochs=1, batch_size=1, max_lr=0.4, width=1.0, min_lr=1e-4,
                   warmup_fraction=warmup)
    opt = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=t.max_lr, momentum=0.9)
    sched = one_cycle_scheduler(opt, total, t)
    # steps 0..total-1 train; step total (one past the last batch) is min_lr in the old schedule
    # except when warmup_fraction = 1, where it is the (ambiguous) peak and end at once
    steps = total + 1 if warmup < 1.0 else total
    lrs, momenta = [], []
    for step in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        momenta.append(opt.param_groups[0]["momentum"])
        opt.step()
        if step < total:
            sched.step()
    np.testing.assert_allclose(lrs, one_cycle_lr(np.arange(steps), total, t), rtol=1e-9, atol=0)
    assert momenta == [0.9] * steps


def test_one_cycle_scheduler_rejects_bad_settings() -> None:
    opt = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="total_steps"):
        one_cycle_scheduler(opt, 0, SMOKE.train)
    with pytest.raises(ValueError, match="warmup_fraction"):
        one_cycle_scheduler(opt, 10, TrainScale(epochs=1, batch_size=1, max_lr=0.1, width=1.0,
                                                warmup_fraction=0.0))
    with pytest.raises(ValueError, match="min_lr"):
        one_cycle_scheduler(opt, 10, TrainScale(epochs=1, batch_size=1, max_lr=0.1, width=1.0,
                                                min_lr=0.2))


def test_the_trainer_steps_the_schedule_once_per_batch() -> None:
    """The learning rate of every training step is the one-cycle schedule's at that step."""
    images = torch.randint(0, 256, (40, 3, 8, 8), dtype=torch.uint8)
    data = NormalisedImages(images, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))
    labels = torch.arange(40) % 3
    train = TrainScale(epochs=3, batch_size=16, max_lr=0.05, width=0.0625)
    masks = np.ones((1, 40), dtype=bool)
    ensemble = train_ensemble(lambda: _tiny_backbone().module(), data, labels, masks, train, [0])
    steps = 8  # ceil(3 epochs * 40 images / 16)
    assert ensemble.step_losses.shape == (steps, 1) and np.all(ensemble.step_losses > 0)
    np.testing.assert_allclose(ensemble.step_lrs, one_cycle_lr(np.arange(steps), steps, train),
                               rtol=1e-9, atol=0)
    np.testing.assert_allclose(epoch_means(ensemble.step_losses[:, 0], 3),
                               [ensemble.step_losses[s, 0].mean() for s in (slice(0, 3),
                                                                            slice(3, 6),
                                                                            slice(6, 8))])


def test_random_crop_is_a_window_of_the_padded_image() -> None:
    x = torch.arange(2 * 3 * 5 * 5, dtype=torch.float32).view(2, 3, 5, 5) + 1
    g = torch.Generator().manual_seed(0)
    assert torch.equal(random_crop_flip(x, 0, False, g), x)
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for _ in range(5):
        out = random_crop_flip(x, 2, True, g)
        for b in range(2):
            windows = [padded[b, :, i:i + 5, j:j + 5] for i in range(5) for j in range(5)]
            windows += [w.flip(-1) for w in windows]
            assert any(torch.equal(out[b], w) for w in windows)
    same = [random_crop_flip(x, 2, True, torch.Generator().manual_seed(7)) for _ in range(2)]
    assert torch.equal(*same)
    assert crop_padding_for(84) == 10 and crop_padding_for(32) == 4


def test_gaussian_noise_strength() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(20_000)
    assert torch.equal(gaussian_noise(x, 0.0, g), x)
    assert abs(float(gaussian_noise(x, 0.5, g).std()) - 0.5) < 0.01
    with pytest.raises(ValueError, match="sigma"):
        gaussian_noise(x, -1.0, g)


def test_training_is_seeded_and_deterministic(tiny_data) -> None:
    a = train_classifier(_tiny_backbone(), tiny_data, TINY, seed=1, progress=False)
    b = train_classifier(_tiny_backbone(), tiny_data, TINY, seed=1, progress=False)
    c = train_classifier(_tiny_backbone(), tiny_data, TINY, seed=2, progress=False)
    for name, value in _state(a).items():
        assert torch.equal(value, _state(b)[name]), name
    assert any(not torch.equal(v, _state(c)[k]) for k, v in _state(a).items())
    assert not a.training


def test_subsets_and_noise_are_first_class_requests(tiny_data, tmp_path) -> None:
    bb, store = _tiny_backbone(), ArtifactStore(tmp_path)
    first = np.arange(0, 48, 2)
    keys = {train_key(bb, tiny_data, TINY, 0), train_key(bb, tiny_data, TINY, 0, first),
            train_key(bb, tiny_data, TINY, 0, first[:-1]),
            train_key(bb, tiny_data, TINY, 0, noise_sigma=0.5)}
    assert len(keys) == 4
    assert train_key(bb, tiny_data, TINY, 0, first) == train_key(bb, tiny_data, TINY, 0,
                                                                  first.copy())
    model = train_classifier(bb, tiny_data, TINY, 0, indices=first, store=store, progress=False)
    key = train_key(bb, tiny_data, TINY, 0, first)
    stored = store.load("model", key)
    assert stored is not None and set(model.state_dict()) <= set(stored), "weights not stored"
    # tamper with the stored weights: a second request must load them instead of retraining
    name = next(k for k in stored if k.endswith("fc.bias"))
    stored[name] = stored[name] + 1.0
    store.save("model", key, stored)
    again = train_classifier(bb, tiny_data, TINY, 0, indices=first, store=store, progress=False)
    torch.testing.assert_close(again.state_dict()[name], model.state_dict()[name] + 1.0)
    with pytest.raises(ValueError, match="indices"):
        train_key(bb, tiny_data, TINY, 0, np.array([0, 48]))
    with pytest.raises(ValueError, match="distinct"):
        train_key(bb, tiny_data, TINY, 0, np.array([3, 3]))


def test_noise_changes_training(tiny_data) -> None:
    clean = train_classifier(_tiny_backbone(), tiny_data, TINY, 0, progress=False)
    noisy = train_classifier(_tiny_backbone(), tiny_data, TINY, 0, noise_sigma=0.5,
                             progress=False)
    assert not torch.equal(clean.fc.weight, noisy.fc.weight)


def test_evaluate_returns_predictions(tiny_data) -> None:
    model = train_classifier(_tiny_backbone(), tiny_data, TINY, 0, progress=False)
    pred = evaluate(model, tiny_data.test_images, tiny_data.test_labels)
    assert pred.shape == (12,) and set(pred) <= {0, 1, 2}
    acc = accuracy(model, tiny_data.test_images, tiny_data.test_labels)
    assert acc == np.mean(pred == tiny_data.test_labels.numpy())
    with pytest.raises(ValueError, match="labels"):
        evaluate(model, tiny_data.test_images, tiny_data.test_labels[:3])


def test_class_count_mismatch_is_an_error(tiny_data) -> None:
    bb = registry.create("backbone", "plain_cnn", num_classes=5, width=TINY.width)
    with pytest.raises(ValueError, match="5 outputs"):
        train_classifier(bb, tiny_data, TINY, 0, progress=False)


@pytest.mark.slow
def test_smoke_pipeline_trains_taps_and_reduces(tmp_path) -> None:
    """Done-when: the SMOKE ResNet18 learns the synthetic data, 4 stages are tapped and reduced."""
    data = load_dataset("synthetic", SMOKE.data)
    bb = registry.create("backbone", "resnet18", num_classes=data.num_classes,
                         width=SMOKE.train.width)
    store = ArtifactStore(tmp_path)
    model = train_classifier(bb, data, SMOKE.train, seed=0, store=store, progress=False)
    correct = int((evaluate(model, data.test_images, data.test_labels)
                   == data.test_labels.numpy()).sum())
    n = len(data.test_labels)
    chance = 1 / data.num_classes
    test = binomtest(correct, n, chance, alternative="greater")
    assert test.pvalue < 1e-6, f"test accuracy {correct / n:.3f} vs chance {chance:.3f}"
    key = train_key(bb, data, SMOKE.train, seed=0)
    reps = extract_representations(bb, data.train_images, model=model, store=store, model_key=key)
    assert len(reps) == 4
    dims = [SMOKE.density.dims_shallow] * 2 + [SMOKE.density.dims_deep] * 2
    for (node, rep), k in zip(reps.items(), dims, strict=True):
        fitted = SVDReducer(dims=k).fit(rep)
        reduced = fitted.transform(rep)
        assert reduced.shape == (data.num_train, k), node
        assert 0 < fitted.retained_variance[k - 1] <= 1 + 1e-9
    # the cached path returns the same model
    cached = train_classifier(bb, data, SMOKE.train, seed=0, store=store, progress=False)
    assert all(torch.equal(v, cached.state_dict()[k]) for k, v in model.state_dict().items())


def test_a_plugin_backbones_new_version_retrains_it(tiny_data) -> None:
    """A plug-in backbone without a BackboneSpec is keyed by its name, initial weights and
    registry version: a release that changes its code but not its initial weights retrains."""
    import third_party_backbone

    keys = []
    for version in ("1.0", "1.1"):
        with registry.scoped():
            registry.register_component(registry.Component(
                "backbone", "third_party_net", third_party_backbone.build, version=version))
            bb = registry.create("backbone", "third_party_net", num_classes=3)
            keys.append(train_key(bb, tiny_data, TINY, 0))
            assert keys[-1] == train_key(bb, tiny_data, TINY, 0)
    assert keys[0] != keys[1]
