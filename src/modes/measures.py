"""Two measurements of class-conditional log-densities at one layer, each with its matched null.

``paper``: the paper's model and sampler read as the paper reads them — the authors' NIW prior,
Eq. 3 at the points the model was fitted on (in-sample), from one chain started at K0 = 6 random
components (the paper ran one chain per class); the other chains (dispersed starts) only feed the
diagnostics. ``checked``: what survives the sampler-artifact checks — a prior firm enough that a
Gaussian class is not split into collapsed components (:data:`CHECKED_PRIOR`, measured in
``benchmarks/bench_null_artifact.py``), Eq. 3 at held-out points (cross-fitted), every chain.

Each measurement also fits **matched nulls**: for every real class, ``replicates`` classes of the
same size drawn from one Gaussian with the class's mean and covariance (so, the same location,
scale and covariance spectrum and no structure beyond them), fitted in the same sampler call and
read the same way. A claim decides the nulls exactly as the real classes; the rate at which they
show the claimed pattern is that pattern's false-positive rate *under this measurement*.
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


@attrs.frozen
class DensityMeasure:
    """How a layer's class log-densities are measured (see the module docstring)."""

    name: str
    prior: str = attrs.field(validator=attrs.validators.in_(list(PRIORS)))
    held_out: bool
    predictive: str
    first_chain_only: bool


PAPER = DensityMeasure("paper", prior="authors", held_out=False, predictive="paper",
                       first_chain_only=True)
CHECKED = DensityMeasure("checked", prior="firm", held_out=True, predictive="occupied",
                         first_chain_only=False)
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


@attrs.frozen(eq=False)
class LayerMeasurement:
    """Row 0 of every (1 + R, ...) array is the real classes, rows 1..R the matched nulls."""

    log_density: np.ndarray  # (1 + R, N)
    relative_entropy: np.ndarray  # (1 + R, C)
    mean_intra_distance: np.ndarray  # (1 + R, C)
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


def measure_layer(x: np.ndarray, labels: np.ndarray, measure: DensityMeasure,
                  settings: SamplerSettings, seed: int, device: str = "cpu") -> LayerMeasurement:
    """Fit the real classes of one layer and their matched nulls; read them with ``measure``."""
    x = np.asarray(x, dtype=np.float64)
    labels = np.asarray(labels)
    classes = np.unique(labels)
    streams = np.random.SeedSequence([seed, 0x6E756C6C]).spawn(2)  # nulls, folds
    reps = settings.null_replicates
    worlds = np.concatenate([x[None], matched_null(x, labels, reps, np.random.default_rng(
        streams[0]))])
    code = np.searchsorted(classes, labels)
    groups = (np.arange(1 + reps)[:, None] * classes.size + code[None]).reshape(-1)
    points = worlds.reshape(-1, x.shape[1])
    model = DPGMM(config=DPGMMConfig(
        sweeps=settings.sweeps, burn_in=settings.burn_in, thin=settings.thin,
        block_size=settings.block_size, init_components=settings.init_components,
        chains=settings.chains, seed=seed, dtype=settings.dtype, prior=measure.prior,
        starts=DISPERSED_STARTS[:max(settings.chains, 1)] if settings.chains > 1
        else (PAPER_START,)), device=device, progress=False)
    n_real = labels.size
    if measure.held_out:
        fold_seed = int(streams[1].generate_state(1)[0])
        cf = cross_fit(model, points, groups, settings.folds, seed=fold_seed)
        states = cf.states[:, :n_real]
        log_density = cf.fitted.with_predictive(measure.predictive)._average_states(
            torch.as_tensor(cf.states)).numpy()
        rel = np.array([cf.relative_entropy(int(g), settings.kl_samples, seed)
                        for g in np.unique(groups)])
        small = cf.small_fraction()[: classes.size]
        n_fit = np.bincount(code) * (settings.folds - 1) / settings.folds
        in_sample = np.full(classes.size, np.nan)
    else:
        fitted = model.fit(points, groups, warn=False).with_predictive(measure.predictive)
        states = fitted.log_prob_own_states(points[:n_real], groups[:n_real]).cpu().numpy()
        reader = fitted.chain(0) if measure.first_chain_only else fitted
        log_density = reader.log_prob_own(points, groups).cpu().numpy()
        rel = np.array([reader.relative_entropy(group=int(g), num_samples=settings.kl_samples,
                                                seed=seed + int(g)) for g in np.unique(groups)])
        small = small_component_fraction(fitted.states.counts, fitted.dim,
                                         fitted.nu0)[: classes.size]
        n_fit = np.bincount(code).astype(np.float64)
        in_sample = np.array([log_density[:n_real][labels == c].mean() for c in classes])
    diagnostics = diagnose_classes(states, labels, settings.chains, small, x.shape[1], n_fit)
    dist = np.array([[mean_pairwise_distance(w[labels == c]) for c in classes] for w in worlds])
    return LayerMeasurement(
        log_density=log_density.reshape(1 + reps, n_real),
        relative_entropy=rel.reshape(1 + reps, classes.size), mean_intra_distance=dist,
        class_mean_in_sample=in_sample, diagnostics=diagnostics)
