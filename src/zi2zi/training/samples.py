"""Sample grids: what the generator makes of a fixed set of validation characters, as one PNG.

Each cell is ``source | generated | target``; rows run down, and a long list wraps into further
column groups. Images come in the model convention ([-1, 1], +1 = paper) and are mapped back to
0..255 before saving (zi2zi-pytorch saved the raw tensors, so its samples came out wrong).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from zi2zi.grid import glyph_grid
from zi2zi.images import save_png, to_uint8

SEPARATOR = 2  # px of mid-grey between cells, so paper-white images stay apart
MAX_ROWS = 16  # rows per column group before wrapping


def sample_grid(source: torch.Tensor, generated: torch.Tensor, target: torch.Tensor) -> np.ndarray:
    """One uint8 (H, W) image of ``source | generated | target`` triplets, one per input row."""
    if not (source.shape == generated.shape == target.shape) or source.ndim != 4:
        raise ValueError(
            f"sample_grid needs three (B, 1, S, S) tensors of one shape; got "
            f"{tuple(source.shape)}, {tuple(generated.shape)}, {tuple(target.shape)}"
        )
    triples = list(zip(*(to_uint8(t) for t in (source, generated, target))))
    # Mid-grey separators between the images of a cell and around it, and a double one between
    # column groups.
    return np.asarray(glyph_grid(triples, per_line=max(1, min(len(triples), MAX_ROWS)), gap=(2 * SEPARATOR, SEPARATOR),
                                 inner_gap=SEPARATOR, margin=SEPARATOR, background=128, down_first=True))


def save_sample_grid(
    path: str | Path, source: torch.Tensor, generated: torch.Tensor, target: torch.Tensor
) -> Path:
    """Write the grid as a PNG, atomically."""
    path = Path(path)
    return save_png(Path(path), sample_grid(source, generated, target))


def pick_sample_indices(style_ids: np.ndarray, per_style: int, *, max_styles: int = 8, seed: int = 0) -> np.ndarray:
    """A fixed, seeded choice of ``per_style`` items for each of up to ``max_styles`` styles."""
    rng = np.random.default_rng(seed)
    chosen = []
    for style in np.unique(style_ids)[:max_styles]:
        idx = np.flatnonzero(style_ids == style)
        chosen.extend(sorted(rng.choice(idx, size=min(per_style, len(idx)), replace=False).tolist()))
    return np.asarray(chosen, dtype=np.int64)
