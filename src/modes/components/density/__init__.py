"""DensityModel: Dirichlet-process Gaussian mixtures fitted by batched blocked collapsed Gibbs.

``DPGMM(...).fit(x, groups)`` -> :class:`FittedDPGMM` with ``log_prob`` (Eq. 3), ``sample``,
``relative_entropy`` and ``kl`` (Eq. 4), ``classify`` (Eq. A.7). Registered as density "dpgmm"
(:mod:`.component`: the density-model protocol around it).
"""

from .component import DPGMMDensity, DPGMMDensityConfig, FittedDPGMMDensity
from .diagnostics import ConvergenceWarning, effective_sample_size, split_rhat
from .fitted import FittedDPGMM, Traces
from .model import DPGMM, DPGMMConfig, build_dpgmm

__all__ = [
    "DPGMM",
    "ConvergenceWarning",
    "DPGMMConfig",
    "DPGMMDensity",
    "DPGMMDensityConfig",
    "FittedDPGMM",
    "FittedDPGMMDensity",
    "Traces",
    "build_dpgmm",
    "effective_sample_size",
    "split_rhat",
]
