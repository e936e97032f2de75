"""Two measurements of class-conditional log-densities at one layer, each with its matched null.

``paper``: the paper's model and sampler read as the paper reads them — the authors' NIW prior,
Eq. 3 at the points the model was fitted on (in-sample), from one chain started at K0 = 6 random
components (the paper ran one chain per class); the other chains (dispersed starts) only feed the
diagnostics. ``checked``: what survives the sampler-artifact checks — a prior firm enough that a
Gaussian class is not split into collapsed components (:data:`modes.components.density.niw.FIRM`,
measured in ``benchmarks/bench_null_artifact.py`` and ``check_gaussian_class.py``), Eq. 3 at
held-out points (cross-fitted) without the DP's new-component term, every chain pooled, and
split-merge moves after every Gibbs sweep (``SamplerSettings.split_merge``), so that the chain
started at one component can open the components of a clustered class.

Each measurement also fits **matched nulls**: for every real class, ``replicates`` classes of the
same size drawn from one Gaussian with the class's mean and covariance (so, the same location,
scale and covariance spectrum and no structure beyond them), fitted with the same settings (all
replicates in one sampler call, on request: :func:`measure_nulls`) and read the same way. A claim
decides the nulls exactly as the real classes; the rate at which they show the claimed pattern is
that pattern's false-positive rate *under this measurement*.
"""

from __future__ import annotations

from typing import Any, Final

import attrs
import numpy as np
import torch

from modes.components.density import DPGMM, DPGMMConfig
from modes.components.density.class_diagnostics import (
    ClassDiagnostics,
    diagnose_classes,
    small_component_fraction,
)
from modes.components.density.crossfit import cross_fit
from modes.components.density.niw import PRIORS

PAPER_START: Final = "random"  # chain 0: the paper's K0 = 6 random start
DISPERSED_STARTS: Final = ("random", "one", "kmeans", "random")
SPLIT_MERGE_MOVES: Final = 4
"""Split-merge moves per sweep of the checked measurement (:mod:`.components.density.split_merge`):
without them a chain started at one component never opens a second on a class of compact
separated clusters, so every planted class read "chains disagree"."""


@attrs.frozen
class DensityMeasure:
    """How a layer's class log-densities are measured (see the module docstring)."""

    name: str
    prior: str = attrs.field(validator=attrs.validators.in_(list(PRIORS)))
    held_out: bool
    predictive: str
    first_chain_only: bool
    split_merge: bool  # runs the profile's split-merge moves (else Gibbs sweeps only)


PAPER = DensityMeasure("paper", prior="authors", held_out=False, predictive="paper",
                       first_chain_only=True, split_merge=False)
CHECKED = DensityMeasure("checked", prior="firm", held_out=True, predictive="occupied",
                         first_chain_only=False, split_merge=True)
MEASURES: Final = {m.name: m for m in (PAPER, CHECKED)}


@attrs.frozen
class SamplerSettings:
    """The sampler knobs of a scale profile that a measurement uses."""

    sweeps: int
    burn_in: int
    thin: int
    block_size: int
    init_components: int
    chains: int
    dtype: str
    folds: int
    kl_samples: int
    null_replicates: int
    block_update: str = "metropolis"  # DPGMMConfig.block_update ("independent": the authors')
    split_merge: int = SPLIT_MERGE_MOVES  # moves per sweep where the measure uses them


