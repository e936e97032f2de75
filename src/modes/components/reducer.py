"""SVD dimensionality reduction of representations (Appendix "ResNet representations", Fig. A.6).

The paper: "we use SVD to decompose the n x d matrix that contains neural representations
arranged in rows, and then project the data onto a subset of right-singular vectors". By default
the matrix is decomposed **as is** (``centre=False``, as the paper and the authors' code do),
``X = U S V^T``; with ``centre=True`` its column mean is removed first (PCA). The paper keeps
``d' = 16`` vectors for ResNet stages 1-2 and ``d' = 64`` for stages 3-4 (the caller passes
``dims`` from ``DensityScale``); alternatively a ``variance`` target keeps the fewest vectors whose
retained variance reaches it. The full explained-variance curve is kept for Fig. A.6.

Explained variance ratio, both settings: ``S_i^2 / sum_j S_j^2`` over all ``min(n, d)`` singular
values of the decomposed matrix. Centred, this is PCA's ratio of covariance eigenvalues; uncentred,
it is each direction's share of the raw second moment ``||X||_F^2`` (the first direction then
mostly carries the mean).
"""

from __future__ import annotations

import attrs
import numpy as np
import scipy.linalg
from sklearn.decomposition import PCA
from sklearn.utils.extmath import svd_flip

from modes.registry import register


@attrs.frozen(eq=False)
class FittedSVD:
    """A fitted projection: ``transform(x) = (x - mean) @ components.T``."""

    components: np.ndarray  # (k, d) retained right-singular vectors, rows
    singular_values: np.ndarray  # all min(n, d) singular values, descending
    explained_variance_ratio: np.ndarray  # S_i^2 / sum_j S_j^2, all min(n, d) of them
    mean: np.ndarray  # (d,) column mean removed before the SVD; zeros when not centred
    centre: bool  # whether the column mean was removed before the SVD

    @property
    def n_components(self) -> int:
        return int(self.components.shape[0])

    @property
    def retained_variance(self) -> np.ndarray:
        """Fraction of the variance kept by the first k vectors, k = 1..min(n, d) (Fig. A.6)."""
        return np.cumsum(self.explained_variance_ratio)

    def transform(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.mean.shape[0]:
            raise ValueError(f"x must be (n, {self.mean.shape[0]}), got shape {x.shape}")
        return np.asarray((x - self.mean) @ self.components.T)


def _centred_svd(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, singular values and right-singular vectors of the centred ``x`` (scikit-learn PCA).

    PCA's own ratio divides by ``n - 1`` and by the total variance, which is NaN for one row or
    constant data; the caller derives the ratio from the singular values instead.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        pca = PCA(svd_solver="full").fit(x)
    return pca.mean_, pca.singular_values_, pca.components_


def _uncentred_svd(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean (zeros), singular values and right-singular vectors of ``x`` itself.

    Exact LAPACK SVD (``scipy.linalg.svd``) rather than ``TruncatedSVD``: its ``arpack`` solver
    cannot return all ``min(n, d)`` vectors and its ``randomized`` one is approximate, while the
    variance curve needs the whole spectrum anyway. Signs follow PCA's rule (``svd_flip`` on
    ``V^T``: the largest-magnitude entry of each vector is positive).
    """
    u, s, vt = scipy.linalg.svd(x, full_matrices=False)
    _, vt = svd_flip(u, vt, u_based_decision=False)
    return np.zeros(x.shape[1]), s, vt


def numerical_rank(singular_values: np.ndarray, shape: tuple[int, ...]) -> int:
    """How many singular values exceed ``numpy.linalg.matrix_rank``'s tolerance,
    ``max(n, d) * eps * S_max`` (at least 1): directions past it carry no variance but rounding,
    and a density model on them has none (a ReLU channel dead for every image is one)."""
    s = np.asarray(singular_values)
    tol = max(shape) * np.finfo(np.float64).eps * (s.max() if s.size else 0.0)
    return max(1, int(np.sum(s > tol)))


@register("reducer", "svd")
@attrs.frozen
class SVDReducer:
    """Keep ``dims`` right-singular vectors, or enough to retain a ``variance`` fraction.

    With neither set, all ``min(n, d)`` vectors are kept. Never more than the data's
    :func:`numerical_rank`: ``dims`` beyond it keeps the rank (the fitted ``n_components`` says how
    many). ``centre`` removes the column mean before the SVD (PCA); the default, ``False``,
    decomposes the matrix as the paper does.
    """

    dims: int | None = None
    variance: float | None = None
    centre: bool = False

    def __attrs_post_init__(self) -> None:
        if self.dims is not None and self.variance is not None:
            raise ValueError(f"give dims or variance, not both (dims={self.dims}, "
                             f"variance={self.variance})")
        if self.dims is not None and self.dims < 1:
            raise ValueError(f"dims must be >= 1, got {self.dims}")
        if self.variance is not None and not 0.0 < self.variance <= 1.0:
            raise ValueError(f"variance must be in (0, 1], got {self.variance}")

    def fit(self, x: np.ndarray) -> FittedSVD:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or min(x.shape) < 1:
            raise ValueError(f"x must be a non-empty (n, d) matrix, got shape {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("x contains NaN or infinite values")
        mean, s, vt = (_centred_svd if self.centre else _uncentred_svd)(x)
        power = s**2
        total = power.sum()
        ratio = power / total if total > 0 else np.zeros_like(power)
        k = min(self._n_keep(ratio), numerical_rank(s, x.shape))
        return FittedSVD(components=vt[:k].copy(), singular_values=s,
                         explained_variance_ratio=ratio, mean=mean, centre=self.centre)

    def _n_keep(self, ratio: np.ndarray) -> int:
        available = len(ratio)
        if self.dims is not None:
            if self.dims > available:
                raise ValueError(f"dims={self.dims} exceeds min(n, d)={available} of the data")
            return self.dims
        if self.variance is not None:
            reached = np.flatnonzero(np.cumsum(ratio) >= self.variance - 1e-12)
            return int(reached[0]) + 1 if len(reached) else available
        return available
