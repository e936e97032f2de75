"""Planted-world representation files: their layout, and shallow stages shared by both worlds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modes.data.representations_file import load_representations
from modes.experiments.world_files import scale_dims, write_world_file
from modes.scale import FULL, SMOKE


def test_world_files_have_the_representations_layout(tmp_path: Path) -> None:
    dims = (3, 3, 5, 5, 5)
    null = write_world_file(tmp_path / "null.npz", "null", classes=5, n=8, dims=dims, seed=4)
    two = write_world_file(tmp_path / "two.npz", "two-mode", classes=5, n=8, dims=dims, seed=4,
                           planted_fraction=0.4)
    for w in (null, two):
        f = load_representations(w.file.path)
        assert f.sha256 == w.file.sha256 and f.memorization is None
        assert f.stage_names == ("stage_1", "stage_2", "stage_3", "stage_4", "stage_5")
        assert [x.shape for x in f.stages] == [(40, d) for d in dims]
        assert f.labels.tolist() == np.repeat(np.arange(5), 8).tolist()
        assert w.shallow_stages == 2
    assert not null.planted.any() and two.planted.sum() == 2 and two.world == "two-mode"
    for shallow in range(2):  # the two-mode world's shallow stages are the null world's
        np.testing.assert_array_equal(two.file.stages[shallow], null.file.stages[shallow])
    for deep in range(2, 5):
        assert not np.array_equal(two.file.stages[deep], null.file.stages[deep])
    again = write_world_file(tmp_path / "again.npz", "two-mode", classes=5, n=8, dims=dims,
                             seed=4, planted_fraction=0.4)
    assert again.file.sha256 == two.file.sha256  # a seed draws one file


def test_planted_classes_are_mixtures_at_every_deep_stage(tmp_path: Path) -> None:
    w = write_world_file(tmp_path / "two.npz", "two-mode", classes=6, n=400, dims=(2, 2, 6, 6),
                         seed=1, components=3, radius=0.2)
    labels = w.file.labels
    for x in w.file.stages[2:]:  # compact components: the nearest neighbour is far closer
        def nearest(c: int, x: np.ndarray = x) -> float:
            pts = x[labels == c]
            d = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
            np.fill_diagonal(d, np.inf)
            return float(np.median(d.min(axis=1)))
        planted = [nearest(c) for c in np.flatnonzero(w.planted)]
        gaussian = [nearest(c) for c in np.flatnonzero(~w.planted)]
        assert max(planted) < min(gaussian)


def test_scale_dims_are_the_svd_dims_and_bad_worlds_are_named(tmp_path: Path) -> None:
    assert scale_dims(SMOKE) == (8, 8, 16, 16) and scale_dims(FULL, 5) == (16, 16, 64, 64, 64)
    with pytest.raises(ValueError, match="unknown world 'three-mode'"):
        write_world_file(tmp_path / "x.npz", "three-mode", 4, 5, (2, 2), seed=0)
    with pytest.raises(ValueError, match="at least 2 stages"):
        write_world_file(tmp_path / "x.npz", "null", 4, 5, (2,), seed=0)
