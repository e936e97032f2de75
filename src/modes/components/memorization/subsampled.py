"""Feldman & Zhang's (2020) subsampled memorization estimator (their Algorithm 1).

Train ``trials`` models, each on a uniformly random subset of ``subset_ratio`` of the training set.
For training example i,

    mem(i) = P[model predicts y_i at x_i | i in its subset] - P[... | i not in its subset],

each probability estimated by the fraction of trials on that side that classify i correctly. The
two halves are independent binomial proportions, so the standard error is
sqrt(p_in (1 - p_in) / n_in + p_out (1 - p_out) / n_out).

Trials run in chunks of ``members_per_chunk`` models trained at once
(:func:`modes.training.ensemble.train_ensemble`). Every chunk's outcome is written to the artifact
store under its own key (request, chunk index) as soon as it finishes, so a crash loses at most
the chunks in flight, never half a chunk, and a re-run trains only the missing chunks. With an
``executor`` (any :class:`concurrent.futures.Executor`; Dask's client offers the same interface)
chunks run concurrently.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

import attrs
import numpy as np
import torch
from scipy.stats import binom
from tqdm.auto import tqdm

from modes.components.memorization.scores import MemorizationScores
from modes.components.protocols import MemorizationContext, MemorizationInput
from modes.data.streaming import Images, NormalisedImages
from modes.scale import TrainScale
from modes.store import ArtifactStore, request_key
from modes.training.ensemble import architecture_key, train_ensemble

VERSION = "2"  # 2: stacked-network ensemble training (float32 rounding differs)
CHUNK_KIND = "memorization-trials"
PIXELS_PER_STEP = {"cpu": 2**19, "cuda": 2**25}  # images x height x width per training step
BackboneFactory = Callable[[], Any]  # returns a Backbone (has .module())


def subset_size(num_examples: int, subset_ratio: float) -> int:
    """Examples per trial: ``round(subset_ratio * n)``, at least 1 and at most n - 1."""
    return min(num_examples - 1, max(1, round(subset_ratio * num_examples)))


def trial_masks(num_examples: int, subset_ratio: float, seed: int,
                trials: range) -> np.ndarray:
    """Membership masks ``(len(trials), n)``: trial t holds a uniform random subset.

    Trial t's subset depends only on (seed, t), not on how trials are chunked.
    """
    m = subset_size(num_examples, subset_ratio)
    masks = np.zeros((len(trials), num_examples), dtype=bool)
    for row, t in enumerate(trials):
        rng = np.random.default_rng([seed, t, 0x5B5])
        masks[row, rng.choice(num_examples, size=m, replace=False)] = True
    return masks


def coverage_failure_probability(num_examples: int, trials: int, subset_ratio: float,
                                 min_per_side: int) -> float:
    """Closed-form chance that some example has fewer than ``min_per_side`` trials on a side.

    Each trial includes a given example with probability p = m / n, independently across trials,
    so its in-count is Binomial(trials, p). Across examples the events are treated as independent
    (fixed-size subsets make them very weakly negatively dependent).
    """
    p = subset_size(num_examples, subset_ratio) / num_examples
    k = min_per_side
    per_example = binom.cdf(k - 1, trials, p) + binom.cdf(k - 1, trials, 1 - p)
    return float(-np.expm1(num_examples * np.log1p(-min(per_example, 1.0))))


def required_trials(num_examples: int, subset_ratio: float, min_per_side: int,
                    failure_probability: float = 0.01) -> int:
    """Fewest trials with :func:`coverage_failure_probability` at most ``failure_probability``."""
    p = subset_size(num_examples, subset_ratio) / num_examples
    t = max(2 * min_per_side, math.ceil(min_per_side / min(p, 1 - p)))
    while coverage_failure_probability(num_examples, t, subset_ratio,
                                       min_per_side) > failure_probability:
        t += 1
    return t


def memorization_from_trials(correct: np.ndarray, masks: np.ndarray, labels: np.ndarray,
                             trials: int) -> MemorizationScores:
    """Feldman & Zhang's estimate from per-trial correctness ``(t, n)`` and masks ``(t, n)``."""
    count_in = masks.sum(axis=0)
    count_out = (~masks).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_in = (correct & masks).sum(axis=0) / count_in
        p_out = (correct & ~masks).sum(axis=0) / count_out
        stderr = np.sqrt(p_in * (1 - p_in) / count_in + p_out * (1 - p_out) / count_out)
    return MemorizationScores(scores=p_in - p_out, labels=labels, source="subsampled",
                              standard_error=stderr, count_in=count_in.astype(np.int64),
                              count_out=count_out.astype(np.int64), trials=trials)


