"""Validation during training: L1 and SSIM of G's output on a fixed set of validation pairs.

The numbers come from :class:`zi2zi.metrics.pixel.MetricAccumulator`, the code ``zi2zi evaluate``
runs, on the same [0, 1] images, so a run's curve and a later evaluation agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from zi2zi.images import to_unit
from zi2zi.metrics.pixel import MetricAccumulator

# What a run logs as val_l1 / val_ssim (val_l1 also picks best.safetensors).
VALIDATION_METRICS = ("l1", "ssim")


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
    scores = MetricAccumulator(list(VALIDATION_METRICS))
    with torch.no_grad():
        for batch in batches:
            fake = batch["source"] if predict is None else predict(batch["source"], batch["style"]).cpu()
            scores.update(to_unit(fake), to_unit(batch["target"]), batch["style"])
    overall = scores.result()["overall"]
    return {f"val_{name}": overall[name] for name in VALIDATION_METRICS}


def chunks(indices: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for start in range(0, len(indices), size):
        yield indices[start : start + size]


__all__ = ["chunks", "eval_mode", "pixel_metrics"]
