"""Batched, seeded training augmentation: random crop with zero padding, horizontal flip, noise.

Runs on whole batches on the batch's device with an explicit ``torch.Generator`` so that training is
reproducible. Padding is 4 pixels for 32x32 inputs and 10 for 84x84 (Feldman & Zhang's setting).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def crop_padding_for(image_size: int, default: int = 4) -> int:
    """Crop padding used for ``image_size`` inputs: 10 for 84x84 Mini-ImageNet, else ``default``."""
    return 10 if image_size == 84 else default


def crop_flip_draws(
    batch: int, padding: int, hflip: bool, generator: torch.Generator, device: torch.device
) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
    """The random draws of :func:`random_crop_flip` for ``batch`` images, in its order: row and
    column offsets of the crop (None without padding) and the flip mask (None without flips)."""
    dy = dx = flip = None
    if padding > 0:
        dy = torch.randint(0, 2 * padding + 1, (batch,), generator=generator, device=device)
        dx = torch.randint(0, 2 * padding + 1, (batch,), generator=generator, device=device)
    if hflip:
        flip = torch.rand(batch, generator=generator, device=device) < 0.5
    return dy, dx, flip


def random_crop_flip(x: torch.Tensor, padding: int, hflip: bool,
                     generator: torch.Generator) -> torch.Tensor:
    """Zero-pad by ``padding``, crop a random ``H x W`` window per image, mirror half the images."""
    b, _, h, w = x.shape
    dy, dx, flip = crop_flip_draws(b, padding, hflip, generator, x.device)
    if dy is not None and dx is not None:
        padded = F.pad(x, (padding, padding, padding, padding))
        rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
        cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
        batch = torch.arange(b, device=x.device)[:, None, None, None]
        chan = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
        x = padded[batch, chan, rows, cols]
    if flip is not None:
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    return x


def gaussian_noise(x: torch.Tensor, sigma: float, generator: torch.Generator) -> torch.Tensor:
    """``x + N(0, sigma^2 I)`` (Cohen et al.'s training noise for smoothed classifiers)."""
    if sigma < 0:
        raise ValueError(f"noise sigma must be >= 0, got {sigma}")
    if sigma == 0:
        return x
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return x + sigma * noise
