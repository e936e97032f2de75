"""Images kept as uint8 pixels and normalised batch by batch, as they are read.

A dataset holds its images at their raw size (one byte per pixel and channel: about 1.3 GB for
Mini-ImageNet's 60,000 84x84 images, against 5 GB as normalised float32). :class:`NormalisedImages`
is the view every consumer reads: indexing it with an int, a slice or an index array gathers those
uint8 images and returns them normalised, ``(pixels / 255 - mean) / std`` per channel, as float32;
nothing else is ever materialised. It is a ``torch.utils.data.Dataset`` whose items are images, and
its ``__getitem__`` also takes a whole batch of indices (one gather per batch, not per image).

The per-channel mean and standard deviation (:func:`channel_statistics`) are those of the training
pixels, computed exactly from integer sums, chunk by chunk, so computing them needs no float copy
of the images either.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction
from typing import Self

import numpy as np
import torch
from torch.utils.data import Dataset

Index = int | slice | torch.Tensor | np.ndarray
_CHUNK = 4096  # images per chunk of the integer sums


def check_pixels(pixels: torch.Tensor, what: str) -> None:
    """A ValueError naming ``what`` unless ``pixels`` is a uint8 ``(N, 3, H, W)`` tensor."""
    if pixels.dtype != torch.uint8 or pixels.ndim != 4 or pixels.shape[1] != 3:
        raise ValueError(f"{what} must be a uint8 (N, 3, H, W) tensor, got {pixels.dtype} "
                         f"{tuple(pixels.shape)}")


def channel_statistics(pixels: torch.Tensor) -> tuple[tuple[float, float, float],
                                                      tuple[float, float, float]]:
    """Per-channel mean and (unbiased) standard deviation of uint8 ``(N, 3, H, W)`` ``pixels``
    in ``[0, 1]`` units (pixel / 255).

    Exact: the sums of the values and of their squares are integers (int64 per chunk, Python
    integers across chunks), and the variance ``(n * sum(v^2) - sum(v)^2) / (n (n - 1))`` is
    formed as a fraction before the one final rounding to float. A standard deviation below 1e-6
    (a constant channel) is raised to 1e-6 so that normalising never divides by zero.
    """
    check_pixels(pixels, "pixels")
    count = pixels.shape[0] * pixels.shape[2] * pixels.shape[3]
    if count < 2:
        raise ValueError(f"channel statistics need at least 2 pixels per channel, got {count}")
    sums, squares = [0, 0, 0], [0, 0, 0]
    for start in range(0, pixels.shape[0], _CHUNK):
        chunk = pixels[start:start + _CHUNK].to(torch.int64)
        for c, (s, q) in enumerate(zip(chunk.sum(dim=(0, 2, 3)).tolist(),
                                       (chunk * chunk).sum(dim=(0, 2, 3)).tolist(), strict=True)):
            sums[c] += int(s)
            squares[c] += int(q)
    mean = tuple(float(Fraction(s, count * 255)) for s in sums)
    var = [Fraction(count * q - s * s, count * (count - 1) * 255 * 255)
           for s, q in zip(sums, squares, strict=True)]
    std = tuple(max(float(v) ** 0.5, 1e-6) for v in var)
    return (mean[0], mean[1], mean[2]), (std[0], std[1], std[2])


class NormalisedImages(Dataset[torch.Tensor]):
    """uint8 ``(N, 3, H, W)`` ``pixels`` read as normalised float32 images, batch by batch.

    ``images[i]`` is one ``(3, H, W)`` image, ``images[a:b]`` or ``images[index_tensor]`` a
    ``(B, 3, H, W)`` batch (any index shape: ``images[idx]`` has shape ``idx.shape + (3, H, W)``);
    each is normalised where the pixels live (``to(device)`` moves the uint8 pixels, so batches
    are normalised on that device). ``shape``, ``ndim`` and ``dtype`` describe the float images.
    """

    def __init__(self, pixels: torch.Tensor, mean: tuple[float, ...],
                 std: tuple[float, ...]) -> None:
        check_pixels(pixels, "pixels")
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ValueError(f"need 3 channel means and 3 positive standard deviations, got "
                             f"mean {mean}, std {std}")
        self.pixels = pixels
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)
        self._shift = torch.tensor(self.mean, dtype=torch.float32,
                                   device=pixels.device).view(3, 1, 1)
        self._div = torch.tensor(self.std, dtype=torch.float32, device=pixels.device).view(3, 1, 1)

    def __len__(self) -> int:
        return int(self.pixels.shape[0])

    def __getitem__(self, index: Index) -> torch.Tensor:
        if isinstance(index, tuple):
            raise TypeError("NormalisedImages is indexed by image (an int, a slice or an index "
                            "array); index the batch it returns for pixels or channels")
        if isinstance(index, np.ndarray):
            index = torch.from_numpy(index)
        return (self.pixels[index].float() / 255.0 - self._shift) / self._div

    def normalise(self) -> torch.Tensor:
        """All images as one normalised float32 tensor (4 bytes per value: for small sets)."""
        return self[:]

    def to(self, device: str | torch.device) -> Self:
        """The same images with their pixels on ``device``."""
        return type(self)(self.pixels.to(device), self.mean, self.std)

    @property
    def shape(self) -> torch.Size:
        return self.pixels.shape

    @property
    def ndim(self) -> int:
        return 4

    @property
    def dtype(self) -> torch.dtype:
        return torch.float32

    @property
    def device(self) -> torch.device:
        return self.pixels.device

    @property
    def fingerprint(self) -> str:
        """Content hash of the pixels and the normalisation (for cache keys)."""
        digest = hashlib.blake2b(digest_size=12)
        digest.update(np.ascontiguousarray(self.pixels.cpu().numpy()).tobytes())
        digest.update(repr((tuple(self.pixels.shape), self.mean, self.std)).encode())
        return digest.hexdigest()


Images = torch.Tensor | NormalisedImages
"""What trainers and taps read: a float tensor, or uint8 pixels normalised per batch."""


def pixels_from_hwc(u8: np.ndarray) -> torch.Tensor:
    """(N, H, W, 3) uint8 array -> contiguous (N, 3, H, W) uint8 tensor (one copy, raw size)."""
    if u8.dtype != np.uint8 or u8.ndim != 4 or u8.shape[-1] != 3:
        raise ValueError(f"images must be a uint8 (N, H, W, 3) array, got {u8.dtype} {u8.shape}")
    return torch.from_numpy(np.ascontiguousarray(u8.transpose(0, 3, 1, 2)))
