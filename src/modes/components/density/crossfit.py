"""Cross-fitted (held-out) class-conditional log-densities: a variant of Eq. 3.

Eq. 3 evaluated at the points a model was fitted on rewards a model that memorises them: a class
split into many tiny components gets an in-sample density far above what it assigns to new points
of the same class (sampler-artifact issue: +15 in-sample, -108 held-out, nats per point). Here each
class's points are split into ``folds`` folds (stratified, seeded); the class model without fold
``f`` is fitted for every ``f`` — all (class, fold) models in one batched sampler call, as more
groups of the same program — and every point is scored by the model that did not see it.
"""

from __future__ import annotations

import attrs
import numpy as np
import torch

from .fitted import FittedDPGMM
from .model import DPGMM


@attrs.frozen(eq=False)
class CrossFitted:
    """Held-out Eq. 3 log-density of every point, and the (class, fold) fit behind it.

    ``fitted`` has group ``code * folds + f`` for class ``classes[code]`` without fold ``f``;
    ``states`` (T, m) are the per-kept-state held-out log-densities (for diagnostics).
    """

    log_density: np.ndarray  # (m,)
    states: np.ndarray  # (T, m)
    fold: np.ndarray  # (m,)
    classes: np.ndarray
    folds: int
    fitted: FittedDPGMM
    scored: np.ndarray  # (m,) the group (class without the point's fold) that scores each point

    def group_of(self, label: int, fold: int) -> int:
        code = int(np.searchsorted(self.classes, label))
        return code * self.folds + fold

    def averaged(self, averaging: str) -> CrossFitted:
        """The same per-state densities averaged over kept states the other way (no
        recomputation): :data:`.fitted.AVERAGINGS`."""
        fitted = self.fitted.with_predictive(self.fitted.predictive, averaging)
        states = torch.as_tensor(self.states)
        return attrs.evolve(self, log_density=fitted.average_states(states).numpy(),
                            fitted=fitted)

    def relative_entropies(self, label: int, num_samples: int, seed: int) -> dict[str, float]:
        """:meth:`relative_entropy` under each state averaging, from the same draws."""
        per_fold = [self.fitted.relative_entropy_by_averaging(
            group=self.group_of(label, f), num_samples=num_samples, seed=seed + f)
            for f in range(self.folds)]
        return {a: float(np.mean([r[a] for r in per_fold])) for a in per_fold[0]}

    def read(self, x: np.ndarray, predictive: str, averaging: str | None = None) -> CrossFitted:
        """The same (class, fold) chains read through another predictive variant and state
        averaging (:meth:`.fitted.FittedDPGMM.with_predictive`): no new sampling. ``x`` are the
        points this cross-fit scored."""
        fitted = self.fitted.with_predictive(predictive, averaging)
        states = fitted.log_prob_own_states(np.asarray(x, dtype=np.float64), self.scored)
        return attrs.evolve(self, log_density=fitted.average_states(states).cpu().numpy(),
                            states=states.cpu().numpy(), fitted=fitted)

    def small_fraction(self) -> np.ndarray:
        """Per class, the mean over its fold models of the fraction of points in collapsed
        components (:func:`.class_diagnostics.small_component_fraction`)."""
        from .class_diagnostics import small_component_fraction

        f = self.fitted
        per_group = small_component_fraction(f.states.counts, f.dim, f.nu0)
        return np.asarray(per_group.reshape(self.classes.size, self.folds).mean(1))

    def relative_entropy(self, label: int, num_samples: int, seed: int) -> float:
        """Eq. 4 of class ``label``: mean over its fold models (each fitted on (K-1)/K of it)."""
        return float(np.mean([
            self.fitted.relative_entropy(group=self.group_of(label, f),
                                         num_samples=num_samples, seed=seed + f)
            for f in range(self.folds)]))


def fold_assignment(labels: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Stratified folds: within each class a seeded permutation dealt round-robin to folds."""
    labels = np.asarray(labels)
    if folds < 2:
        raise ValueError(f"folds must be >= 2, got {folds}")
    classes, counts = np.unique(labels, return_counts=True)
    small = classes[counts < 2 * folds]
    if small.size:
        raise ValueError(f"cross-fitting with {folds} folds needs >= {2 * folds} points per "
                         f"class; class(es) {small.tolist()[:10]} have fewer")
    rng = np.random.default_rng(seed)
    fold = np.empty(labels.size, dtype=np.int64)
    for c in classes:
        idx = np.flatnonzero(labels == c)
        fold[idx[rng.permutation(idx.size)]] = np.arange(idx.size) % folds
    return fold


def cross_fit(model: DPGMM, x: np.ndarray, labels: np.ndarray, folds: int,
              seed: int = 0, predictive: str = "paper") -> CrossFitted:
    """Fit every (class, fold) model in one call of ``model`` and score each point held out,
    reading the chains through the ``predictive`` variant (:data:`.fitted.PREDICTIVES`)."""
    x = np.asarray(x, dtype=np.float64)
    labels = np.asarray(labels)
    if x.ndim != 2 or labels.shape != (x.shape[0],):
        raise ValueError(f"x must be (m, d) and labels (m,), got {x.shape} and {labels.shape}")
    fold = fold_assignment(labels, folds, seed)
    classes, code = np.unique(labels, return_inverse=True)
    parts = [np.flatnonzero(fold != f) for f in range(folds)]
    rows = np.concatenate(parts)
    groups = np.concatenate([code[p] * folds + f for f, p in enumerate(parts)])
    fitted = model.fit(x[rows], groups, warn=False).with_predictive(predictive)
    scored = code * folds + fold
    states = fitted.log_prob_own_states(x, scored)
    log_density = fitted.average_states(states)
    return CrossFitted(log_density=log_density.cpu().numpy(), states=states.cpu().numpy(),
                       fold=fold, classes=classes, folds=folds, fitted=fitted, scored=scored)
