"""A tiny scale so end-to-end tests run the real pipeline in seconds: the smoke profile with
overrides, as ``--modes-set`` would give them."""

from __future__ import annotations

from modes.scale import Scale, load_profile

TINY_OVERRIDES = (
    "data.num_classes=4", "data.train_per_class=24", "data.test_per_class=4",
    "train.epochs=1", "train.batch_size=32",
    "density.sweeps=8", "density.burn_in=4", "density.thin=1", "density.dims_shallow=3",
    "density.dims_deep=4", "density.kl_samples=32",
)
TINY: Scale = load_profile("smoke", TINY_OVERRIDES)
