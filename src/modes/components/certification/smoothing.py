"""Randomized smoothing (Cohen, Rosenfeld & Kolter 2019), after locuslab/smoothing ``core.py``.

The smoothed classifier is g(x) = argmax_c P(f(x + eps) = c), eps ~ N(0, sigma^2 I), for a base
classifier f. CERTIFY returns g's prediction together with an l2 radius within which g provably
does not change; PREDICT returns g's prediction alone. Both are Monte Carlo algorithms whose answer
is wrong with probability at most ``alpha``; both may abstain (return :data:`ABSTAIN`).

Noise for several inputs shares one forward pass (:meth:`RandomizedSmoothing.certify_batch`), and
all noise comes from one seeded :class:`torch.Generator`, so a certification run is reproducible.
"""

from __future__ import annotations

import attrs
import numpy as np
import torch
from scipy.stats import binomtest, norm
from statsmodels.stats.proportion import proportion_confint
from torch import nn
from tqdm.auto import tqdm

ABSTAIN = -1


def lower_confidence_bound(n_a: int, n: int, alpha: float) -> float:
    """One-sided (1 - alpha) Clopper-Pearson lower bound on a binomial proportion n_a / n.

    ``proportion_confint(method="beta")`` is two-sided; at level 2 * alpha its lower end is the
    one-sided bound at level alpha (Cohen et al. 2019, ``LowerConfBound``).
    """
    low, _ = proportion_confint(n_a, n, alpha=2 * alpha, method="beta")
    return float(low)


def certified_radius(p_a_lower: float, sigma: float) -> float:
    """The l2 radius sigma * Phi^-1(pA_lower) of Cohen et al. (2019), Theorem 1 with pB = 1 - pA."""
    return float(sigma * norm.ppf(p_a_lower))


@attrs.frozen(eq=False)
class Certificates:
    """CERTIFY outcomes for a set of inputs: class (or ABSTAIN) and l2 radius (0 on abstain).

    ``radius_units``: "input" (the units of the smoothed classifier's input) or "pixel" ([0, 1]
    pixels, converted by :class:`~modes.components.certification.noise_space.NoiseSpace`).
    """

    predictions: np.ndarray  # (m,) int64, ABSTAIN where CERTIFY abstained
    radii: np.ndarray  # (m,) float64
    labels: np.ndarray | None = None  # (m,) int64 true labels, when known
    radius_units: str = "input"

    @property
    def abstained(self) -> np.ndarray:
        return np.asarray(self.predictions == ABSTAIN)

    @property
    def non_abstain_rate(self) -> float:
        return float(np.mean(~self.abstained)) if self.predictions.size else float("nan")

    def certified_accuracy(self, radius: float) -> float:
        """Fraction of inputs certified correct at l2 radius >= ``radius`` (needs labels)."""
        if self.labels is None:
            raise ValueError("certified_accuracy needs the true labels; none were given")
        ok = (self.predictions == self.labels) & (self.radii >= radius)
        return float(np.mean(ok)) if ok.size else float("nan")


def _check_positive_int(name: str, value: int) -> None:
    if int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")


