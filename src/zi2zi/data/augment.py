"""Paired augmentation for training: one random transform, applied identically to both images.

zi2zi's recipe: enlarge by a random factor in [1.0, 1.2] and crop back to the original size at a
random offset. Source and target must move together, or the model learns to shift glyphs.
Evaluation never augments.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def paired_augment(
    source: torch.Tensor,
    target: torch.Tensor,
    generator: torch.Generator | None = None,
    *,
    max_scale: float = 1.2,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale-and-crop each pair of (B, 1, S, S) images with its own random scale and offset."""
    batch = source.shape[0]
    scale = 1.0 + (max_scale - 1.0) * torch.rand(batch, generator=generator)
    # The crop window is 1/scale of the enlarged image; its centre may move by the slack on
    # either side, which in normalised coordinates is (1 - 1/scale).
    slack = 1.0 - 1.0 / scale
    shift = (torch.rand(batch, 2, generator=generator) * 2.0 - 1.0) * slack[:, None]
    theta = torch.zeros(batch, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0 / scale
    theta[:, :, 2] = shift
    theta = theta.to(device=source.device, dtype=source.dtype)
    both = torch.cat([source, target], dim=1)  # (B, 2, S, S): one grid moves both
    grid = F.affine_grid(theta, list(both.shape), align_corners=False)
    moved = F.grid_sample(both, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return moved[:, :1], moved[:, 1:]
