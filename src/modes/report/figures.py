"""Matplotlib (Agg) reproductions of the paper's figures from arrays a claim supplies.

Every function writes one PNG atomically (temp file + rename, so concurrent xdist workers never
see half a file) and returns its path. Figures: class log-density profiles (Fig. 1, A.7-A.10),
relative entropy and intra-class distance per class (Fig. 2), per-bin panels (Fig. 3), between-class
KL per stage (Fig. 4), SVD retained variance (Fig. A.6) and generative-classifier F-scores
(Fig. A.11).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from modes.report.atomic import write_bytes

LOW_COLOR = "tab:blue"
HIGH_COLOR = "tab:red"
Series = tuple[np.ndarray, np.ndarray | None]


def save_png(fig: Figure, path: Path | str, dpi: int = 110) -> Path:
    """Write ``fig`` to ``path`` atomically as PNG and close it."""
    out = Path(path)
    if out.suffix.lower() != ".png":
        raise ValueError(f"figure path must end in .png, got {out}")
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return write_bytes(out, buf.getvalue())


def _vector(x: object, name: str, size: int | None = None) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    if size is not None and arr.size != size:
        raise ValueError(f"{name} must have {size} entries, got {arr.size}")
    return arr


def _grid(n: int, max_cols: int = 4) -> tuple[int, int]:
    cols = min(n, max_cols)
    return (n + cols - 1) // cols, cols


def _means(x: object) -> np.ndarray:
    return _vector(x, "means")


def _sds(x: object) -> np.ndarray:
    return _vector(x, "sds")


@attrs.frozen(eq=False)
class ClassProfile:
    """Per-class mean and sd of class-conditional log-densities in one stage/layer (Eq. 3), with
    the optional largest-gap threshold to mark."""

    means: np.ndarray = attrs.field(converter=_means)
    sds: np.ndarray = attrs.field(converter=_sds)
    threshold: float | None = None
    flagged: np.ndarray | None = None  # classes the fit's diagnostics flag (drawn hollow, x)

    def __attrs_post_init__(self) -> None:
        if self.sds.shape != self.means.shape:
            raise ValueError(f"sds must match means' shape {self.means.shape}, got "
                             f"{self.sds.shape}")
        if self.flagged is not None and np.shape(self.flagged) != self.means.shape:
            raise ValueError(f"flagged must match means' shape {self.means.shape}, got "
                             f"{np.shape(self.flagged)}")


def class_density_profiles(panels: Mapping[str, ClassProfile], path: Path | str,
                           title: str = "") -> Path:
    """Fig. 1 / A.7 / A.8 / A.9 / A.10: mean +- sd of class-conditional log-densities per class,
    classes on the vertical axis sorted by their mean, one panel per stage or layer; with a
    threshold, classes above it are drawn in red and the threshold as a dashed line; classes whose
    density fit is flagged (:mod:`modes.components.density.class_diagnostics`) get a black x."""
    if not panels:
        raise ValueError("panels must name at least one stage or layer")
    rows, cols = _grid(len(panels))
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.6 * rows), squeeze=False)
    for ax, (name, prof) in zip(axes.flat, panels.items(), strict=False):
        order = np.argsort(prof.means)
        m, s = prof.means[order], prof.sds[order]
        rank = np.arange(m.size)
        high = m > prof.threshold if prof.threshold is not None else np.zeros(m.size, bool)
        for mask, color in ((~high, LOW_COLOR), (high, HIGH_COLOR)):
            if mask.any():
                ax.errorbar(m[mask], rank[mask], xerr=s[mask], fmt="o", ms=2.5, lw=0.8,
                            color=color, ecolor=color, alpha=0.8)
        if prof.flagged is not None and np.any(prof.flagged):
            bad = np.asarray(prof.flagged, bool)[order]
            ax.plot(m[bad], rank[bad], "x", color="k", ms=6, label="flagged fit")
        if prof.threshold is not None:
            ax.axvline(prof.threshold, color="k", ls="--", lw=1, label="split")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="lower right", fontsize=7)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("log-density")
        ax.set_ylabel("class (sorted by mean)")
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_png(fig, path)


def compactness_and_complexity(class_means: object, relative_entropy: object,
                               mean_distance: object, path: Path | str,
                               threshold: float | None = None, title: str = "") -> Path:
    """Fig. 2: per class (sorted by mean log-density) the relative entropy (Eq. 4, blue, left
    axis, dashed least-squares line) and the mean intra-class distance after SVD (red, right
    axis); the low/high split is marked between the groups."""
    means = _vector(class_means, "class_means")
    ent = _vector(relative_entropy, "relative_entropy", means.size)
    dist = _vector(mean_distance, "mean_distance", means.size)
    order = np.argsort(means)
    x = np.arange(means.size)
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.plot(x, ent[order], "o", ms=3.5, color=LOW_COLOR, label="relative entropy")
    if means.size >= 2:
        slope, icpt = np.polyfit(x, ent[order], 1)
        ax.plot(x, icpt + slope * x, "--", color=LOW_COLOR, lw=1, label="least-squares fit")
    ax.set_xlabel("class (sorted by mean log-density)")
    ax.set_ylabel("relative entropy [nats]", color=LOW_COLOR)
    ax2 = ax.twinx()
    ax2.plot(x, dist[order], "s", ms=3.5, color=HIGH_COLOR, label="mean intra-class distance")
    ax2.set_ylabel("mean intra-class distance", color=HIGH_COLOR)
    if threshold is not None:
        n_low = int(np.sum(means <= threshold))
        ax.axvline(n_low - 0.5, color="k", ls=":", lw=1)
        ax.text(n_low - 0.5, ax.get_ylim()[1], " high-density", va="top", fontsize=8)
    handles = ax.get_legend_handles_labels()
    handles2 = ax2.get_legend_handles_labels()
    ax.legend(handles[0] + handles2[0], handles[1] + handles2[1], fontsize=7, loc="upper left")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return save_png(fig, path)


@attrs.frozen(eq=False)
class BinPanel:
    """One panel of Fig. 3: named per-bin series, each a mean and an optional sd band."""

    title: str
    series: dict[str, Series]
    ylabel: str = ""


def figure3_panels(*, log_density: Series | None = None, memorization: Series | None = None,
                   low_fraction: np.ndarray | None = None,
                   high_fraction: np.ndarray | None = None, fscore: np.ndarray | None = None,
                   radius: Series | None = None, non_abstain: np.ndarray | None = None,
                   smoothed_fscore: np.ndarray | None = None) -> list[BinPanel]:
    """The panels of Fig. 3 in the paper's order, for whichever quantities the run has."""
    panels = []
    if log_density is not None:
        panels.append(BinPanel("log-density", {"mean": log_density}, "log-density"))
    if memorization is not None:
        panels.append(BinPanel("memorization", {"mean": memorization}, "score"))
    fractions: dict[str, Series] = {k: (np.asarray(v), None) for k, v in
                 (("low-density", low_fraction), ("high-density", high_fraction))
                 if v is not None}
    if fractions:
        panels.append(BinPanel("low/high-density fraction", fractions, "fraction"))
    if fscore is not None:
        panels.append(BinPanel("F-score (held-out bin)", {"F-score": (np.asarray(fscore), None)}))
    if radius is not None:
        panels.append(BinPanel("certified radius", {"mean": radius}, "radius"))
    if non_abstain is not None:
        panels.append(BinPanel("non-abstain rate", {"rate": (np.asarray(non_abstain), None)}))
    if smoothed_fscore is not None:
        panels.append(BinPanel("smoothed F-score", {"F-score": (np.asarray(smoothed_fscore),
                                                                None)}))
    if not panels:
        raise ValueError("figure3_panels needs at least one quantity")
    return panels