class RandomizedSmoothing:
    """A smoothed classifier around ``base_model`` with Gaussian noise of std ``sigma``.

    ``base_model`` maps a batch of inputs shaped like ``(batch, *x.shape)`` to logits of shape
    ``(batch, num_classes)``. It is put into eval mode here and used under ``torch.no_grad``.
    ``seed`` seeds the generator of all noise drawn by this object.
    """

    def __init__(self, base_model: nn.Module, num_classes: int, sigma: float, seed: int = 0):
        if not sigma > 0:
            raise ValueError(f"sigma must be > 0, got {sigma!r}")
        _check_positive_int("num_classes", num_classes)
        self.base_model = base_model.eval()
        self.num_classes = int(num_classes)
        self.sigma = float(sigma)
        self.seed = int(seed)
        self._generators: dict[torch.device, torch.Generator] = {}

    # -- the two algorithms of the paper -----------------------------------------------------

    def certify(self, x: torch.Tensor, n0: int, n: int, alpha: float,
                batch_size: int) -> tuple[int, float]:
        """CERTIFY (Cohen et al. 2019, Algorithm 1 / ``Smooth.certify``).

        Draws n0 noisy copies of ``x`` to guess the top class cA, then n fresh copies to count it.
        With probability at least 1 - alpha over the noise, if the returned class is not ABSTAIN
        then the smoothed classifier g predicts it at every x' with ||x' - x||_2 < radius.
        Abstains (returns ``(ABSTAIN, 0.0)``) when the lower bound on P(f(x + eps) = cA) is
        below 1/2.
        """
        predictions, radii = self.certify_batch(x.unsqueeze(0), n0, n, alpha, batch_size)
        return int(predictions[0]), float(radii[0])

    def predict(self, x: torch.Tensor, n: int, alpha: float, batch_size: int) -> int:
        """PREDICT (Cohen et al. 2019, ``Smooth.predict``).

        Counts the base classifier's predictions on n noisy copies of ``x`` and runs a two-sided
        binomial test of the top count against the runner-up. Returns the top class if the test
        rejects at level alpha, else ABSTAIN. With probability at least 1 - alpha the returned
        class (when not ABSTAIN) is the prediction of the smoothed classifier g at x.
        """
        self._validate(n=n, alpha=alpha, batch_size=batch_size)
        counts = self._sample_noise(x.unsqueeze(0), n, batch_size)[0]
        top2 = counts.argsort()[::-1][:2]
        count1, count2 = int(counts[top2[0]]), int(counts[top2[1]])
        if binomtest(count1, count1 + count2, p=0.5).pvalue > alpha:
            return ABSTAIN
        return int(top2[0])

    # -- many inputs at once ------------------------------------------------------------------

    def certify_batch(self, xs: torch.Tensor, n0: int, n: int, alpha: float,
                      batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """CERTIFY applied to every input in ``xs`` (shape ``(m, *x.shape)``).

        Same guarantee as :meth:`certify` for each input separately (each certificate is wrong
        with probability at most alpha). Noise for several inputs shares one forward pass of up to
        ``batch_size`` noisy images. Returns predictions (ABSTAIN on abstention) and radii.
        """
        self._validate(n0=n0, n=n, alpha=alpha, batch_size=batch_size)
        selection = self._sample_noise(xs, n0, batch_size).argmax(axis=1)
        counts = self._sample_noise(xs, n, batch_size)
        predictions = np.full(len(xs), ABSTAIN, dtype=np.int64)
        radii = np.zeros(len(xs), dtype=np.float64)
        for i, c_a in enumerate(selection):
            p_a_lower = lower_confidence_bound(int(counts[i, c_a]), n, alpha)
            if p_a_lower >= 0.5:
                predictions[i] = c_a
                radii[i] = certified_radius(p_a_lower, self.sigma)
        return predictions, radii

    def certify_dataset(self, images: torch.Tensor | np.ndarray, n0: int, n: int, alpha: float,
                        batch_size: int, labels: np.ndarray | None = None,
                        inputs_per_pass: int | None = None,
                        progress: bool = True) -> Certificates:
        """CERTIFY every input of a held-out set, ``inputs_per_pass`` inputs at a time.

        ``inputs_per_pass`` defaults to ``max(1, batch_size // n0)`` so that selection draws fill
        a forward pass. A progress bar counts certified inputs.
        """
        xs = torch.as_tensor(images)
        if labels is not None and len(labels) != len(xs):
            raise ValueError(f"labels has length {len(labels)} but images has {len(xs)} inputs")
        step = inputs_per_pass if inputs_per_pass is not None else max(1, batch_size // n0)
        _check_positive_int("inputs_per_pass", step)
        predictions, radii = [], []
        with tqdm(total=len(xs), desc="certify", unit="input", disable=not progress) as bar:
            for start in range(0, len(xs), step):
                chunk = xs[start:start + step]
                p, r = self.certify_batch(chunk, n0, n, alpha, batch_size)
                predictions.append(p)
                radii.append(r)
                bar.update(len(chunk))
        return Certificates(
            predictions=np.concatenate(predictions) if predictions else np.zeros(0, np.int64),
            radii=np.concatenate(radii) if radii else np.zeros(0),
            labels=None if labels is None else np.asarray(labels, dtype=np.int64),
        )

    # -- sampling -----------------------------------------------------------------------------

    def _generator(self, device: torch.device) -> torch.Generator:
        if device not in self._generators:
            self._generators[device] = torch.Generator(device=device).manual_seed(self.seed)
        return self._generators[device]

    def _sample_noise(self, xs: torch.Tensor, num: int, batch_size: int) -> np.ndarray:
        """Class counts (m, num_classes) of the base model on ``num`` noisy copies of each input.

        The m * num noisy copies are laid out input-major and cut into forward passes of
        ``batch_size``; one pass may hold copies of several inputs.
        """
        m = len(xs)
        counts = torch.zeros(m * self.num_classes, dtype=torch.int64)
        generator = self._generator(xs.device)
        with torch.no_grad():
            for start in range(0, m * num, batch_size):
                stop = min(start + batch_size, m * num)
                owner = torch.arange(start, stop, device=xs.device) // num
                batch = xs[owner]
                noise = torch.randn(batch.shape, generator=generator, device=xs.device,
                                    dtype=batch.dtype)
                predicted = self.base_model(batch + noise * self.sigma).argmax(dim=1)
                flat = owner * self.num_classes + predicted
                counts += torch.bincount(flat.cpu(), minlength=m * self.num_classes)
        return counts.view(m, self.num_classes).numpy()

    def _validate(self, *, n: int, alpha: float, batch_size: int, n0: int | None = None) -> None:
        if n0 is not None:
            _check_positive_int("n0", n0)
        _check_positive_int("n", n)
        _check_alpha(alpha)
        _check_positive_int("batch_size", batch_size)
