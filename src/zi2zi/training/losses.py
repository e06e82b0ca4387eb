"""zi2zi's loss terms. Each returns a scalar tensor; the trainer applies the weights.

GAN losses take raw logits (D has no sigmoid). The D loss is the sum of its real and fake terms,
as zi2zi sums them (pix2pix halves it; that only rescales D's learning rate).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from zi2zi.config import GAN_MODES, ConfigError


def _check_mode(mode: str) -> None:
    if mode not in GAN_MODES:
        raise ConfigError(f"loss.gan_mode={mode!r} is not a GAN loss; choose one of {', '.join(GAN_MODES)}")


def d_gan_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, mode: str) -> torch.Tensor:
    """D's adversarial loss: push real logits up and fake logits down."""
    _check_mode(mode)
    if mode == "bce":
        return F.binary_cross_entropy_with_logits(
            real_logits, torch.ones_like(real_logits)
        ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    if mode == "lsgan":
        return ((real_logits - 1) ** 2).mean() + (fake_logits**2).mean()
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def g_gan_loss(fake_logits: torch.Tensor, mode: str) -> torch.Tensor:
    """G's adversarial loss on D's logits for fakes (zi2zi's "cheat loss" for bce)."""
    _check_mode(mode)
    if mode == "bce":
        return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    if mode == "lsgan":
        return ((fake_logits - 1) ** 2).mean()
    return -fake_logits.mean()


def category_loss(
    logits: torch.Tensor, labels: torch.Tensor, *, form: Literal["softmax", "sigmoid"] = "softmax"
) -> torch.Tensor:
    """Style classification loss on D's category head: logits (B, K), labels (B,) int64.

    "softmax" is the usual cross-entropy. "sigmoid" is what zi2zi itself computes (TF and
    PyTorch port): independent binary cross-entropies against the one-hot label, averaged over
    all B*K entries, which is about K times weaker per sample than softmax cross-entropy.
    """
    if form == "softmax":
        return F.cross_entropy(logits, labels)
    if form == "sigmoid":
        target = F.one_hot(labels, logits.shape[1]).to(logits.dtype)
        return F.binary_cross_entropy_with_logits(logits, target)
    raise ConfigError(f"category loss form {form!r}; choose softmax or sigmoid")


def const_loss(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """zi2zi's encoder consistency: MSE between bottleneck codes of the source and of the fake."""
    return F.mse_loss(a, b)


def tv_loss(img: torch.Tensor) -> torch.Tensor:
    """Anisotropic total variation of (B, C, H, W) images: mean |vertical step| + mean |horizontal step|.

    zi2zi's form (sum of squared steps / 2 / width) grows with batch size and image area; the
    mean keeps one ``tv_weight`` meaning the same at 64 px and 256 px and any batch size.
    """
    dh = (img[:, :, 1:, :] - img[:, :, :-1, :]).abs().mean()
    dw = (img[:, :, :, 1:] - img[:, :, :, :-1]).abs().mean()
    return dh + dw