def density_bins(panels: Sequence[BinPanel], path: Path | str, bin_x: object | None = None,
                 transition: float | None = None, title: str = "") -> Path:
    """Fig. 3: per-bin panels stacked over a shared axis of density bins (sorted by
    class-conditional log-density); sd bands shaded; the low/high transition as a dashed line.
    ``bin_x`` defaults to the bin index; ``transition`` is on the same axis."""
    if not panels:
        raise ValueError("panels must not be empty")
    n_bins = len(next(iter(panels[0].series.values()))[0])
    x = np.arange(n_bins, dtype=float) if bin_x is None else _vector(bin_x, "bin_x", n_bins)
    fig, axes = plt.subplots(len(panels), 1, figsize=(6.5, 1.7 * len(panels)), sharex=True,
                             squeeze=False)
    for ax, panel in zip(axes[:, 0], panels, strict=True):
        for label, (mean, sd) in panel.series.items():
            m = _vector(mean, f"{panel.title}/{label}", n_bins)
            line = ax.plot(x, m, "-o", ms=2.5, lw=1, label=label)[0]
            if sd is not None:
                s = _vector(sd, f"{panel.title}/{label} sd", n_bins)
                ax.fill_between(x, m - s, m + s, color=line.get_color(), alpha=0.2, lw=0)
        if transition is not None:
            ax.axvline(transition, color="k", ls="--", lw=1)
        ax.set_title(panel.title, fontsize=9, loc="left")
        ax.set_ylabel(panel.ylabel, fontsize=8)
        if len(panel.series) > 1:
            ax.legend(fontsize=7, loc="best")
    axes[-1, 0].set_xlabel("density bin" if bin_x is None else "bin mean log-density")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_png(fig, path)


