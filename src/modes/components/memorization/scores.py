"""Per-example memorization scores: the common result of every memorization estimator."""

from __future__ import annotations

import attrs
import numpy as np


@attrs.frozen(eq=False)
class MemorizationScores:
    """Memorization score of each training example (Feldman & Zhang 2020), in dataset order.

    ``standard_error``, ``count_in`` and ``count_out`` are known for scores estimated here
    (the number of trials whose subset held / missed the example, behind each half of the
    difference) and ``None`` for published scores, which ship without them.
    """

    scores: np.ndarray  # (n,) float64
    labels: np.ndarray  # (n,) int64, the training labels the scores refer to
    source: str  # "subsampled" or the published file's format
    standard_error: np.ndarray | None = None  # (n,) float64
    count_in: np.ndarray | None = None  # (n,) int64
    count_out: np.ndarray | None = None  # (n,) int64
    trials: int = 0

    def __attrs_post_init__(self) -> None:
        n = len(self.scores)
        for name in ("labels", "standard_error", "count_in", "count_out"):
            value = getattr(self, name)
            if value is not None and len(value) != n:
                raise ValueError(f"{name} has length {len(value)} but scores has length {n}")

    def __len__(self) -> int:
        return len(self.scores)

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays of this result, for the artifact store."""
        out = {"scores": self.scores, "labels": self.labels}
        for name in ("standard_error", "count_in", "count_out"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], source: str,
                    trials: int = 0) -> MemorizationScores:
        return cls(
            scores=np.asarray(arrays["scores"], dtype=np.float64),
            labels=np.asarray(arrays["labels"], dtype=np.int64),
            source=source,
            standard_error=arrays.get("standard_error"),
            count_in=arrays.get("count_in"),
            count_out=arrays.get("count_out"),
            trials=trials,
        )
