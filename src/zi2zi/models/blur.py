"""The seed's Gaussian blur for the discriminator, with an optional linear fade-out.

The seed used ``torchvision.transforms.GaussianBlur(kernel_size=5, sigma=1.0)``. On tensors that is
a separable kernel ``exp(-x^2 / (2 sigma^2))`` normalised to sum 1, applied per channel after
reflect padding of ``kernel_size // 2``. kornia's ``gaussian_blur2d`` with ``border_type="reflect"``
computes the same thing (checked against the formula in tests/test_blur.py), is differentiable,
and does not need torchvision, which does not install beside our torch.
"""

from __future__ import annotations

import kornia.filters
import torch
from torch import nn

from zi2zi.config import ConfigError


def faded_sigma(sigma: float, step: int, fade_steps: int) -> float:
    """sigma * max(0, 1 - step / fade_steps); ``fade_steps <= 0`` keeps sigma constant.

    A StyleGAN3-style schedule: D starts judging blurred structure and gradually sees fine detail.
    """
    if fade_steps <= 0:
        return float(sigma)
    return float(sigma) * max(0.0, 1.0 - step / fade_steps)


class GaussianBlur(nn.Module):
    """torchvision-equivalent Gaussian blur (reflect padding); sigma 0 is the identity.

    ``sigma`` is a plain attribute, not a buffer: it is a function of the training step and is
    recomputed by :meth:`Discriminator.set_step`, so it never needs saving.
    """

    def __init__(self, kernel_size: int, sigma: float):
        super().__init__()
        odd = isinstance(kernel_size, int) and not isinstance(kernel_size, bool) and kernel_size % 2 == 1
        if not odd or kernel_size < 1:
            raise ConfigError(
                f"model.discriminator.blur_kernel={kernel_size!r} must be an odd positive integer (e.g. 5)"
            )
        if not sigma >= 0:  # also rejects NaN
            raise ConfigError(f"model.discriminator.blur_sigma={sigma!r} must be >= 0 (0 disables the blur)")
        self.kernel_size = kernel_size
        self.sigma = float(sigma)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, C, H, W)
        if self.sigma <= 0 or self.kernel_size == 1:
            return x
        return kornia.filters.gaussian_blur2d(
            x, self.kernel_size, (self.sigma, self.sigma), border_type="reflect"
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, sigma={self.sigma:g}"