def stage_kl(stages: Sequence[str], subsets: Mapping[str, Series], path: Path | str,
             title: str = "") -> Path:
    """Fig. 4: mean between-class KL divergence per stage +- one sd, one line per subset
    (memorized, typical, random)."""
    if not stages or not subsets:
        raise ValueError("stages and subsets must not be empty")
    x = np.arange(len(stages))
    fig, ax = plt.subplots(figsize=(5.0, 3.4))
    for k, (name, (mean, sd)) in enumerate(subsets.items()):
        m = _vector(mean, f"{name} mean", len(stages))
        s = None if sd is None else _vector(sd, f"{name} sd", len(stages))
        ax.errorbar(x + 0.06 * (k - (len(subsets) - 1) / 2), m, yerr=s, fmt="-o", ms=4, lw=1.2,
                    capsize=3, label=name)
    ax.set_xticks(x, list(stages))
    ax.set_ylabel("mean between-class KL [nats]")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return save_png(fig, path)


def svd_variance(curves: Mapping[str, object], retained: Mapping[str, int], path: Path | str,
                 title: str = "") -> Path:
    """Fig. A.6: cumulative variance captured against the number of singular vectors, one panel
    per stage, the retained number marked by a red dashed line. ``curves`` holds each stage's
    explained-variance ratios (not cumulative)."""
    if not curves:
        raise ValueError("curves must name at least one stage")
    rows, cols = _grid(len(curves))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.8 * rows), squeeze=False)
    for ax, (name, ratios) in zip(axes.flat, curves.items(), strict=False):
        r = _vector(ratios, f"{name} ratios")
        ax.plot(np.arange(1, r.size + 1), np.cumsum(r), lw=1.5)
        if name in retained:
            ax.axvline(retained[name], color="red", ls="--", lw=1)
            ax.text(retained[name], 0.05, f" d'={retained[name]}", color="red", fontsize=8)
        ax.set_ylim(0.0, 1.02)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("singular vectors")
        ax.set_ylabel("variance captured")
    for ax in list(axes.flat)[len(curves):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_png(fig, path)


def generative_fscores(stages: Sequence[str], subsets: Mapping[str, object], path: Path | str,
                       title: str = "") -> Path:
    """Fig. A.11: F-scores of the generative classifier (Eq. A.7) per stage, grouped bars for
    memorized, no-memorization and random held-out examples."""
    if not stages or not subsets:
        raise ValueError("stages and subsets must not be empty")
    x = np.arange(len(stages))
    width = 0.8 / len(subsets)
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for k, (name, scores) in enumerate(subsets.items()):
        f = _vector(scores, f"{name} F-scores", len(stages))
        ax.bar(x + (k - (len(subsets) - 1) / 2) * width, f, width, label=name)
    ax.set_xticks(x, list(stages))
    ax.set_ylim(0.0, 1.0)
    ax.set_ylabel("F-score")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return save_png(fig, path)
