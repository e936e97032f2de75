"""Representation files of planted worlds, to run the claims end to end where the answer is known.

A world file follows the ``--modes-representations`` layout
(:mod:`modes.data.representations_file`): ``classes`` classes of ``n`` examples each (labels
``0 .. classes-1``, class by class) at ``L`` stages of dims ``dims``; the first ``L // 2`` stages
are shallow, as the claims read them.

* ``null``: at every stage every class is one Gaussian (:func:`~modes.experiments.worlds.
  null_world`: a random mean, a covariance spectrum from isotropic to strongly correlated). There
  are no modes of class fitting anywhere: C1 must not replicate, C2 should.
* ``two-mode``: the shallow stages are the null world's (the same arrays as the null file of the
  same seed); at every deep stage the same ``planted_fraction`` of the classes are mixtures of
  compact, separated components and the others Gaussians with the covariance of such a mixture
  (:func:`~modes.experiments.worlds.two_mode_world`): the planted classes are denser and not more
  compact overall. C1, C2 and C4 should replicate.

Every stage is drawn independently (seed ``(seed, stage)``), so an example's rows at two stages
are unrelated: the density claims read one stage at a time and need nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import attrs
import numpy as np

from modes.data.representations_file import RepresentationsFile, save_representations
from modes.experiments.worlds import PLANTED, null_world, planted_classes, two_mode_world
from modes.scale import Scale
from modes.seeds import stream

WORLDS = ("null", "two-mode")


@attrs.frozen(eq=False)
class WorldFile:
    """A written world file and what was planted in it."""

    world: str
    file: RepresentationsFile
    planted: np.ndarray  # (classes,) bool: made of compact components in the deep stages
    shallow_stages: int  # the first ones (no planted structure in either world)


def stage_seed(seed: int, stage: int) -> int:
    """The seed of stage ``stage`` (1-based) of the world drawn with ``seed``."""
    return stream(seed, "world-stage", stage).int_seed()


def scale_dims(scale: Scale, stages: int = 4) -> tuple[int, ...]:
    """Stage dims equal to the scale's SVD dims (shallow for the first half), so the reducer keeps
    every direction of the world and the claims see its planted structure unprojected."""
    half = stages // 2
    return (scale.density.dims_shallow,) * half + (scale.density.dims_deep,) * (stages - half)


def write_world_file(path: str | Path, world: str, classes: int, n: int, dims: Sequence[int],
                     seed: int, planted_fraction: float = 0.3, components: int = 5,
                     radius: float = 0.3, kind: str = "blobs") -> WorldFile:
    """Draw world ``world`` (:data:`WORLDS`) and write it to ``path`` as a representations file
    (``n`` examples of each of ``classes`` classes, one stage per entry of ``dims``)."""
    if world not in WORLDS:
        raise ValueError(f"unknown world {world!r}; known: {list(WORLDS)}")
    if kind not in PLANTED:
        raise ValueError(f"unknown planted kind {kind!r}; known: {sorted(PLANTED)}")
    if len(dims) < 2:
        raise ValueError(f"dims must give at least 2 stages, got {list(dims)}")
    shallow = len(dims) // 2
    planted = (np.zeros(classes, bool) if world == "null"
               else planted_classes(classes, planted_fraction,
                                 stream(seed, "planted-classes").rng()))
    stages = []
    for stage, d in enumerate(dims, start=1):
        s = stage_seed(seed, stage)
        if world == "null" or stage <= shallow:
            drawn = null_world(classes, n, d, s)
        else:
            drawn = two_mode_world(classes, n, d, s, components=components, radius=radius,
                                   kind=kind, planted=planted)
        stages.append(drawn.x.astype(np.float32))
    labels = np.repeat(np.arange(classes), n)
    return WorldFile(world=world, file=save_representations(path, labels, stages),
                     planted=planted, shallow_stages=shallow)
