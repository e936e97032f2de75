"""Named seed streams: every random draw of the pipeline and its experiments comes from one run
seed (``--modes-seed``) through a stream named for what it seeds.

``stream(root, "fitting-subsets")`` or ``stream(root, "layer-density", index)`` is a
:class:`numpy.random.SeedSequence` keyed by the root seed, the stream's name and its indices, so
two streams never share draws (as ``seed + 17`` and ``seed + 100 + 83`` could) and adding a
stream changes no other. Names are a ``Literal`` (mypy rejects a typo) and are checked at run
time too. :meth:`NamedSeed.rng` gives a numpy ``Generator``; :meth:`NamedSeed.int_seed` an int
for ``torch.manual_seed`` and the components' configs (the DP-GMM's ``seed``), which is also what
goes into a stage's cache key.
"""

from __future__ import annotations

import hashlib
from typing import Literal, get_args

import numpy as np

StreamName = Literal[
    # the scenario's stages
    "dataset",  # synthetic data drawn by the dataset component
    "training",  # the trained backbones' initial weights, data order and augmentation
    "memorization",  # the memorization estimator's trials
    "density-bins",  # Fig. 3: the density-bin models and the certified examples
    "layer-density",  # per layer (index): the class densities of every measurement
    "fitting-subsets",  # Fig. 4: the random picks of fig4_split
    "heldout-subsets",  # Fig. A.11: the random picks of a11_heldout
    "subset-divergences",  # Fig. 4: per layer (index), the subsets' density fits
    "generative-classification",  # Fig. A.11: per layer (index), the classifier's density fits
    # the decisions' own draws (permutations, bootstraps), keyed by the run seed
    "absence-test",  # C2 / C3: the absence decisions
    "transformer-test",  # C10: the transformers' decision
    "fscore-tracking-test",  # C6: the rank correlation's permutations
    # inside a measurement (modes.measures), keyed by the measurement's seed
    "cross-fitting-folds",  # the fold of every example
    "matched-nulls",  # the matched-null worlds' draws
    "null-fits",  # the density fit of the matched nulls
    "relative-entropy",  # per group (index): Eq. 4's Monte Carlo samples
    # inside experiments, keyed by the experiment's seed
    "density-bin-trials",  # Fig. 3: each bin model's seed and the certified examples
    "world-stage",  # planted-world files: per stage (index), the stage's draw
    "planted-classes",  # planted-world files: which classes are planted
]
STREAM_NAMES: tuple[str, ...] = get_args(StreamName)

_UINT32 = 2**32


def _tag(name: str) -> int:
    """A stream name as one 32-bit word of its spawn key (a hash: stable across releases and
    independent of the order of :data:`STREAM_NAMES`)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(), "little")


class NamedSeed(np.random.SeedSequence):
    """A :class:`numpy.random.SeedSequence` made by :func:`stream`, with helpers."""

    def rng(self) -> np.random.Generator:
        """A PCG64 generator on this stream."""
        return np.random.default_rng(self)

    def int_seed(self) -> int:
        """This stream as one int in ``[0, 2**31)``: for ``torch.manual_seed``, a component's
        config and cache keys."""
        return int(self.generate_state(1, np.uint32)[0] >> 1)


def stream(root: int, name: StreamName, *index: int) -> NamedSeed:
    """The seed stream ``name`` (at ``index``, e.g. a layer) of the run seeded ``root``."""
    if name not in STREAM_NAMES:
        raise ValueError(f"unknown seed stream {name!r}; known: {list(STREAM_NAMES)}")
    for value, what in ((root, "root seed"), *((i, "stream index") for i in index)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"seed stream {name!r}: the {what} must be an int, got {value!r}")
        if not 0 <= int(value) < (_UINT32 if what == "stream index" else 2**128):
            raise ValueError(f"seed stream {name!r}: the {what} must be in [0, "
                             f"{'2**32' if what == 'stream index' else '2**128'}), got {value}")
    return NamedSeed(int(root), spawn_key=(_tag(name), *(int(i) for i in index)))