@attrs.frozen
class TrialChunk:
    """One unit of work: train the trials in ``trials`` and record their correctness."""

    backbone: BackboneFactory
    images: Images  # uint8 pixels normalised per batch, or a float tensor
    labels: torch.Tensor
    train: TrainScale
    subset_ratio: float
    seed: int
    trials: range
    device: str = "cpu"


def run_trial_chunk(chunk: TrialChunk) -> dict[str, np.ndarray]:
    """Train the chunk's models at once; returns ``correct`` and ``masks``, each ``(k, n)``."""
    n = len(chunk.labels)
    masks = trial_masks(n, chunk.subset_ratio, chunk.seed, chunk.trials)
    seeds = [int(np.random.default_rng([chunk.seed, t, 0x1417]).integers(2**31))
             for t in chunk.trials]
    ensemble = train_ensemble(lambda: chunk.backbone().module(), chunk.images, chunk.labels,
                              masks, chunk.train, seeds, device=chunk.device)
    predictions = ensemble.predict(chunk.images)
    correct = predictions == chunk.labels.numpy()[None, :]
    return {"correct": correct, "masks": masks, "trials": np.asarray(chunk.trials)}


def _positive_int(_: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and value < 1:
        raise ValueError(f"{attribute.name} must be >= 1, got {value!r}")


def _open_unit_interval(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{attribute.name} must lie in (0, 1), got {value!r}")


@attrs.frozen
class SubsampledMemorization:
    """Feldman & Zhang's memorization estimator; ``estimate`` trains the models.

    ``min_per_side`` is the coverage every example must get: at least that many trials whose
    subset holds it and as many whose subset misses it. ``members_per_chunk`` models are trained
    at once; ``None`` picks as many as keep one step's batch near :data:`PIXELS_PER_STEP` pixels
    for the device (more members per step stop paying off once a step is compute-bound, and on a
    CPU very large steps thrash the allocator).
    """

    trials: int = attrs.field(validator=_positive_int)
    subset_ratio: float = attrs.field(default=0.7, validator=_open_unit_interval)
    min_per_side: int = attrs.field(default=8, validator=_positive_int)
    seed: int = 0
    members_per_chunk: int | None = attrs.field(default=None, validator=_positive_int)
    device: str = "cpu"
    progress: bool = attrs.field(default=False, eq=False)

    def check_coverage(self, num_examples: int) -> None:
        """Closed-form check, before any training: raise if the trials cannot give coverage.

        Raises when even the expected number of trials on the smaller side is below
        ``min_per_side``, or when coverage fails with probability above one half.
        """
        p = subset_size(num_examples, self.subset_ratio) / num_examples
        expected = self.trials * min(p, 1 - p)
        failure = coverage_failure_probability(num_examples, self.trials, self.subset_ratio,
                                               self.min_per_side)
        if expected < self.min_per_side or failure > 0.5:
            need = required_trials(num_examples, self.subset_ratio, self.min_per_side)
            raise ValueError(
                f"trials={self.trials} are too few for min_per_side={self.min_per_side} at "
                f"subset_ratio={self.subset_ratio} on {num_examples} examples: the smaller side "
                f"expects {expected:.1f} trials per example and some example falls short with "
                f"probability {failure:.2f}; {need} trials give coverage with probability 0.99"
            )

    def check_realised_coverage(self, masks: np.ndarray) -> None:
        """Raise if some example has fewer than ``min_per_side`` trials on either side."""
        count_in, count_out = masks.sum(axis=0), (~masks).sum(axis=0)
        short = np.flatnonzero((count_in < self.min_per_side) | (count_out < self.min_per_side))
        if short.size:
            need = required_trials(masks.shape[1], self.subset_ratio, self.min_per_side)
            i = int(short[0])
            raise ValueError(
                f"trials={self.trials} leave {short.size} example(s) with fewer than "
                f"min_per_side={self.min_per_side} trials on one side (e.g. example {i}: "
                f"{int(count_in[i])} in, {int(count_out[i])} out); use >= {need} trials"
            )

    def request(self, backbone: BackboneFactory, data: Any, train: TrainScale) -> dict[str, Any]:
        """What determines the result: settings, data, training scale and architecture."""
        return {
            "estimator": attrs.evolve(self, progress=False, device="any"),
            "data": getattr(data, "fingerprint", None) or _fingerprint(data.train_images),
            "labels": data.train_labels.numpy(),
            "train": train,
            "architecture": architecture_key(backbone, self.seed),
        }

    def chunk_size(self, image_shape: tuple[int, ...], batch_size: int) -> int:
        """Models per chunk: ``members_per_chunk``, or the automatic choice described above."""
        if self.members_per_chunk is not None:
            return self.members_per_chunk
        budget = PIXELS_PER_STEP["cuda" if self.device.startswith("cuda") else "cpu"]
        pixels = batch_size * int(np.prod(image_shape[-2:]))
        return int(min(self.trials, max(1, budget // pixels)))

    def chunks(self, size: int) -> list[range]:
        return [range(s, min(s + size, self.trials)) for s in range(0, self.trials, size)]

    def estimate(self, backbone: BackboneFactory, data: Any, train: TrainScale,
                 store: ArtifactStore | None = None,
                 executor: Executor | None = None) -> MemorizationScores:
        """Memorization score, standard error and per-side trial counts of every training example.

        ``backbone`` builds a fresh untrained backbone per call. ``train`` sets epochs, batch size,
        learning rate and width of every trial. Finished chunks are kept in ``store`` and reused.
        """
        labels = data.train_labels.numpy().astype(np.int64)
        n = len(labels)
        self.check_coverage(n)
        all_masks = trial_masks(n, self.subset_ratio, self.seed, range(self.trials))
        self.check_realised_coverage(all_masks)

        request = self.request(backbone, data, train) if store is not None else None
        size = self.chunk_size(tuple(data.train_images.shape), train.batch_size)
        chunks = self.chunks(size)
        if request is not None:
            request["chunk_size"] = size  # chunk k holds trials [k * size, (k + 1) * size)
        results: dict[int, dict[str, np.ndarray]] = {}
        pending: dict[int, TrialChunk] = {}
        for index, trials in enumerate(chunks):
            cached = None
            if store is not None:
                cached = store.load(CHUNK_KIND, _chunk_key(request, index))
            if cached is not None:
                results[index] = cached
            else:
                pending[index] = TrialChunk(backbone, data.train_images, data.train_labels, train,
                                            self.subset_ratio, self.seed, trials, self.device)

        def finished(index: int, arrays: dict[str, np.ndarray]) -> None:
            results[index] = arrays
            if store is not None:
                store.save(CHUNK_KIND, _chunk_key(request, index), arrays,
                           meta={"chunk": index, "trials": [arrays["trials"].min().item(),
                                                            arrays["trials"].max().item()]})

        _run_chunks(pending, finished, executor, self.progress)
        ordered = [results[i] for i in range(len(chunks))]
        correct = np.concatenate([r["correct"] for r in ordered]).astype(bool)
        masks = np.concatenate([r["masks"] for r in ordered]).astype(bool)
        if not np.array_equal(masks, all_masks):
            raise ValueError("stored trial chunks disagree with this request's subsets; "
                             "the artifact store holds results of a different request")
        return memorization_from_trials(correct, masks, labels, self.trials)

    def scores(self, given: MemorizationInput) -> MemorizationScores:
        """:meth:`estimate` on ``given`` (the protocol's entry point)."""
        return self.estimate(given.backbone, given.data, given.train, store=given.store)


def configure_subsampled(context: MemorizationContext) -> SubsampledMemorization:
    """The profile's trials, subset ratio and coverage, the run's seed and device."""
    m = context.memorization
    return SubsampledMemorization(trials=m.trials, subset_ratio=m.subset_ratio,
                                  min_per_side=m.min_per_side, seed=context.seed,
                                  device=context.device)


def _chunk_key(request: Any, index: int) -> str:
    return request_key({"request": request, "chunk": index}, VERSION)


def _fingerprint(images: Images) -> str:
    if isinstance(images, NormalisedImages):
        return images.fingerprint
    return hashlib.sha256(images.numpy().tobytes()).hexdigest()[:24]


def _run_chunks(pending: dict[int, TrialChunk],
                finished: Callable[[int, dict[str, np.ndarray]], None],
                executor: Executor | None, progress: bool) -> None:
    """Run pending chunks (serially or on ``executor``), storing each as soon as it finishes.

    Serially, the first failure stops the run. On an executor, chunks already submitted run to
    the end and are stored; then the first error is raised.
    """
    bar = tqdm(total=len(pending), desc="memorization trials", unit="chunk", disable=not progress)
    errors: list[BaseException] = []
    if executor is None:
        for index, chunk in pending.items():
            finished(index, run_trial_chunk(chunk))
            bar.update(1)
    else:
        from concurrent.futures import as_completed

        futures: dict[Future[dict[str, np.ndarray]], int] = {
            executor.submit(run_trial_chunk, chunk): index for index, chunk in pending.items()}
        for future in as_completed(futures):
            try:
                finished(futures[future], future.result())
            except Exception as err:
                errors.append(err)
            bar.update(1)
    bar.close()
    if errors:
        raise RuntimeError(f"{len(errors)} of {len(pending)} trial chunk(s) failed; finished "
                           f"chunks are kept in the store") from errors[0]