@attrs.frozen(eq=False)
class LayerMeasurement:
    """The real classes of one layer: (1, ...) arrays, and their diagnostics."""

    log_density: np.ndarray  # (1, N)
    relative_entropy: np.ndarray  # (1, C)
    mean_intra_distance: np.ndarray  # (1, C)
    class_mean_in_sample: np.ndarray  # (C,) in-sample class means (paper) or NaN (checked)
    diagnostics: ClassDiagnostics  # of the real classes

    def to_arrays(self) -> dict[str, np.ndarray]:
        d = self.diagnostics
        return {"log_density": self.log_density, "relative_entropy": self.relative_entropy,
                "mean_intra_distance": self.mean_intra_distance,
                "class_mean_in_sample": self.class_mean_in_sample,
                **{f"diag_{f.name}": np.asarray(getattr(d, f.name))
                   for f in attrs.fields(ClassDiagnostics) if f.name != "thresholds"}}

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> LayerMeasurement:
        fields: dict[str, Any] = {f.name: a[f"diag_{f.name}"]
                                  for f in attrs.fields(ClassDiagnostics) if f.name != "thresholds"}
        diag = ClassDiagnostics(**fields)
        return cls(log_density=a["log_density"], relative_entropy=a["relative_entropy"],
                   mean_intra_distance=a["mean_intra_distance"],
                   class_mean_in_sample=a["class_mean_in_sample"], diagnostics=diag)


def matched_null(x: np.ndarray, labels: np.ndarray, replicates: int,
                 rng: np.random.Generator) -> np.ndarray:
    """(replicates, N, d): every class redrawn from the Gaussian with its mean and covariance.

    A class with no more points than dimensions has a singular covariance; it gets a ridge of
    1e-6 times its mean variance so that the draw stays in (almost) its span.
    """
    out = np.empty((replicates, *x.shape))
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        xc = x[idx]
        cov = np.cov(xc, rowvar=False, bias=True).reshape(x.shape[1], x.shape[1])
        cov += 1e-6 * max(float(np.trace(cov)) / x.shape[1], 1e-300) * np.eye(x.shape[1])
        chol = np.linalg.cholesky(cov)
        z = rng.normal(size=(replicates, idx.size, x.shape[1]))
        out[:, idx] = xc.mean(0) + z @ chol.T
    return out


def mean_pairwise_distance(x: np.ndarray) -> float:
    """Mean Euclidean distance over distinct pairs of rows (compactness in Fig. 2)."""
    t = torch.as_tensor(x, dtype=torch.float64)
    n = t.shape[0]
    return float(torch.cdist(t, t).sum() / (n * (n - 1))) if n > 1 else 0.0


def model_for(measure: DensityMeasure, settings: SamplerSettings, seed: int,
              device: str = "cpu") -> DPGMM:
    """The sampler ``measure`` fits with: its prior, the profile's sizes, dispersed starts, and
    the profile's split-merge moves where the measure runs them."""
    starts = DISPERSED_STARTS[:settings.chains] if settings.chains > 1 else (PAPER_START,)
    return DPGMM(config=DPGMMConfig(
        sweeps=settings.sweeps, burn_in=settings.burn_in, thin=settings.thin,
        block_size=settings.block_size, init_components=settings.init_components,
        chains=settings.chains, seed=seed, dtype=settings.dtype, prior=measure.prior,
        starts=starts, block_update=settings.block_update,
        split_merge=settings.split_merge if measure.split_merge else 0),
        device=device, progress=False)


@attrs.frozen(eq=False)
class _Fit:
    log_density: np.ndarray  # (W, N)
    relative_entropy: np.ndarray  # (W, C)
    states: np.ndarray  # (T, N) per-state log-densities of world 0
    small: np.ndarray  # (C,) collapsed-component fraction of world 0's classes
    n_fit: np.ndarray  # (C,) points each class model was fitted on


