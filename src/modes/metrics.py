"""Classification metrics used by the claims (Fig. 3 F-scores, Fig. A.11)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score


def macro_f_score(truth: np.ndarray, predicted: np.ndarray,
                  num_classes: int | None = None) -> float:
    """Unweighted mean over classes present in ``truth`` of the per-class F1 score.

    ``sklearn.metrics.f1_score(average="macro")`` restricted to ``labels=unique(truth)``: a
    predicted class absent from ``truth`` adds no term (those predictions still count as misses
    of their true class), a present class never predicted scores 0. Predictions of -1 (an
    abstaining smoothed classifier) are outside every label, so they count as wrong for every
    class. ``zero_division`` never applies (every listed class has a true example); it is set to
    0 for the record. ``num_classes``, when given, bounds the labels (truth in ``[0, k)``,
    predictions in ``[-1, k)``).
    """
    t = np.asarray(truth, dtype=np.int64)
    p = np.asarray(predicted, dtype=np.int64)
    if t.shape != p.shape or t.ndim != 1:
        raise ValueError(f"truth and predicted must be 1-D of one length, got {t.shape}, {p.shape}")
    if t.size == 0:
        raise ValueError("macro_f_score needs at least one example")
    upper = np.iinfo(np.int64).max if num_classes is None else num_classes
    if t.min() < 0 or t.max() >= upper or p.min() < -1 or p.max() >= upper:
        raise ValueError(f"labels must lie in [0, {upper}) and predictions in [-1, {upper}), got "
                         f"truth in [{t.min()}, {t.max()}], predicted in [{p.min()}, {p.max()}]")
    return float(f1_score(t, p, labels=np.unique(t), average="macro", zero_division=0.0))
