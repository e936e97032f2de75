"""Classification metrics used by the claims (Fig. 3 F-scores, Fig. A.11)."""

from __future__ import annotations

import numpy as np


def macro_f_score(truth: np.ndarray, predicted: np.ndarray,
                  num_classes: int | None = None) -> float:
    """Unweighted mean over classes present in ``truth`` of the per-class F1 score.

    Predictions of -1 (an abstaining smoothed classifier) count as wrong for every class.
    """
    t = np.asarray(truth, dtype=np.int64)
    p = np.asarray(predicted, dtype=np.int64)
    if t.shape != p.shape or t.ndim != 1:
        raise ValueError(f"truth and predicted must be 1-D of one length, got {t.shape}, {p.shape}")
    if t.size == 0:
        raise ValueError("macro_f_score needs at least one example")
    k = int(num_classes if num_classes is not None else max(t.max(), p.max()) + 1)
    valid = p >= 0
    tp = np.bincount(t[valid & (p == t)], minlength=k).astype(float)
    pred_count = np.bincount(p[valid], minlength=k).astype(float)
    true_count = np.bincount(t, minlength=k).astype(float)
    denom = pred_count + true_count
    f1 = np.divide(2.0 * tp, denom, out=np.zeros(k), where=denom > 0)
    return float(f1[true_count > 0].mean())
