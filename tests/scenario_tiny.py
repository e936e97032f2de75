"""A tiny scale profile so end-to-end tests run the real pipeline in seconds."""

from __future__ import annotations

import attrs

from modes.scale import SMOKE, DataScale, Scale

TINY: Scale = attrs.evolve(
    SMOKE,
    name="tiny",
    data=DataScale(num_classes=4, train_per_class=24, test_per_class=4),
    train=attrs.evolve(SMOKE.train, epochs=1, batch_size=32),
    density=attrs.evolve(SMOKE.density, sweeps=8, burn_in=4, thin=1, dims_shallow=3,
                         dims_deep=4, kl_samples=32),
)
