"""Convergence diagnostics of the sampler's traces: split R-hat and effective sample size.

Both follow Gelman et al., *Bayesian Data Analysis* (3rd ed.), Sec. 11.4-11.5: each chain is split
in half, R-hat compares between- and within-half variances, ESS uses Geyer's initial positive
sequence of the combined autocorrelations.
"""

from __future__ import annotations

import warnings

import attrs
import numpy as np

RHAT_THRESHOLD = 1.1


class ConvergenceWarning(UserWarning):
    """A chain of the density sampler has not mixed (split R-hat above the threshold)."""


def _split(trace: np.ndarray) -> np.ndarray:
    """(draws, chains, ...) -> (draws // 2, 2 * chains, ...)."""
    half = trace.shape[0] // 2
    return np.concatenate([trace[:half], trace[half : 2 * half]], axis=1)


def split_rhat(trace: np.ndarray) -> np.ndarray:
    """Split R-hat of ``trace`` (draws, chains, ...) over the trailing dims; 1 means mixed.

    A quantity that is constant across all draws and chains gets R-hat 1; one that is constant
    within each half-chain but differs between them gets +inf.
    """
    x = _split(np.asarray(trace, dtype=np.float64))
    n = x.shape[0]
    if n < 2:
        raise ValueError(f"split R-hat needs at least 4 draws, got {trace.shape[0]}")
    chain_means = x.mean(0)
    within = x.var(0, ddof=1).mean(0)
    between = n * chain_means.var(0, ddof=1)
    var_plus = (n - 1) / n * within + between / n
    with np.errstate(divide="ignore", invalid="ignore"):
        rhat = np.sqrt(var_plus / within)
    rhat = np.where(within > 0, rhat, np.where(between > 0, np.inf, 1.0))
    return np.asarray(rhat)


def effective_sample_size(trace: np.ndarray) -> np.ndarray:
    """ESS of ``trace`` (draws, chains, ...) (split chains, Geyer's initial positive sequence)."""
    x = _split(np.asarray(trace, dtype=np.float64))
    n, m = x.shape[:2]
    centred = x - x.mean(0)
    spectrum = np.fft.rfft(centred, n=2 * n, axis=0)
    acov = np.fft.irfft(spectrum * np.conj(spectrum), axis=0)[:n] / n
    within = acov[0].mean(0) * n / (n - 1)
    var_plus = within * (n - 1) / n + x.mean(0).var(0, ddof=1) if m > 1 else within * (n - 1) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = 1 - (within - acov.mean(1)) / var_plus
    rho = np.where(var_plus > 0, rho, 0.0)
    pairs = rho[: (n // 2) * 2].reshape(n // 2, 2, *rho.shape[1:]).sum(1)
    positive = np.cumprod(pairs > 0, axis=0).astype(bool)
    monotone = np.minimum.accumulate(np.where(positive, pairs, 0.0), axis=0)
    tau = -1 + 2 * np.where(positive, monotone, 0.0).sum(0)
    tau = np.maximum(tau, 1.0 / np.log10(max(n * m, 10)))
    return np.asarray(n * m / tau)


@attrs.frozen
class Convergence:
    """Per-group split R-hat and ESS of the post-burn-in log-joint trace."""

    rhat: np.ndarray = attrs.field(eq=False)
    ess: np.ndarray = attrs.field(eq=False)
    threshold: float = RHAT_THRESHOLD

    @property
    def mixed(self) -> np.ndarray:
        return np.asarray(self.rhat <= self.threshold)


def assess(trace: np.ndarray, group_ids: np.ndarray, warn: bool = True) -> Convergence:
    """Diagnose ``trace`` (draws, chains, groups); warn naming the groups that have not mixed.

    Fewer than 4 draws cannot be diagnosed: R-hat and ESS are NaN and nothing is reported.
    """
    if trace.shape[0] < 4:  # too short to diagnose: unknown (NaN), no warning
        unknown = np.full(trace.shape[2:], np.nan)
        return Convergence(rhat=unknown, ess=unknown.copy())
    conv = Convergence(rhat=split_rhat(trace), ess=effective_sample_size(trace))
    bad = np.flatnonzero(~conv.mixed)
    if warn and bad.size:
        shown = ", ".join(f"{group_ids.tolist()[i]!r} (R-hat {conv.rhat[i]:.2f})" for i in bad[:10])
        warnings.warn(
            f"density sampler has not mixed for {bad.size} of {len(group_ids)} groups "
            f"(split R-hat > {conv.threshold}): {shown}; run more sweeps",
            ConvergenceWarning,
            stacklevel=3,
        )
    return conv