def _fit_worlds(worlds: np.ndarray, labels: np.ndarray, measure: DensityMeasure,
                settings: SamplerSettings, seed: int, device: str) -> _Fit:
    """Fit every class of every world (W, N, d) in one sampler call; read with ``measure``."""
    classes, code = np.unique(labels, return_inverse=True)
    n_worlds, n = worlds.shape[:2]
    groups = (np.arange(n_worlds)[:, None] * classes.size + code[None]).reshape(-1)
    points = worlds.reshape(-1, worlds.shape[2])
    model = model_for(measure, settings, seed, device)
    if measure.held_out:
        fold_seed = int(np.random.SeedSequence([seed, 0x666F6C64]).generate_state(1)[0])
        cf = cross_fit(model, points, groups, settings.folds, seed=fold_seed,
                       predictive=measure.predictive)
        log_density = cf.log_density
        rel = np.array([cf.relative_entropy(int(g), settings.kl_samples, seed)
                        for g in np.unique(groups)])
        return _Fit(log_density=log_density.reshape(n_worlds, n),
                    relative_entropy=rel.reshape(n_worlds, classes.size),
                    states=cf.states[:, :n], small=cf.small_fraction()[: classes.size],
                    n_fit=np.bincount(code) * (settings.folds - 1) / settings.folds)
    fitted = model.fit(points, groups, warn=False).with_predictive(measure.predictive)
    reader = fitted.chain(0) if measure.first_chain_only else fitted
    log_density = reader.log_prob_own(points, groups).cpu().numpy()
    rel = np.array([reader.relative_entropy(group=int(g), num_samples=settings.kl_samples,
                                            seed=seed + int(g)) for g in np.unique(groups)])
    return _Fit(log_density=log_density.reshape(n_worlds, n),
                relative_entropy=rel.reshape(n_worlds, classes.size),
                states=fitted.log_prob_own_states(points[:n], groups[:n]).cpu().numpy(),
                small=small_component_fraction(fitted.states.counts, fitted.dim,
                                               fitted.nu0)[: classes.size],
                n_fit=np.bincount(code).astype(np.float64))


def _distances(worlds: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.array([[mean_pairwise_distance(w[labels == c]) for c in np.unique(labels)]
                     for w in worlds])


def measure_layer(x: np.ndarray, labels: np.ndarray, measure: DensityMeasure,
                  settings: SamplerSettings, seed: int, device: str = "cpu") -> LayerMeasurement:
    """Fit the real classes of one layer and read them with ``measure``, with diagnostics."""
    x = np.asarray(x, dtype=np.float64)
    labels = np.asarray(labels)
    fit = _fit_worlds(x[None], labels, measure, settings, seed, device)
    in_sample = (np.full(fit.small.size, np.nan) if measure.held_out else
                 np.array([fit.log_density[0][labels == c].mean() for c in np.unique(labels)]))
    diagnostics = diagnose_classes(fit.states, labels, settings.chains, fit.small, x.shape[1],
                                   fit.n_fit)
    return LayerMeasurement(log_density=fit.log_density,
                            relative_entropy=fit.relative_entropy,
                            mean_intra_distance=_distances(x[None], labels),
                            class_mean_in_sample=in_sample, diagnostics=diagnostics)


@attrs.frozen(eq=False)
class NullMeasurement:
    """The matched nulls of one layer, read like the real classes: (R, N) and (R, C) arrays."""

    log_density: np.ndarray
    relative_entropy: np.ndarray
    mean_intra_distance: np.ndarray

    def to_arrays(self) -> dict[str, np.ndarray]:
        return attrs.asdict(self)

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> NullMeasurement:
        return cls(**{f.name: a[f.name] for f in attrs.fields(cls)})


def measure_nulls(x: np.ndarray, labels: np.ndarray, measure: DensityMeasure,
                  settings: SamplerSettings, seed: int, device: str = "cpu") -> NullMeasurement:
    """``settings.null_replicates`` matched nulls of the layer, fitted and read with ``measure``
    exactly as the real classes (one sampler call for all replicates)."""
    x = np.asarray(x, dtype=np.float64)
    labels = np.asarray(labels)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x6E756C6C]))
    worlds = matched_null(x, labels, settings.null_replicates, rng)
    fit = _fit_worlds(worlds, labels, measure, settings, seed + 1, device)
    return NullMeasurement(log_density=fit.log_density, relative_entropy=fit.relative_entropy,
                           mean_intra_distance=_distances(worlds, labels))
