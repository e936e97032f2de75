"""Every figure function draws a real PNG from small synthetic arrays; specs redraw them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from modes.report import figures
from modes.report.specs import FigureSpec, draw, redraw

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _is_png(path: Path, min_bytes: int = 5_000) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path} is not a PNG"
    assert len(data) > min_bytes, f"{path} is only {len(data)} bytes"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def test_class_density_profiles(tmp_path: Path, rng: np.random.Generator) -> None:
    panels = {f"stage {s}": figures.ClassProfile(rng.normal(s, 1, 20), rng.uniform(0.1, 1, 20),
                                                 threshold=s + 0.5 if s > 2 else None)
              for s in range(1, 5)}
    _is_png(figures.class_density_profiles(panels, tmp_path / "fig1.png", "Fig. 1"))
    with pytest.raises(ValueError, match="sds must match"):
        figures.ClassProfile([1.0, 2.0], [1.0])


def test_compactness_and_complexity(tmp_path: Path, rng: np.random.Generator) -> None:
    path = figures.compactness_and_complexity(rng.normal(size=20), rng.gamma(2, size=20),
                                              rng.uniform(1, 2, 20), tmp_path / "fig2.png",
                                              threshold=0.5)
    _is_png(path)
    with pytest.raises(ValueError, match="relative_entropy"):
        figures.compactness_and_complexity(np.zeros(3), np.zeros(2), np.zeros(3),
                                           tmp_path / "x.png")


def test_density_bins(tmp_path: Path, rng: np.random.Generator) -> None:
    n = 10
    panels = figures.figure3_panels(
        log_density=(np.linspace(-5, 5, n), np.full(n, 0.5)),
        memorization=(rng.uniform(0, 0.4, n), np.full(n, 0.1)),
        low_fraction=np.linspace(1, 0, n), high_fraction=np.linspace(0, 1, n),
        fscore=rng.uniform(0.5, 1, n), radius=(rng.uniform(0.2, 0.5, n), np.full(n, 0.1)),
        non_abstain=rng.uniform(0.8, 1, n), smoothed_fscore=rng.uniform(0.4, 0.9, n))
    assert len(panels) == 7
    _is_png(figures.density_bins(panels, tmp_path / "fig3.png", transition=6.5))
    with pytest.raises(ValueError, match="at least one"):
        figures.figure3_panels()


def test_stage_kl_svd_and_fscores(tmp_path: Path, rng: np.random.Generator) -> None:
    stages = ["stage 1", "stage 2", "stage 3", "stage 4"]
    subsets = {k: (np.array([1.0, 2.0, 8.0, 10.0]) * f, np.full(4, 0.5))
               for k, f in (("memorized", 0.9), ("typical", 1.0), ("random", 0.95))}
    _is_png(figures.stage_kl(stages, subsets, tmp_path / "fig4.png"))
    curves = {s: np.sort(rng.dirichlet(np.ones(64)))[::-1] for s in stages}
    _is_png(figures.svd_variance(curves, dict(zip(stages, (16, 16, 64, 64), strict=True)),
                                 tmp_path / "figA6.png"))
    f = {k: rng.uniform(0.2, 0.9, 4) for k in ("memorized", "no memorization", "random")}
    _is_png(figures.generative_fscores(stages, f, tmp_path / "figA11.png"), min_bytes=3_000)
    with pytest.raises(ValueError, match=r"\.png"):
        figures.stage_kl(stages, subsets, tmp_path / "fig4.jpg")


def test_specs_round_trip_and_redraw(tmp_path: Path, rng: np.random.Generator) -> None:
    spec = FigureSpec("class_density_profiles", "fig1_resnet18",
                      {"panels": {"stage 4": {"means": rng.normal(size=8),
                                              "sds": rng.uniform(0.1, 1, 8), "threshold": 0.0}},
                       "title": "Fig. 1"})
    json.dumps(spec.to_dict())  # JSON-able
    first = draw(spec, tmp_path)
    again = redraw([spec.to_dict()], tmp_path / "again")
    assert first.name == again[0].name == "fig1_resnet18.png"
    _is_png(again[0])
    bins = FigureSpec("density_bins", "fig3", {
        "panels": [{"title": "memorization", "series": {"mean": [np.arange(5.0), None]}}],
        "transition": 2.5})
    _is_png(draw(bins, tmp_path), min_bytes=3_000)
    with pytest.raises(ValueError, match="kind"):
        FigureSpec("pie_chart", "x", {})


def test_spec_order_survives_sorted_json(tmp_path: Path) -> None:
    names = [f"block {i}" for i in (1, 2, 10, 11)]
    spec = FigureSpec("generative_fscores", "order", {
        "stages": names, "subsets": {"typical": [0.9] * 4, "memorized": [0.5] * 4}})
    back = FigureSpec.from_dict(json.loads(json.dumps(spec.to_dict(), sort_keys=True)))
    assert [k for k, _ in back.data["subsets"]["__pairs__"]] == ["typical", "memorized"]
    assert back.data["stages"] == names
    draw(back, tmp_path)
    with pytest.raises(ValueError, match="stem"):
        FigureSpec("stage_kl", "../evil", {})
    with pytest.raises(ValueError, match="lacks"):
        FigureSpec.from_dict({"kind": "stage_kl"})
