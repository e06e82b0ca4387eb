"""Validation during training: L1 and SSIM of G's output on a fixed set of validation pairs.

The numbers come from :mod:`zi2zi.metrics.pixel`, the same functions ``zi2zi evaluate`` uses, on
the same [0, 1] images, so a run's curve and a later evaluation agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from zi2zi.images import to_unit
from zi2zi.metrics.pixel import l1, ssim


@contextmanager
def eval_mode(nets: list[nn.Module]) -> Iterator[None]:
    """Networks in eval mode (dropout off, BatchNorm running statistics, none updated), then back."""
    modes = [n.training for n in nets]
    for n in nets:
        n.eval()
    try:
        yield
    finally:
        for n, mode in zip(nets, modes):
            n.train(mode)


def pixel_metrics(
    batches: Iterator[dict[str, torch.Tensor]],
    predict: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None,
    count: int,
) -> dict[str, float]:
    """Mean ``val_l1`` / ``val_ssim`` over ``count`` pairs; ``predict`` None scores the trivial
    baseline (the source glyph itself used as the prediction)."""
    if count == 0:
        return {}
    sums = {"val_l1": 0.0, "val_ssim": 0.0}
    with torch.no_grad():
        for batch in batches:
            fake = batch["source"] if predict is None else predict(batch["source"], batch["style"]).cpu()
            pred, target = to_unit(fake), to_unit(batch["target"])
            sums["val_l1"] += float(l1(pred, target).sum())
            sums["val_ssim"] += float(ssim(pred, target).sum())
    return {k: v / count for k, v in sums.items()}


def chunks(indices: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for start in range(0, len(indices), size):
        yield indices[start : start + size]


__all__ = ["chunks", "eval_mode", "pixel_metrics"]
